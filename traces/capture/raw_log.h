// The raw log that librecord.so writes and `workbench record` converts into
// a trace (see traces/capture/DESIGN.md). One file per process image,
// `raw.<pid>.<init_ns>.log` in $WORKBENCH_RECORD_DIR: a RawLogHeader, the
// image's executable path and command line, then chunks in the order
// threads flushed them. A chunk is a RawChunk and the words of one thread's
// buffer, in the order that thread made them; the converter merges the
// threads by order key. Plain structs in native byte order: the log
// never leaves the machine that wrote it.
#ifndef TRACES_CAPTURE_RAW_LOG_H_
#define TRACES_CAPTURE_RAW_LOG_H_

#include <cstdint>

namespace capture {

inline constexpr std::uint64_t kRawLogMagic = 0x32474f4c57415257;  // "WRAWLOG2"

// Environment variables shared by `workbench record` and librecord.so.
inline constexpr const char* kDirEnv = "WORKBENCH_RECORD_DIR";        // Where logs go.
inline constexpr const char* kRootPidEnv = "WORKBENCH_RECORD_ROOT";   // The recorded pid.
inline constexpr const char* kFollowEnv = "WORKBENCH_RECORD_FOLLOW";  // "1": other pids too.
inline constexpr const char* kSitesEnv = "WORKBENCH_RECORD_SITES";    // "1": record call sites.

struct RawLogHeader {
  std::uint64_t magic = kRawLogMagic;
  std::uint32_t pid = 0;
  std::uint32_t ppid = 0;
  std::uint64_t init_mono_ns = 0;  // CLOCK_MONOTONIC when the image started recording.
  std::uint64_t init_real_ns = 0;  // CLOCK_REALTIME at the same moment.
  std::uint32_t page_size = 0;
  std::uint32_t exe_bytes = 0;      // Bytes of the executable's path that follow.
  std::uint32_t cmdline_bytes = 0;  // Bytes of /proc/self/cmdline that follow (NUL-separated).
  std::uint32_t forked = 0;         // 1: a fork child (it inherited its parent's heap).
  // The record clock (the TSC on x86-64, CLOCK_MONOTONIC elsewhere) at
  // init_mono_ns, and where order key 0 is on it (a fork child keeps its
  // parent's keys, so this is the first image's start).
  std::uint64_t init_ticks = 0;
  std::uint64_t key_base_ticks = 0;
};

// Order keys. Each event has a key, larger than its thread's previous key,
// than the key of the event it depends on (the block's allocation or last
// realloc; the last free at the address), and than the record clock's
// reading (in units of 2^kKeyTickShift ticks, from key_base_ticks) when
// the thread last read it. The converter orders events by (key, buffer).
inline constexpr int kKeyTickShift = 4;
inline constexpr int kBufferBits = 16;  // Buffers 1..65535; 0 marks a tombstone.
inline constexpr int kKeyBits = 64 - kBufferBits;

// A block's raw id: the key and buffer of the event that made it (an alloc,
// or a realloc, in place or not). Unique: keys only grow within a buffer,
// across the threads that use it in turn and across fork.
constexpr std::uint64_t RawId(std::uint64_t key, std::uint32_t buffer) {
  return key << kBufferBits | buffer;
}
constexpr std::uint64_t KeyOf(std::uint64_t raw_id) { return raw_id >> kBufferBits; }
constexpr std::uint32_t BufferOf(std::uint64_t raw_id) {
  return std::uint32_t(raw_id & ((1u << kBufferBits) - 1));
}

// The records are 64-bit words: a kind (bits 3..0), a key delta (15..4:
// the event's key minus the previous event's in the chunk) and a payload
// (63..16). An event is one word of a main kind, in the common case, with
// continuation words for what does not fit: kKey before it, the others
// after it.
enum class RawKind : std::uint8_t {
  // Main kinds. kAlloc: flavour (payload bits 3..0) and size (47..4). Its
  // raw id is RawId(key, buffer).
  kAlloc = 0,
  // kFree, kRealloc, kUsableSize (malloc_usable_size: information only):
  // a reference to the block's raw id: its buffer (15..0) and its age, key
  // minus the block's key (46..16; 0: a kBlockKey follows). kRealloc: moved
  // (47) and always a kSize; the block's new raw id is RawId(key, buffer).
  kFree = 1,
  kRealloc = 2,
  kUsableSize = 3,
  // Continuations.
  kKey = 4,       // The next event's key is this payload plus its delta.
  kSize = 5,      // The event's size (a realloc's, or one of 2^44 bytes or more).
  kAlign = 6,     // The event's alignment code: log2(alignment) + 1.
  kBlockKey = 7,  // The key of the block's raw id.
  kSite = 8,      // The event's call site.
};

inline constexpr int kDeltaBits = 12;
inline constexpr std::uint64_t kMaxDelta = (std::uint64_t{1} << kDeltaBits) - 1;
inline constexpr int kSizeBits = 44;  // In a kAlloc word.
inline constexpr int kAgeBits = 31;   // In a block reference.
inline constexpr int kMaxEventWords = 6;

constexpr std::uint64_t RawWord(RawKind kind, std::uint64_t delta, std::uint64_t payload) {
  return payload << 16 | delta << 4 | std::uint64_t(kind);
}
constexpr RawKind WordKind(std::uint64_t word) { return RawKind(word & 15); }
constexpr std::uint64_t WordDelta(std::uint64_t word) { return (word >> 4) & kMaxDelta; }
constexpr std::uint64_t WordPayload(std::uint64_t word) { return word >> 16; }

// One event, as the recorder sees it.
struct RawEvent {
  RawKind kind = RawKind::kAlloc;
  std::uint64_t key = 0;
  std::uint64_t size = 0;   // kAlloc, kRealloc.
  std::uint64_t block = 0;  // kFree, kRealloc, kUsableSize: the block's raw id.
  std::uint64_t site = 0;
  std::uint8_t flavour = 0;
  std::uint8_t align_code = 0;
  bool moved = false;
};

// Encodes `e` at `w` (room for kMaxEventWords), its delta counted from
// `last_key` (the chunk's base key or the previous event's key), with its
// site if `sites`; returns the end. Inlined into each hook, where the kind
// is known: a plain malloc or free is one word, and the branches go one
// way (delta, size and age in range).
__attribute__((always_inline)) inline std::uint64_t* EncodeRawEvent(std::uint64_t* w,
                                                                    std::uint64_t last_key,
                                                                    const RawEvent& e, bool sites) {
  std::uint64_t delta = e.key - last_key;
  if (delta > kMaxDelta) [[unlikely]] {
    *w++ = RawWord(RawKind::kKey, 0, e.key);
    delta = 0;
  }
  bool big = false, old = false;
  if (e.kind == RawKind::kAlloc) {
    big = e.size >> kSizeBits != 0;
    *w++ = RawWord(e.kind, delta, (big ? 0 : e.size) << 4 | e.flavour);
  } else {
    const std::uint64_t age = e.key - KeyOf(e.block);
    old = age >> kAgeBits != 0;
    *w++ = RawWord(e.kind, delta,
                   std::uint64_t(e.moved) << 47 | (old ? 0 : age) << 16 | BufferOf(e.block));
  }
  if (old) [[unlikely]]
    *w++ = RawWord(RawKind::kBlockKey, 0, KeyOf(e.block));
  if (big || e.kind == RawKind::kRealloc) *w++ = RawWord(RawKind::kSize, 0, e.size);
  if (e.align_code != 0) *w++ = RawWord(RawKind::kAlign, 0, e.align_code);
  if (sites) *w++ = RawWord(RawKind::kSite, 0, e.site);
  return w;
}

// Written before each flush of a thread's buffer; `words` follow.
struct RawChunk {
  std::uint32_t tid = 0;     // Kernel thread id of the buffer's owner.
  std::uint32_t buffer = 0;  // The low bits of the raw ids it made.
  std::uint32_t words = 0;
  std::uint32_t reserved = 0;
  std::uint64_t base_key = 0;  // Its first delta counts from here.
  // A clock calibration point: CLOCK_MONOTONIC and the record clock together.
  std::uint64_t mono_ns = 0;
  std::uint64_t ticks = 0;
};
static_assert(sizeof(RawChunk) == 40);

}  // namespace capture

#endif  // TRACES_CAPTURE_RAW_LOG_H_
