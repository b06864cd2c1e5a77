#include "replay/engine.h"

#include <time.h>

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "replay/mmap_allocator.h"

namespace replay {
namespace {

constexpr std::size_t kDefaultAlignment = 16;  // malloc's guarantee.
constexpr std::size_t kMaxExamples = 10;
constexpr std::size_t kMaxTombstones = std::size_t{1} << 22;

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Block {
  void* p;
  std::uint64_t size;  // As the trace asked; the subject got at least 1 byte.
  std::uint64_t alignment;
};

// What the subject is asked for: malloc(0) still returns a unique block.
inline std::uint64_t SubjectSize(std::uint64_t size) { return std::max<std::uint64_t>(size, 1); }

template <typename V>
using IdMap =
    absl::flat_hash_map<std::uint64_t, V, absl::Hash<std::uint64_t>, std::equal_to<std::uint64_t>,
                        MmapAllocator<std::pair<const std::uint64_t, V>>>;

// The pattern --verify writes: a function of the id and the offset.
inline std::uint64_t PatternWord(std::uint64_t id, std::uint64_t word) {
  return (id * 0x9E3779B97F4A7C15ull) ^ (word * 0xC2B2AE3D27D4EB4Full);
}

void FillPattern(void* p, std::uint64_t size, std::uint64_t id) {
  auto* bytes = static_cast<unsigned char*>(p);
  for (std::uint64_t i = 0; i < size; i += 8) {
    const std::uint64_t w = PatternWord(id, i / 8);
    std::memcpy(bytes + i, &w, std::min<std::uint64_t>(8, size - i));
  }
}

// The first offset where the pattern differs, or `size`.
std::uint64_t PatternMismatch(const void* p, std::uint64_t size, std::uint64_t id) {
  const auto* bytes = static_cast<const unsigned char*>(p);
  for (std::uint64_t i = 0; i < size; i += 8) {
    const std::uint64_t w = PatternWord(id, i / 8);
    const std::uint64_t n = std::min<std::uint64_t>(8, size - i);
    if (std::memcmp(bytes + i, &w, n) != 0) {
      for (std::uint64_t j = 0; j < n; ++j) {
        if (bytes[i + j] != reinterpret_cast<const unsigned char*>(&w)[j]) return i + j;
      }
    }
  }
  return size;
}

std::string Address(const void* p) {
  return absl::StrCat("0x", absl::Hex(reinterpret_cast<std::uintptr_t>(p)));
}

std::uint64_t AlignmentOf(const Event& e) {
  if (e.alignment != 0) return std::max<std::uint64_t>(e.alignment, kDefaultAlignment);
  if (e.flavour == Flavour::kValloc || e.flavour == Flavour::kPvalloc) return 4096;
  return kDefaultAlignment;
}

// The replay of one trace: the engine's state and the event handlers.
class Replayer {
 public:
  Replayer(Subject* subject, const EngineOptions& options, TraceReader& reader,
           ReplayResult* result)
      : subject_(subject), options_(options), reader_(reader), result_(result) {}

  absl::Status Run() {
    std::vector<Event> batch;
    for (;;) {
      if (absl::Status s = reader_.Next(&batch); !s.ok()) return s;
      if (batch.empty()) break;
      const std::uint64_t first = reader_.events_read() - batch.size();
      const double start = Now();
      absl::Status status = absl::OkStatus();
      for (std::size_t i = 0; i < batch.size() && status.ok(); ++i) {
        index_ = first + i;
        status = Dispatch(batch[i]);
        ++result_->events;
        if (index_ >= next_sample_) TakeSample();
      }
      result_->seconds += Now() - start;
      if (!status.ok()) return status;
    }
    TakeSample();
    return absl::OkStatus();
  }

  void Finish() {
    result_->live = live_;
    result_->final_footprint = subject_->Footprint();
    result_->counters = subject_->Counters();
  }

  // Frees every block still live, so the subject ends empty.
  void FreeAll() {
    for (auto& [id, block] : blocks_)
      subject_->Free(block.p, SubjectSize(block.size), block.alignment);
    blocks_.clear();
  }

 private:
  absl::Status Dispatch(const Event& e) {
    ++result_->per_kind[static_cast<int>(e.kind)];
    switch (e.kind) {
      case EventKind::kAlloc:
        return Allocate(e.id, e.size, AlignmentOf(e), e.flavour == Flavour::kCalloc);
      case EventKind::kFree:
        return Free(e.id);
      case EventKind::kRealloc:
        return Reallocate(e);
      case EventKind::kStore:
      case EventKind::kRootAdd:
      case EventKind::kRootRemove:
      case EventKind::kDeath:
      case EventKind::kCollect:
        // Manual subjects have no use for the collector's events.
        return absl::OkStatus();
    }
    return Semantic(absl::StrCat("unknown event kind ", static_cast<int>(e.kind)));
  }

  // A semantic error: stop, or (lenient) count, remember and go on.
  absl::Status Semantic(const std::string& what) {
    const std::string message = absl::StrCat(reader_.path(), ": event ", index_, ": ", what);
    if (!options_.lenient) return absl::InvalidArgumentError(message);
    ++result_->skipped;
    if (result_->skipped_examples.size() < kMaxExamples) {
      result_->skipped_examples.push_back(message);
    }
    return absl::OkStatus();
  }

  absl::Status Fatal(absl::StatusCode code, const std::string& what) {
    return absl::Status(code, absl::StrCat(reader_.path(), ": event ", index_, ": ", what));
  }

  std::string NotLive(std::uint64_t id) const {
    auto it = tombstones_.find(id);
    if (it != tombstones_.end()) {
      return absl::StrCat("id ", id, " is not live: it was freed at event ", it->second,
                          " (a double free)");
    }
    return absl::StrCat("id ", id, " is not live: no allocation with this id is outstanding");
  }

  absl::Status Allocate(std::uint64_t id, std::uint64_t size, std::uint64_t alignment, bool zero) {
    if (size > options_.max_size) {
      return Semantic(absl::StrCat("allocation of ", size, " bytes for id ", id,
                                   " exceeds the sane bound of ", options_.max_size, " bytes"));
    }
    if ((alignment & (alignment - 1)) != 0) {
      return Semantic(
          absl::StrCat("alignment ", alignment, " for id ", id, " is not a power of two"));
    }
    auto [it, inserted] = blocks_.try_emplace(id);
    if (!inserted) {
      return Semantic(absl::StrCat("allocation of id ", id, ", which is already live"));
    }
    void* p = subject_->Allocate(SubjectSize(size), alignment);
    if (p == nullptr) {
      blocks_.erase(it);
      return Fatal(absl::StatusCode::kResourceExhausted,
                   absl::StrCat(subject_->name(), " failed: ", subject_->FailureReason()));
    }
    if ((reinterpret_cast<std::uintptr_t>(p) & (alignment - 1)) != 0) {
      blocks_.erase(it);
      return Fatal(
          absl::StatusCode::kInternal,
          absl::StrCat(subject_->name(), " returned ", Address(p), " for alignment ", alignment));
    }
    if (zero) std::memset(p, 0, size);
    if (options_.verify) FillPattern(p, size, id);
    it->second = Block{p, size, alignment};
    live_ += size;
    NoteGrowth();
    return absl::OkStatus();
  }

  // Checks a block's pattern before it is freed or moved.
  absl::Status Verify(std::uint64_t id, const Block& block) {
    const std::uint64_t at = PatternMismatch(block.p, block.size, id);
    if (at == block.size) return absl::OkStatus();
    return Fatal(absl::StatusCode::kDataLoss,
                 absl::StrCat("block of id ", id, " (", block.size, " bytes at ", Address(block.p),
                              ") was overwritten at offset ", at, " while it was live in ",
                              subject_->name()));
  }

  absl::Status Free(std::uint64_t id) {
    auto it = blocks_.find(id);
    if (it == blocks_.end()) return Semantic(absl::StrCat("free of ", NotLive(id)));
    const Block block = it->second;
    if (options_.verify) {
      if (absl::Status s = Verify(id, block); !s.ok()) return s;
    }
    subject_->Free(block.p, SubjectSize(block.size), block.alignment);
    live_ -= block.size;
    blocks_.erase(it);
    Bury(id);
    return absl::OkStatus();
  }

  absl::Status Reallocate(const Event& e) {
    auto it = blocks_.find(e.id);
    if (it == blocks_.end()) return Semantic(absl::StrCat("realloc of ", NotLive(e.id)));
    if (e.size > options_.max_size) {
      return Semantic(absl::StrCat("realloc of id ", e.id, " to ", e.size,
                                   " bytes exceeds the sane bound of ", options_.max_size,
                                   " bytes"));
    }
    if (e.new_id != e.id && blocks_.contains(e.new_id)) {
      return Semantic(absl::StrCat("realloc to id ", e.new_id, ", which is already live"));
    }
    const Block old = it->second;
    if (options_.verify) {
      if (absl::Status s = Verify(e.id, old); !s.ok()) return s;
    }
    void* p = subject_->Allocate(SubjectSize(e.size), old.alignment);
    if (p == nullptr) {
      return Fatal(absl::StatusCode::kResourceExhausted,
                   absl::StrCat(subject_->name(), " failed: ", subject_->FailureReason()));
    }
    std::memcpy(p, old.p, std::min(old.size, e.size));
    subject_->Free(old.p, SubjectSize(old.size), old.alignment);
    blocks_.erase(it);
    if (e.new_id != e.id) Bury(e.id);
    blocks_[e.new_id] = Block{p, e.size, old.alignment};
    if (options_.verify) FillPattern(p, e.size, e.new_id);
    live_ = live_ - old.size + e.size;
    NoteGrowth();
    return absl::OkStatus();
  }

  // After live bytes grew: track the peaks, and live at peak footprint.
  void NoteGrowth() {
    result_->peak_live = std::max(result_->peak_live, live_);
    const std::uint64_t footprint = subject_->Footprint();
    if (footprint > result_->peak_footprint) {
      result_->peak_footprint = footprint;
      result_->live_at_peak_footprint = live_;
    }
  }

  void Bury(std::uint64_t id) {
    if (tombstones_.size() >= kMaxTombstones) tombstones_.clear();
    tombstones_[id] = index_;
  }

  void TakeSample() {
    result_->series.push_back(Sample{index_, live_, subject_->Footprint()});
    if (result_->series.size() >= 2 * std::max<std::size_t>(options_.samples, 1)) {
      // Keep every other sample and sample half as often from now on.
      std::size_t kept = 0;
      for (std::size_t i = 0; i < result_->series.size(); i += 2) {
        result_->series[kept++] = result_->series[i];
      }
      result_->series.resize(kept);
      interval_ *= 2;
    }
    next_sample_ = index_ + interval_;
  }

  Subject* subject_;
  const EngineOptions& options_;
  TraceReader& reader_;
  ReplayResult* result_;
  IdMap<Block> blocks_;
  // Recently freed ids -> event index, for the double-free message. Only
  // consulted for ids that are not live, so a reused id needs no erasing:
  // its next free overwrites the entry.
  IdMap<std::uint64_t> tombstones_;
  std::uint64_t index_ = 0;
  std::uint64_t live_ = 0;
  std::uint64_t interval_ = 1;
  std::uint64_t next_sample_ = 0;
};

}  // namespace

double ReplayResult::fragmentation_at_peak() const {
  return live_at_peak_footprint == 0
             ? 0
             : static_cast<double>(peak_footprint) / static_cast<double>(live_at_peak_footprint) -
                   1;
}

double ReplayResult::peak_to_peak_fragmentation() const {
  return peak_live == 0 ? 0
                        : static_cast<double>(peak_footprint) / static_cast<double>(peak_live) - 1;
}

absl::Status Engine::Replay(TraceReader& reader, ReplayResult* result) {
  result->subject = subject_->name();
  Replayer replayer(subject_, options_, reader, result);
  absl::Status status = replayer.Run();
  replayer.Finish();
  replayer.FreeAll();
  return status;
}

}  // namespace replay
