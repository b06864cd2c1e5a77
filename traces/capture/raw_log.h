// The raw log that librecord.so writes and `workbench record` converts into
// a trace (see traces/capture/DESIGN.md). One file per process image,
// `raw.<pid>.<init_ns>.log` in $WORKBENCH_RECORD_DIR: a RawLogHeader, the
// image's executable path and command line, then RawRecords in the order
// threads flushed them (each thread's records in sequence order; the
// converter merges by `seq`). Plain structs in native byte order: the log
// never leaves the machine that wrote it.
#ifndef TRACES_CAPTURE_RAW_LOG_H_
#define TRACES_CAPTURE_RAW_LOG_H_

#include <cstdint>

namespace capture {

inline constexpr std::uint64_t kRawLogMagic = 0x31474f4c57415257;  // "WRAWLOG1"

// Environment variables shared by `workbench record` and librecord.so.
inline constexpr const char* kDirEnv = "WORKBENCH_RECORD_DIR";        // Where logs go.
inline constexpr const char* kRootPidEnv = "WORKBENCH_RECORD_ROOT";   // The recorded pid.
inline constexpr const char* kFollowEnv = "WORKBENCH_RECORD_FOLLOW";  // "1": other pids too.

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
  std::uint64_t init_ticks = 0;     // The record clock (see RawRecord::ticks) at init_mono_ns.
};

enum class RawKind : std::uint8_t {
  kAlloc = 0,       // new_id, size, flavour, alignment.
  kFree = 1,        // id.
  kRealloc = 2,     // id (old), new_id (== id when in place), size.
  kUsableSize = 3,  // malloc_usable_size(id's block): information only.
  // A clock calibration point, written before each flush: `ticks` holds
  // CLOCK_MONOTONIC and `size` the record clock at the same moment.
  kClock = 4,
};

struct RawRecord {
  std::uint64_t seq;  // Global order within the process (an atomic counter).
  // The record clock: the TSC on x86-64 (a few ns to read, against ~20 for
  // clock_gettime), CLOCK_MONOTONIC elsewhere. The converter maps it to ns
  // through the kClock records. kClock records: CLOCK_MONOTONIC.
  std::uint64_t ticks;
  std::uint64_t id;    // FREE, REALLOC (old), USABLE_SIZE: the block's id.
  std::uint64_t size;  // ALLOC, REALLOC: bytes asked for.
  std::uint64_t site;  // Return address of the hooked call.
  std::uint32_t tid;   // Kernel thread id.
  RawKind kind;
  std::uint8_t flavour;     // replay::Flavour value (ALLOC).
  std::uint8_t align_log2;  // ALLOC: 0 for the flavour's default, else log2(alignment) + 1.
  std::uint8_t moved;       // REALLOC: 1 if the block moved (its new id is seq).
};
static_assert(sizeof(RawRecord) == 48);

}  // namespace capture

#endif  // TRACES_CAPTURE_RAW_LOG_H_
