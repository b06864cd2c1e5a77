// Statistics of one trace (`workbench stats`): counts per kind and flavour,
// allocation calls and bytes, size and lifetime histograms, peak live bytes
// and where it happened, what is live at the end, threads and time span.
// The trace is streamed with TraceReader, so memory is bounded except for
// the table of live ids. Semantic errors (free of an unknown id, double free,
// …) are found as the replay engine (replay/engine.cc) finds them, with the
// same messages (except that only the last 64K freed ids are remembered to
// call a second free a double free): the first one is the error, or with
// `lenient` each is counted and the event skipped.
#ifndef REPLAY_TRACE_STATS_H_
#define REPLAY_TRACE_STATS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay/event.h"

namespace replay {

struct TraceStatsOptions {
  bool lenient = false;
  // Larger ALLOC / REALLOC sizes are semantic errors (as EngineOptions).
  std::uint64_t max_size = std::uint64_t{1} << 40;
};

// Power-of-two buckets: bucket b holds the values v with std::bit_width(v)
// == b, i.e. bucket 0 is {0}, bucket 1 is {1}, bucket b is [2^(b-1), 2^b).
inline constexpr int kHistogramBuckets = 65;
using Histogram = std::array<std::uint64_t, kHistogramBuckets>;
int HistogramBucket(std::uint64_t value);
// "0", "1", "2-3", "4-7", …, "2^63-2^64-1" style labels: "lo-hi".
std::string HistogramLabel(int bucket);

struct TraceStats {
  std::uint64_t events = 0;
  std::uint64_t per_kind[kEventKindCount] = {};
  std::uint64_t per_flavour[kFlavourCount] = {};  // Of ALLOC events.
  // Calls that returned a block, as heaptrack counts "calls to allocation
  // functions": every ALLOC and every REALLOC.
  std::uint64_t allocation_calls = 0;
  std::uint64_t bytes_allocated = 0;  // Sum of ALLOC and REALLOC sizes (mod 2^64).
  Histogram sizes{};                  // ALLOC and REALLOC sizes.
  // A block lives from the ALLOC or REALLOC that made it to the FREE or
  // REALLOC that ended it; its lifetime is the difference of the two event
  // indices (at least 1). Blocks still live at the end are counted apart.
  Histogram lifetimes{};
  std::uint64_t blocks_started = 0;
  std::uint64_t blocks_ended = 0;
  std::uint64_t live_blocks_at_end = 0;
  std::uint64_t live_bytes_at_end = 0;
  std::uint64_t peak_live_bytes = 0;   // Requested bytes.
  std::uint64_t peak_live_event = 0;   // Index of the event that first reached it.
  std::uint64_t peak_live_blocks = 0;  // Live blocks at that moment.
  std::uint64_t threads = 0;           // Distinct thread values.
  std::uint64_t first_time_ns = 0;     // Smallest and largest event time.
  std::uint64_t last_time_ns = 0;
  std::uint64_t skipped = 0;                  // Semantic errors skipped (lenient).
  std::vector<std::string> skipped_examples;  // The first few, in full.

  // The invariants that tie the counts together; "" or the first broken one.
  std::string Check() const;
};

absl::StatusOr<TraceStats> ComputeTraceStats(const std::string& path,
                                             const TraceStatsOptions& options = {});

}  // namespace replay

#endif  // REPLAY_TRACE_STATS_H_
