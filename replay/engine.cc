#include "replay/engine.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "replay/block_pattern.h"
#include "replay/clock.h"
#include "replay/gc_mutator.h"
#include "replay/id_table.h"
#include "replay/mmap_allocator.h"

namespace replay {
namespace {

constexpr std::size_t kDefaultAlignment = 16;  // malloc's guarantee.
constexpr std::size_t kMaxExamples = 10;
constexpr std::size_t kPrefetchDistance = 16;  // Events ahead whose id slot is prefetched.

// What the subject is asked for: malloc(0) still returns a unique block.
inline std::uint64_t SubjectSize(std::uint64_t size) { return std::max<std::uint64_t>(size, 1); }

std::string Address(const void* p) {
  return absl::StrCat("0x", absl::Hex(reinterpret_cast<std::uintptr_t>(p)));
}

std::uint64_t AlignmentOf(const Event& e) {
  if (e.alignment != 0) return std::max<std::uint64_t>(e.alignment, kDefaultAlignment);
  if (e.flavour == Flavour::kValloc || e.flavour == Flavour::kPvalloc) return 4096;
  return kDefaultAlignment;
}

// What a block must be aligned to. Beyond an explicit alignment, malloc
// only promises what any object that fits needs: jemalloc, mimalloc and
// tcmalloc hand out 8-byte blocks on 8-byte boundaries.
std::uint64_t GuaranteedAlignment(std::uint64_t size, std::uint64_t alignment) {
  if (alignment > kDefaultAlignment) return alignment;
  return std::min(alignment, std::bit_floor(std::max<std::uint64_t>(size, 1)));
}

// The replay of one trace: the engine's state and the event handlers.
class Replayer {
 public:
  Replayer(Subject* subject, const EngineOptions& options, EventSource& source,
           ReplayResult* result)
      : subject_(subject),
        options_(options),
        source_(source),
        result_(result),
        cheap_footprint_(subject->FootprintIsCheap()) {
    if (GcSubject* gc = subject->AsGc()) {
      gc_ = std::make_unique<GcMutator>(gc, &blocks_, options.verify, options.on_pause);
    }
  }

  absl::Status Run() {
    absl::Span<const Event> batch;
    std::uint64_t first = 0;
    for (;;) {
      if (absl::Status s = source_.Next(&batch, &first); !s.ok()) return s;
      if (batch.empty()) break;
      const double start = MonotonicSeconds();
      absl::Status status = absl::OkStatus();
      for (std::size_t i = 0; i < batch.size() && status.ok(); ++i) {
        if (i + kPrefetchDistance < batch.size()) blocks_.Prefetch(batch[i + kPrefetchDistance].id);
        index_ = first + i;
        status = Dispatch(batch[i]);
        ++result_->events;
        if (index_ >= next_sample_) TakeSample();
      }
      result_->seconds += MonotonicSeconds() - start - probe_seconds_;
      probe_seconds_ = 0;
      if (!status.ok()) return status;
    }
    TakeSample();
    return absl::OkStatus();
  }

  void Finish() {
    result_->live = live_;
    result_->final_footprint = subject_->Footprint();
    result_->counters = subject_->Counters();
    if (gc_ != nullptr) {
      const GcMetrics m = gc_->Metrics();
      result_->collections = m.collections;
      result_->gc_seconds = m.gc_seconds;
      result_->max_pause = m.max_pause;
      result_->p99_pause = m.p99_pause;
      result_->mmu_10ms = m.mmu_10ms;
      result_->mmu_50ms = m.mmu_50ms;
      // Live data is only known after a collection: its survivors. (The
      // live series and live-at-peak-footprint are the heap's occupancy.)
      result_->peak_live = m.peak_survivors;
    }
    result_->series.assign(series_.begin(), series_.end());
  }

  // Frees every block still live, so the subject ends empty.
  void FreeAll() {
    blocks_.DrainLive([this](std::uint64_t, const Block& block) {
      if (gc_ == nullptr) subject_->Free(block.p(), SubjectSize(block.size()), block.alignment());
    });
  }

  const IdTable& blocks() const { return blocks_; }
  const std::uint64_t& live() const { return live_; }

 private:
  absl::Status Dispatch(const Event& e) {
    ++result_->per_kind[static_cast<int>(e.kind)];
    if (gc_ != nullptr) return DispatchGc(e);
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

  // A GC trace into a collecting subject: the mutator's events.
  absl::Status DispatchGc(const Event& e) {
    absl::Status status;
    switch (e.kind) {
      case EventKind::kAlloc:
        status = gc_->Alloc(e, index_);
        break;
      case EventKind::kStore:
        status = gc_->Store(e, index_);
        break;
      case EventKind::kRootAdd:
        status = gc_->RootAdd(e, index_);
        break;
      case EventKind::kRootRemove:
        status = gc_->RootRemove(e, index_);
        break;
      case EventKind::kCollect:
        status = gc_->Collect(index_);
        break;
      case EventKind::kDeath:
        return absl::OkStatus();  // An oracle's note: collectors find out for themselves.
      case EventKind::kFree:
      case EventKind::kRealloc:
        return Semantic(absl::StrCat(EventKindName(e.kind), " of id ", e.id,
                                     " in a replay through ", subject_->name(),
                                     ", which collects: GC traces free nothing"));
    }
    live_ = gc_->occupancy();
    if (e.kind == EventKind::kAlloc && status.ok()) NoteGrowth();
    if (status.ok()) return status;
    if (status.code() == absl::StatusCode::kInvalidArgument) {
      return Semantic(std::string(status.message()));
    }
    return Fatal(status.code(), std::string(status.message()));
  }

  // A semantic error: stop, or (lenient) count, remember and go on.
  absl::Status Semantic(const std::string& what) {
    const std::string message = absl::StrCat(source_.name(), ": event ", index_, ": ", what);
    if (!options_.lenient) return absl::InvalidArgumentError(message);
    ++result_->skipped;
    if (result_->skipped_examples.size() < kMaxExamples) {
      result_->skipped_examples.push_back(message);
    }
    return absl::OkStatus();
  }

  absl::Status Fatal(absl::StatusCode code, const std::string& what) {
    return absl::Status(code, absl::StrCat(source_.name(), ": event ", index_, ": ", what));
  }

  std::string NotLive(std::uint64_t id) const {
    if (std::optional<std::uint64_t> freed = blocks_.FreedAt(id)) {
      return absl::StrCat("id ", id, " is not live: it was freed at event ", *freed,
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
    Block* slot = blocks_.Insert(id);
    if (slot == nullptr) {
      return Semantic(absl::StrCat("allocation of id ", id, ", which is already live"));
    }
    void* p = zero ? subject_->AllocateZeroed(SubjectSize(size), alignment)
                   : subject_->Allocate(SubjectSize(size), alignment);
    if (p == nullptr) {
      return Fatal(absl::StatusCode::kResourceExhausted,
                   absl::StrCat(subject_->name(), " failed: ", subject_->FailureReason()));
    }
    if ((reinterpret_cast<std::uintptr_t>(p) & (GuaranteedAlignment(size, alignment) - 1)) != 0) {
      return Fatal(
          absl::StatusCode::kInternal,
          absl::StrCat(subject_->name(), " returned ", Address(p), " for alignment ", alignment));
    }
    if (options_.verify) FillPattern(p, size, id);
    *slot = Block(p, size, alignment);
    live_ += size;
    NoteGrowth();
    return absl::OkStatus();
  }

  // Checks a block's pattern before it is freed or moved.
  absl::Status Verify(std::uint64_t id, const Block& block) {
    const std::uint64_t at = PatternMismatch(block.p(), block.size(), id);
    if (at == block.size()) return absl::OkStatus();
    return Fatal(absl::StatusCode::kDataLoss,
                 absl::StrCat("block of id ", id, " (", block.size(), " bytes at ",
                              Address(block.p()), ") was overwritten at offset ", at,
                              " while it was live in ", subject_->name()));
  }

  absl::Status Free(std::uint64_t id) {
    Block* slot = blocks_.FindLive(id);
    if (slot == nullptr) return Semantic(absl::StrCat("free of ", NotLive(id)));
    const Block block = *slot;
    if (options_.verify) {
      if (absl::Status s = Verify(id, block); !s.ok()) return s;
    }
    subject_->Free(block.p(), SubjectSize(block.size()), block.alignment());
    live_ -= block.size();
    blocks_.Bury(id, slot, index_);
    return absl::OkStatus();
  }

  absl::Status Reallocate(const Event& e) {
    const Block* slot = blocks_.FindLive(e.id);
    if (slot == nullptr) return Semantic(absl::StrCat("realloc of ", NotLive(e.id)));
    if (e.size > options_.max_size) {
      return Semantic(absl::StrCat("realloc of id ", e.id, " to ", e.size,
                                   " bytes exceeds the sane bound of ", options_.max_size,
                                   " bytes"));
    }
    if (e.new_id != e.id && blocks_.FindLive(e.new_id) != nullptr) {
      return Semantic(absl::StrCat("realloc to id ", e.new_id, ", which is already live"));
    }
    const Block old = *slot;
    if (options_.verify) {
      if (absl::Status s = Verify(e.id, old); !s.ok()) return s;
    }
    void* p = subject_->Reallocate(old.p(), SubjectSize(old.size()), SubjectSize(e.size),
                                   old.alignment());
    if (p == nullptr) {
      return Fatal(absl::StatusCode::kResourceExhausted,
                   absl::StrCat(subject_->name(), " failed: ", subject_->FailureReason()));
    }
    // Slots may move when the sparse table grows: look them up afresh.
    if (e.new_id != e.id) blocks_.Bury(e.id, blocks_.FindLive(e.id), index_);
    Block* moved = e.new_id == e.id ? blocks_.FindLive(e.id) : blocks_.Insert(e.new_id);
    *moved = Block(p, e.size, old.alignment());
    if (options_.verify) FillPattern(p, e.size, e.new_id);
    live_ = live_ - old.size() + e.size;
    NoteGrowth();
    return absl::OkStatus();
  }

  // After live bytes grew: track the peaks, and live at peak footprint. A
  // footprint that is costly to read is probed only when live bytes reach a
  // new high by 1/64 (and at every sample), so a peak of footprint that
  // follows one of live bytes is seen to within that much.
  void NoteGrowth() {
    result_->peak_live = std::max(result_->peak_live, live_);
    if (cheap_footprint_) {
      NoteFootprint(subject_->Footprint());
    } else if (live_ >= next_probe_live_) {
      next_probe_live_ = live_ + std::max<std::uint64_t>(live_ / 64, 4096);
      NoteFootprint(ProbeFootprint());
    }
  }

  // The moment of peak footprint is, when the footprint stays at its peak
  // for a while, the one with the most live bytes: an allocator that takes
  // its peak up front (mimalloc's 32 MiB segments) is judged when that
  // memory is best used, not at its first byte.
  void NoteFootprint(std::uint64_t footprint) {
    if (footprint > result_->peak_footprint) {
      result_->peak_footprint = footprint;
      result_->live_at_peak_footprint = live_;
    } else if (footprint == result_->peak_footprint) {
      result_->live_at_peak_footprint = std::max(result_->live_at_peak_footprint, live_);
    }
  }

  // Footprint, with the time taken kept out of the measured time when the
  // probe is not cheap.
  std::uint64_t ProbeFootprint() {
    if (cheap_footprint_) return subject_->Footprint();
    const double start = MonotonicSeconds();
    const std::uint64_t footprint = subject_->Footprint();
    probe_seconds_ += MonotonicSeconds() - start;
    return footprint;
  }

  void TakeSample() {
    const std::uint64_t footprint = ProbeFootprint();
    NoteFootprint(footprint);
    series_.push_back(Sample{index_, live_, footprint});
    if (options_.on_sample) options_.on_sample(index_, live_, footprint);
    if (series_.size() >= 2 * std::max<std::size_t>(options_.samples, 1)) {
      // Keep every other sample and sample half as often from now on.
      std::size_t kept = 0;
      for (std::size_t i = 0; i < series_.size(); i += 2) series_[kept++] = series_[i];
      series_.resize(kept);
      interval_ *= 2;
    }
    next_sample_ = index_ + interval_;
  }

  Subject* subject_;
  const EngineOptions& options_;
  EventSource& source_;
  ReplayResult* result_;
  const bool cheap_footprint_;
  IdTable blocks_;
  // For a collecting subject: the mutator of GC traces (after blocks_,
  // which it holds weakly, so that it goes first).
  std::unique_ptr<GcMutator> gc_;
  std::uint64_t index_ = 0;
  std::uint64_t live_ = 0;
  std::uint64_t interval_ = 1;
  std::uint64_t next_sample_ = 0;
  std::uint64_t next_probe_live_ = 0;
  double probe_seconds_ = 0;  // Costly footprint probes in this batch.
  // Kept off the heap, which may be the allocator under test.
  std::vector<Sample, MmapAllocator<Sample>> series_;
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
  TraceReaderSource source(reader);
  return Replay(source, result);
}

absl::Status Engine::Replay(EventSource& source, ReplayResult* result) {
  result->subject = subject_->name();
  Replayer replayer(subject_, options_, source, result);
  running_ = &replayer.blocks();
  running_live_ = &replayer.live();
  absl::Status status = replayer.Run();
  replayer.Finish();
  replayer.FreeAll();
  running_ = nullptr;
  running_live_ = nullptr;
  return status;
}

std::optional<LiveBlock> Engine::FindBlock(std::uintptr_t p) const {
  if (running_ == nullptr) return std::nullopt;
  const auto found = running_->FindContaining(p);
  if (!found) return std::nullopt;
  return LiveBlock{found->first, found->second.p(), found->second.size()};
}

}  // namespace replay
