#include "replay/trace_stats.h"

#include <algorithm>
#include <bit>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "replay/trace_io.h"

namespace replay {
namespace {

// As the engine: examples kept, and recently freed ids remembered to tell a
// double free from a free of an id never allocated. The engine remembers 4M;
// statistics keep memory small and remember the last 64K (an older double
// free is reported as a free of an id that is not outstanding).
constexpr std::size_t kMaxExamples = 10;
constexpr std::size_t kMaxTombstones = std::size_t{1} << 16;

class StatsBuilder {
 public:
  StatsBuilder(const TraceReader& reader, const TraceStatsOptions& options, TraceStats* stats)
      : reader_(reader), options_(options), stats_(stats) {}

  absl::Status Add(const Event& e) {
    Count(e);
    absl::Status status;
    switch (e.kind) {
      case EventKind::kAlloc:
        status = Allocate(e);
        break;
      case EventKind::kFree:
        status = Free(e);
        break;
      case EventKind::kRealloc:
        status = Reallocate(e);
        break;
      default:  // The collector's events change no block.
        break;
    }
    ++index_;
    return status;
  }

  void Finish() {
    stats_->threads = threads_.size();
    stats_->live_blocks_at_end = live_.size();
    stats_->live_bytes_at_end = live_bytes_;
  }

 private:
  struct Block {
    std::uint64_t size;
    std::uint64_t born;  // Event index.
  };

  // What the file holds, whether or not the event is then applied.
  void Count(const Event& e) {
    if (stats_->events == 0) stats_->first_time_ns = stats_->last_time_ns = e.time_ns;
    stats_->first_time_ns = std::min(stats_->first_time_ns, e.time_ns);
    stats_->last_time_ns = std::max(stats_->last_time_ns, e.time_ns);
    ++stats_->events;
    ++stats_->per_kind[static_cast<int>(e.kind)];
    threads_.insert(e.thread);
    if (e.kind == EventKind::kAlloc) ++stats_->per_flavour[static_cast<int>(e.flavour)];
    if (e.kind == EventKind::kAlloc || e.kind == EventKind::kRealloc) {
      ++stats_->allocation_calls;
      stats_->bytes_allocated += e.size;
      ++stats_->sizes[HistogramBucket(e.size)];
    }
  }

  absl::Status Semantic(const std::string& what) {
    const std::string message = absl::StrCat(reader_.path(), ": event ", index_, ": ", what);
    if (!options_.lenient) return absl::InvalidArgumentError(message);
    ++stats_->skipped;
    if (stats_->skipped_examples.size() < kMaxExamples) {
      stats_->skipped_examples.push_back(message);
    }
    return absl::OkStatus();
  }

  std::string NotLive(std::uint64_t id) const {
    auto it = tombstones_.find(id);
    if (it != tombstones_.end()) {
      return absl::StrCat("id ", id, " is not live: it was freed at event ", it->second,
                          " (a double free)");
    }
    return absl::StrCat("id ", id, " is not live: no allocation with this id is outstanding");
  }

  absl::Status Allocate(const Event& e) {
    if (e.size > options_.max_size) {
      return Semantic(absl::StrCat("allocation of ", e.size, " bytes for id ", e.id,
                                   " exceeds the sane bound of ", options_.max_size, " bytes"));
    }
    if (live_.contains(e.id)) {
      return Semantic(absl::StrCat("allocation of id ", e.id, ", which is already live"));
    }
    Start(e.id, e.size);
    return absl::OkStatus();
  }

  absl::Status Free(const Event& e) {
    auto it = live_.find(e.id);
    if (it == live_.end()) return Semantic(absl::StrCat("free of ", NotLive(e.id)));
    End(it);
    Bury(e.id);
    return absl::OkStatus();
  }

  absl::Status Reallocate(const Event& e) {
    auto it = live_.find(e.id);
    if (it == live_.end()) return Semantic(absl::StrCat("realloc of ", NotLive(e.id)));
    if (e.size > options_.max_size) {
      return Semantic(absl::StrCat("realloc of id ", e.id, " to ", e.size,
                                   " bytes exceeds the sane bound of ", options_.max_size,
                                   " bytes"));
    }
    if (e.new_id != e.id && live_.contains(e.new_id)) {
      return Semantic(absl::StrCat("realloc to id ", e.new_id, ", which is already live"));
    }
    End(it);
    if (e.new_id != e.id) Bury(e.id);
    Start(e.new_id, e.size);
    return absl::OkStatus();
  }

  void Start(std::uint64_t id, std::uint64_t size) {
    live_[id] = Block{size, index_};
    live_bytes_ += size;
    ++stats_->blocks_started;
    if (live_bytes_ > stats_->peak_live_bytes) {
      stats_->peak_live_bytes = live_bytes_;
      stats_->peak_live_event = index_;
      stats_->peak_live_blocks = live_.size();
    }
  }

  void End(absl::flat_hash_map<std::uint64_t, Block>::iterator it) {
    ++stats_->lifetimes[HistogramBucket(index_ - it->second.born)];
    ++stats_->blocks_ended;
    live_bytes_ -= it->second.size;
    live_.erase(it);
  }

  void Bury(std::uint64_t id) {
    if (tombstones_.size() >= kMaxTombstones) tombstones_.clear();
    tombstones_[id] = index_;
  }

  const TraceReader& reader_;
  const TraceStatsOptions& options_;
  TraceStats* stats_;
  std::uint64_t index_ = 0;
  std::uint64_t live_bytes_ = 0;
  absl::flat_hash_map<std::uint64_t, Block> live_;
  absl::flat_hash_map<std::uint64_t, std::uint64_t> tombstones_;
  absl::flat_hash_set<std::uint32_t> threads_;
};

std::uint64_t Sum(const Histogram& h) {
  std::uint64_t sum = 0;
  for (std::uint64_t n : h) sum += n;
  return sum;
}

}  // namespace

int HistogramBucket(std::uint64_t value) { return std::bit_width(value); }

std::string HistogramLabel(int bucket) {
  if (bucket <= 1) return absl::StrCat(bucket);
  const std::uint64_t lo = std::uint64_t{1} << (bucket - 1);
  return absl::StrCat(lo, "-", lo + (lo - 1));
}

std::string TraceStats::Check() const {
  std::uint64_t kinds = 0;
  for (std::uint64_t n : per_kind) kinds += n;
  std::uint64_t flavours = 0;
  for (std::uint64_t n : per_flavour) flavours += n;
  const std::uint64_t allocs = per_kind[static_cast<int>(EventKind::kAlloc)];
  const std::uint64_t reallocs = per_kind[static_cast<int>(EventKind::kRealloc)];
  if (kinds != events) return absl::StrCat("events per kind sum to ", kinds, ", not ", events);
  if (flavours != allocs) return absl::StrCat("flavours sum to ", flavours, ", not ", allocs);
  if (allocation_calls != allocs + reallocs) return "allocation calls != allocs + reallocs";
  if (Sum(sizes) != allocation_calls) return "the size histogram does not sum to the calls";
  if (Sum(lifetimes) != blocks_ended) return "the lifetime histogram does not sum to the ends";
  if (lifetimes[0] != 0) return "a block ended at the event that made it";
  if (blocks_started != blocks_ended + live_blocks_at_end) {
    return absl::StrCat(blocks_started, " blocks started but ", blocks_ended, " ended and ",
                        live_blocks_at_end, " are live");
  }
  if (blocks_started + skipped < allocation_calls) return "fewer blocks started than calls";
  if (peak_live_bytes < live_bytes_at_end) return "live bytes at the end exceed the peak";
  if (peak_live_bytes > 0 && peak_live_event >= events) return "peak after the last event";
  if (peak_live_blocks > blocks_started) return "more blocks live at peak than started";
  if (events > 0 && first_time_ns > last_time_ns) return "time span is negative";
  if (events > 0 && threads == 0) return "events but no threads";
  if (skipped_examples.size() > std::min<std::uint64_t>(skipped, kMaxExamples)) {
    return "more examples than skipped events";
  }
  return "";
}

absl::StatusOr<TraceStats> ComputeTraceStats(const std::string& path,
                                             const TraceStatsOptions& options) {
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = TraceReader::Open(path);
  if (!reader.ok()) return reader.status();
  TraceStats stats;
  StatsBuilder builder(**reader, options, &stats);
  std::vector<Event> batch;
  while (true) {
    if (absl::Status s = (*reader)->Next(&batch); !s.ok()) return s;
    if (batch.empty()) break;
    for (const Event& e : batch) {
      if (absl::Status s = builder.Add(e); !s.ok()) return s;
    }
  }
  builder.Finish();
  return stats;
}

}  // namespace replay
