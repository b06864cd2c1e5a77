// Converts librecord.so's raw logs (raw_log.h) into traces: records merged
// into one total order by sequence number, ids checked against what is live
// (so the trace always replays cleanly), and the header filled from the
// process that wrote the log.
#ifndef TRACES_CAPTURE_CONVERT_H_
#define TRACES_CAPTURE_CONVERT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "traces/capture/raw_log.h"

namespace capture {

// One raw log: which process image wrote it.
struct RawLogInfo {
  std::string path;
  RawLogHeader header;
  std::string exe;                // The image's executable.
  std::vector<std::string> argv;  // Its command line.
};

// The raw logs in `dir`, by pid and then by the time each image started.
absl::StatusOr<std::vector<RawLogInfo>> ListRawLogs(const std::string& dir);

struct ConvertOptions {
  // Give events the call site (return address) as an index, listed in the
  // header's notes as module+offset (from the maps file next to the log).
  bool sites = false;
};

// What one converted trace holds.
struct TraceSummary {
  std::string path;
  std::uint32_t pid = 0;
  std::string program;
  std::uint64_t events = 0;
  std::uint64_t allocs = 0;
  std::uint64_t frees = 0;
  std::uint64_t reallocs = 0;
  std::uint32_t threads = 0;
  std::uint64_t peak_live_bytes = 0;
  // Frees and reallocs of blocks the log never saw allocated (from before
  // recording, or a fork parent's), left out or turned into allocations.
  std::uint64_t unknown_blocks = 0;
  std::uint64_t usable_size_calls = 0;  // malloc_usable_size: information only.
};

// Writes the trace of `log` to `out_path` (compressed if it ends in .zst).
absl::StatusOr<TraceSummary> ConvertRawLog(const RawLogInfo& log, const std::string& out_path,
                                           const ConvertOptions& options);

}  // namespace capture

#endif  // TRACES_CAPTURE_CONVERT_H_
