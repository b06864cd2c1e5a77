// The replay engine: feeds a trace's events through a Subject, keeping the
// object-id -> block table, applying the trace semantics (what a free of an
// unknown id means, what realloc copies), optionally filling and verifying
// block contents, and measuring. See replay/DESIGN.md.
#ifndef REPLAY_ENGINE_H_
#define REPLAY_ENGINE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "replay/event.h"
#include "replay/event_source.h"
#include "replay/subject.h"
#include "replay/trace_io.h"

namespace replay {

class IdTable;

struct EngineOptions {
  // Fill every block with an id-derived pattern; check it on free and
  // realloc, so an overlap or stray write is reported with its event index.
  bool verify = false;
  // Count, skip and report semantically wrong events instead of stopping.
  bool lenient = false;
  // Larger ALLOC / REALLOC sizes are semantic errors.
  std::uint64_t max_size = std::uint64_t{1} << 40;
  // About this many points in the footprint / live time series.
  std::size_t samples = 1000;
  // Told of every sample as it is taken (event, live bytes, footprint), in
  // the replaying thread: how the visualizer draws its charts while the
  // replay runs.
  std::function<void(std::uint64_t event, std::uint64_t live, std::uint64_t footprint)> on_sample =
      nullptr;
  // Told of every collection pause as it ends (the event it came in, its
  // length in seconds), in the replaying thread.
  std::function<void(std::uint64_t event, double seconds)> on_pause = nullptr;
};

// A live block of the replay, as the id table knows it.
struct LiveBlock {
  std::uint64_t id;
  void* p;
  std::uint64_t size;  // As the trace asked.
};

struct Sample {
  std::uint64_t event;
  std::uint64_t live;       // Requested bytes live.
  std::uint64_t footprint;  // Bytes the allocator holds from the OS.
};

struct ReplayResult {
  std::string subject;
  std::uint64_t events = 0;
  std::uint64_t per_kind[kEventKindCount] = {};
  std::uint64_t skipped = 0;                  // Semantic errors skipped (lenient).
  std::vector<std::string> skipped_examples;  // The first few, in full.
  double seconds = 0;                         // Dispatch only: decoding excluded.
  std::uint64_t live = 0;                     // At the end.
  std::uint64_t peak_live = 0;  // Collecting subjects: most bytes surviving a collection.
  std::uint64_t peak_footprint = 0;
  std::uint64_t live_at_peak_footprint = 0;
  std::uint64_t final_footprint = 0;
  std::vector<Sample> series;
  // Collecting subjects: finished collections, time in them, pauses (one
  // per allocation or COLLECT that did collection work), and minimum
  // mutator utilisation over 10 and 50 ms windows. Seconds.
  std::uint64_t collections = 0;
  double gc_seconds = 0;
  double max_pause = 0;
  double p99_pause = 0;
  double mmu_10ms = 1;
  double mmu_50ms = 1;
  std::vector<std::pair<std::string, std::uint64_t>> counters;

  double ns_per_event() const { return events == 0 ? 0 : seconds * 1e9 / events; }
  // Johnstone & Wilson: footprint / live - 1 at the moment of peak
  // footprint (of the moments at the peak, the one with most live bytes),
  // and peak footprint / peak live - 1.
  double fragmentation_at_peak() const;
  double peak_to_peak_fragmentation() const;
};

class Engine {
 public:
  Engine(Subject* subject, EngineOptions options) : subject_(subject), options_(options) {}

  // Replays every event of `reader`. A semantic error (strict mode), an
  // allocation the subject refuses, a verify failure or a reader error stops
  // the replay with a status naming the file and event index; *result then
  // holds what was measured up to there.
  absl::Status Replay(EventSource& source, ReplayResult* result);
  absl::Status Replay(TraceReader& reader, ReplayResult* result);

  // The live block holding address `p`, if any, while Replay runs. Only
  // from a thread that knows the replay is stopped between batches (its
  // EventSource is waiting in Next), as the visualizer's is.
  std::optional<LiveBlock> FindBlock(std::uintptr_t p) const;
  // Likewise: the bytes live now, as the trace asked for them.
  std::uint64_t LiveBytes() const { return running_live_ == nullptr ? 0 : *running_live_; }

 private:
  Subject* subject_;
  EngineOptions options_;
  // The replay's table and live bytes, while it runs.
  const IdTable* running_ = nullptr;
  const std::uint64_t* running_live_ = nullptr;
};

}  // namespace replay

#endif  // REPLAY_ENGINE_H_
