// The raw log that librecord.so writes and `workbench record` converts into
// a trace (see traces/capture/DESIGN.md). One file per process image,
// `raw.<pid>.<init_ns>.log` in $WORKBENCH_RECORD_DIR: a RawLogHeader, the
// image's executable path and command line, then chunks in the order
// threads flushed them. A chunk is a RawChunk and the RawRecords of one
// thread's buffer, in the order that thread made them; the converter merges
// the threads by order key. Plain structs in native byte order: the log
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

enum class RawKind : std::uint8_t {
  kAlloc = 0,       // value: size. Its raw id is RawId(key, buffer).
  kFree = 1,        // value: the block's raw id.
  kRealloc = 2,     // value: the old raw id; a kSize follows. New raw id: RawId(key, buffer).
  kUsableSize = 3,  // value: the block's raw id (malloc_usable_size: information only).
  kSize = 4,        // Continues the record before it: value is its size.
  kSite = 5,        // Continues the event before it: value is its call site.
};

// 16 bytes. `head` packs the key (bits 63..16), the kind (15..12), the
// flavour (11..8), `moved` (7) and the alignment code (6..0: 0 for the
// flavour's default, else log2(alignment) + 1).
struct RawRecord {
  std::uint64_t head;
  std::uint64_t value;

  static constexpr std::uint64_t Head(std::uint64_t key, RawKind kind, std::uint8_t flavour = 0,
                                      bool moved = false, std::uint8_t align_code = 0) {
    return key << 16 | std::uint64_t(kind) << 12 | std::uint64_t(flavour & 15) << 8 |
           std::uint64_t(moved) << 7 | (align_code & 127);
  }
  constexpr std::uint64_t key() const { return head >> 16; }
  constexpr RawKind kind() const { return RawKind((head >> 12) & 15); }
  constexpr std::uint8_t flavour() const { return (head >> 8) & 15; }
  constexpr bool moved() const { return (head >> 7) & 1; }
  constexpr std::uint8_t align_code() const { return head & 127; }
};
static_assert(sizeof(RawRecord) == 16);

// Written before each flush of a thread's buffer; `records` follow.
struct RawChunk {
  std::uint32_t tid = 0;     // Kernel thread id of the buffer's owner.
  std::uint32_t buffer = 0;  // The low bits of the raw ids it made.
  std::uint32_t records = 0;
  std::uint32_t reserved = 0;
  // A clock calibration point: CLOCK_MONOTONIC and the record clock together.
  std::uint64_t mono_ns = 0;
  std::uint64_t ticks = 0;
};
static_assert(sizeof(RawChunk) == 32);

}  // namespace capture

#endif  // TRACES_CAPTURE_RAW_LOG_H_
