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
#include "replay/null_subject.h"

namespace replay {
namespace {

constexpr std::size_t kDefaultAlignment = 16;  // malloc's guarantee.
constexpr std::size_t kMaxExamples = 10;
constexpr std::size_t kPrefetchDistance = 32;  // Events ahead whose id slot is prefetched.

// What the subject is asked for: malloc(0) still returns a unique block.
inline std::uint64_t SubjectSize(std::uint64_t size) { return std::max<std::uint64_t>(size, 1); }

std::string Address(const void* p) {
  return absl::StrCat("0x", absl::Hex(reinterpret_cast<std::uintptr_t>(p)));
}

std::uint64_t AlignmentOf(std::uint64_t alignment, Flavour flavour) {
  if (alignment != 0) return std::max<std::uint64_t>(alignment, kDefaultAlignment);
  if (flavour == Flavour::kValloc || flavour == Flavour::kPvalloc) return 4096;
  return kDefaultAlignment;
}

// What a block must be aligned to. Beyond an explicit alignment, malloc
// only promises what any object that fits needs: jemalloc, mimalloc and
// tcmalloc hand out 8-byte blocks on 8-byte boundaries.
std::uint64_t GuaranteedAlignment(std::uint64_t size, std::uint64_t alignment) {
  if (alignment > kDefaultAlignment) return alignment;
  return std::min(alignment, std::bit_floor(std::max<std::uint64_t>(size, 1)));
}

// The replay of one trace: the engine's state and the event handlers. S is
// the subject's static type: Subject, or a final class whose calls the
// compiler can inline (the null subject), so that the engine's own cost is
// measured without an indirect call per event.
template <typename S>
class Replayer {
 public:
  Replayer(S* subject, const EngineOptions& options, EventSource& source, ReplayResult* result)
      : subject_(subject),
        options_(options),
        source_(source),
        result_(result),
        cheap_footprint_(subject->FootprintIsCheap()),
        verify_(options.verify),
        max_size_(options.max_size) {
    if (GcSubject* gc = subject->AsGc()) {
      gc_ = std::make_unique<GcMutator>(gc, &blocks_, options.verify, options.on_pause);
    }
  }

  absl::Status Run() {
    source_.SkipTimes();  // Replays ignore event times.
    const EventBatch* batch = nullptr;
    for (;;) {
      if (absl::Status s = source_.NextBatch(&batch); !s.ok()) return s;
      if (batch->empty()) break;
      const double start = MonotonicSeconds();
      const bool ok = gc_ != nullptr ? RunGc(*batch) : RunManual(*batch);
      result_->seconds += MonotonicSeconds() - start - probe_seconds_;
      probe_seconds_ = 0;
      if (!ok) return status_;
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
    if (gc_ != nullptr) gc_->DropTableSlots();
    blocks_.DrainLive([this](std::uint64_t, const Block& block) {
      if (gc_ == nullptr) subject_->Free(block.p(), SubjectSize(block.size()), block.alignment());
    });
  }

  const IdTable& blocks() const { return blocks_; }
  const std::uint64_t& live() const { return live_; }

 private:
  // The manual subjects' loop, straight over the columns: the fast path.
  // False (with status_ set) when the replay must stop.
  bool RunManual(const EventBatch& batch) {
    const std::size_t n = batch.size();
    const std::uint32_t* kinds = batch.kinds();
    const std::uint64_t* ids = batch.column(EventBatch::kIds);
    const std::uint64_t* new_ids = batch.column(EventBatch::kNewIds);
    const std::uint64_t* sizes = batch.column(EventBatch::kSizes);
    const std::uint64_t* alignments = batch.column(EventBatch::kAlignments);
    const std::uint32_t* flavours = batch.column(EventBatch::kFlavours);
    auto at = [](const auto* column, std::size_t i) -> std::uint64_t {
      return column != nullptr ? column[i] : 0;
    };
    // Counted here rather than through result_: every event that was
    // dispatched, the failing one too. The common kinds in scalars.
    std::uint64_t allocs = 0, frees = 0, reallocs = 0;
    std::uint64_t others[kEventKindCount + 1] = {};  // The last: unknown kinds.
    Tally tally = LoadTally();
    bool ok = true;
    for (std::size_t i = 0; i < n; ++i) {
      // The slot of an old object is a cache miss: start it early.
      if (ids != nullptr && i + kPrefetchDistance < n) {
        blocks_.Prefetch(ids[i + kPrefetchDistance]);
        blocks_.PrefetchBlock(ids[i + kPrefetchDistance / 2]);
      }
      index_ = batch.first() + i;
      const std::uint32_t kind = kinds[i];
      const std::uint64_t id = at(ids, i);
      switch (static_cast<EventKind>(kind)) {
        case EventKind::kAlloc: {
          ++allocs;
          const auto flavour = static_cast<Flavour>(at(flavours, i));
          ok = Allocate(id, at(sizes, i), AlignmentOf(at(alignments, i), flavour),
                        flavour == Flavour::kCalloc, tally);
          break;
        }
        case EventKind::kFree:
          ++frees;
          ok = Free(id, tally);
          break;
        case EventKind::kRealloc:
          ++reallocs;
          ok = Reallocate(id, at(new_ids, i), at(sizes, i), tally);
          break;
        case EventKind::kStore:
        case EventKind::kRootAdd:
        case EventKind::kRootRemove:
        case EventKind::kDeath:
        case EventKind::kCollect:
          // Manual subjects have no use for the collector's events.
          ++others[kind];
          break;
        default:
          ++others[kEventKindCount];
          ok = Keep(Semantic(absl::StrCat("unknown event kind ", kind)));
          break;
      }
      if (index_ >= next_sample_) [[unlikely]] {
        StoreTally(tally);
        TakeSample();
        tally = LoadTally();
      }
      if (!ok) break;
    }
    StoreTally(tally);
    others[static_cast<int>(EventKind::kAlloc)] = allocs;
    others[static_cast<int>(EventKind::kFree)] = frees;
    others[static_cast<int>(EventKind::kRealloc)] = reallocs;
    for (int k = 0; k < kEventKindCount; ++k) {
      result_->per_kind[k] += others[k];
      result_->events += others[k];
    }
    result_->events += others[kEventKindCount];
    return ok;
  }

  // What the manual loop changes on almost every event, held in locals for
  // a batch: the members and *result_ would be reloaded and stored at each
  // event, as stores through block slots may alias them.
  struct Tally {
    std::uint64_t live;
    std::uint64_t peak_live;
    std::uint64_t peak_footprint;
    std::uint64_t live_at_peak_footprint;
  };
  Tally LoadTally() const {
    return Tally{live_, result_->peak_live, result_->peak_footprint,
                 result_->live_at_peak_footprint};
  }
  void StoreTally(const Tally& t) {
    live_ = t.live;
    result_->peak_live = t.peak_live;
    result_->peak_footprint = t.peak_footprint;
    result_->live_at_peak_footprint = t.live_at_peak_footprint;
  }

  // Collecting subjects: the mutator's events, as rows.
  bool RunGc(const EventBatch& batch) {
    bool ok = true;
    for (std::size_t i = 0; i < batch.size() && ok; ++i) {
      index_ = batch.first() + i;
      const Event e = batch.Row(i);
      if (static_cast<unsigned>(e.kind) < kEventKindCount) {
        ++result_->per_kind[static_cast<int>(e.kind)];
      }
      ok = Keep(DispatchGc(e));
      ++result_->events;
      if (index_ >= next_sample_) TakeSample();
    }
    return ok;
  }

  // Whether to go on after `status`; if not, it is the replay's.
  bool Keep(absl::Status status) {
    if (status.ok()) return true;
    status_ = std::move(status);
    return false;
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
    if (e.kind == EventKind::kAlloc && status.ok()) {
      Tally tally = LoadTally();
      NoteGrowth(tally);
      StoreTally(tally);
    }
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

  // The handlers of the fast path: true to go on, false (status_ set) to
  // stop. What goes wrong is said out of line, so the loop stays small.
  bool Allocate(std::uint64_t id, std::uint64_t size, std::uint64_t alignment, bool zero,
                Tally& tally) {
    if (size > max_size_ || (alignment & (alignment - 1)) != 0) [[unlikely]] {
      return BadAllocation(id, size, alignment);
    }
    Block* slot = blocks_.Insert(id);
    if (slot == nullptr) [[unlikely]] {
      return Keep(Semantic(absl::StrCat("allocation of id ", id, ", which is already live")));
    }
    void* p = zero ? subject_->AllocateZeroed(SubjectSize(size), alignment)
                   : subject_->Allocate(SubjectSize(size), alignment);
    if (p == nullptr || (reinterpret_cast<std::uintptr_t>(p) &
                         (GuaranteedAlignment(size, alignment) - 1)) != 0) [[unlikely]] {
      return SubjectFailed(p, alignment);
    }
    if (verify_) FillPattern(p, size, id);
    *slot = Block(p, size, alignment);
    tally.live += size;
    NoteGrowth(tally);
    return true;
  }

  [[gnu::cold, gnu::noinline]] bool BadAllocation(std::uint64_t id, std::uint64_t size,
                                                  std::uint64_t alignment) {
    if (size > max_size_) {
      return Keep(Semantic(absl::StrCat("allocation of ", size, " bytes for id ", id,
                                        " exceeds the sane bound of ", max_size_, " bytes")));
    }
    return Keep(
        Semantic(absl::StrCat("alignment ", alignment, " for id ", id, " is not a power of two")));
  }

  // The subject returned null (or, from Allocate, a misaligned block).
  [[gnu::cold, gnu::noinline]] bool SubjectFailed(void* p, std::uint64_t alignment) {
    if (p == nullptr) {
      return Keep(Fatal(absl::StatusCode::kResourceExhausted,
                        absl::StrCat(subject_->name(), " failed: ", subject_->FailureReason())));
    }
    return Keep(Fatal(
        absl::StatusCode::kInternal,
        absl::StrCat(subject_->name(), " returned ", Address(p), " for alignment ", alignment)));
  }

  [[gnu::cold, gnu::noinline]] bool NotLiveError(const char* what, std::uint64_t id) {
    return Keep(Semantic(absl::StrCat(what, " of ", NotLive(id))));
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

  bool Free(std::uint64_t id, Tally& tally) {
    Block* slot = blocks_.FindLive(id);
    if (slot == nullptr) [[unlikely]] {
      return NotLiveError("free", id);
    }
    const Block block = *slot;
    if (verify_ && !Keep(Verify(id, block))) return false;
    subject_->Free(block.p(), SubjectSize(block.size()), block.alignment());
    tally.live -= block.size();
    blocks_.Bury(id, slot, index_);
    return true;
  }

  bool Reallocate(std::uint64_t id, std::uint64_t new_id, std::uint64_t size, Tally& tally) {
    const Block* slot = blocks_.FindLive(id);
    if (slot == nullptr) [[unlikely]] {
      return NotLiveError("realloc", id);
    }
    if (size > max_size_ || (new_id != id && blocks_.FindLive(new_id) != nullptr)) [[unlikely]] {
      return BadReallocation(id, new_id, size);
    }
    const Block old = *slot;
    if (verify_ && !Keep(Verify(id, old))) return false;
    void* p =
        subject_->Reallocate(old.p(), SubjectSize(old.size()), SubjectSize(size), old.alignment());
    if (p == nullptr) [[unlikely]] {
      return SubjectFailed(p, old.alignment());
    }
    // Slots may move when the sparse table grows: look them up afresh.
    if (new_id != id) blocks_.Bury(id, blocks_.FindLive(id), index_);
    Block* moved = new_id == id ? blocks_.FindLive(id) : blocks_.Insert(new_id);
    *moved = Block(p, size, old.alignment());
    if (verify_) FillPattern(p, size, new_id);
    tally.live = tally.live - old.size() + size;
    NoteGrowth(tally);
    return true;
  }

  [[gnu::cold, gnu::noinline]] bool BadReallocation(std::uint64_t id, std::uint64_t new_id,
                                                    std::uint64_t size) {
    if (size > max_size_) {
      return Keep(Semantic(absl::StrCat("realloc of id ", id, " to ", size,
                                        " bytes exceeds the sane bound of ", max_size_, " bytes")));
    }
    return Keep(Semantic(absl::StrCat("realloc to id ", new_id, ", which is already live")));
  }

  // After live bytes grew: track the peaks, and live at peak footprint. A
  // footprint that is costly to read is probed only when live bytes reach a
  // new high by 1/64 (and at every sample), so a peak of footprint that
  // follows one of live bytes is seen to within that much.
  void NoteGrowth(Tally& t) {
    t.peak_live = std::max(t.peak_live, t.live);
    if (cheap_footprint_) {
      NoteFootprint(t, subject_->Footprint());
    } else if (t.live >= next_probe_live_) {
      next_probe_live_ = t.live + std::max<std::uint64_t>(t.live / 64, 4096);
      NoteFootprint(t, ProbeFootprint());
    }
  }

  // The moment of peak footprint is, when the footprint stays at its peak
  // for a while, the one with the most live bytes: an allocator that takes
  // its peak up front (mimalloc's 32 MiB segments) is judged when that
  // memory is best used, not at its first byte.
  static void NoteFootprint(Tally& t, std::uint64_t footprint) {
    if (footprint > t.peak_footprint) {
      t.peak_footprint = footprint;
      t.live_at_peak_footprint = t.live;
    } else if (footprint == t.peak_footprint) {
      t.live_at_peak_footprint = std::max(t.live_at_peak_footprint, t.live);
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
    Tally tally = LoadTally();
    NoteFootprint(tally, footprint);
    StoreTally(tally);
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

  S* subject_;
  const EngineOptions& options_;
  EventSource& source_;
  ReplayResult* result_;
  const bool cheap_footprint_;
  const bool verify_;  // Copies of options_ fields the hot path reads.
  const std::uint64_t max_size_;
  IdTable blocks_;
  // For a collecting subject: the mutator of GC traces (after blocks_,
  // which it holds weakly, so that it goes first).
  std::unique_ptr<GcMutator> gc_;
  absl::Status status_;  // Why the replay stopped.
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

namespace {

// `*table` and `*live` show the replay's id table and live bytes while it
// runs (Engine::FindBlock, LiveBytes).
template <typename S>
absl::Status ReplayWith(S* subject, const EngineOptions& options, EventSource& source,
                        ReplayResult* result, const IdTable** table, const std::uint64_t** live) {
  Replayer<S> replayer(subject, options, source, result);
  *table = &replayer.blocks();
  *live = &replayer.live();
  absl::Status status = replayer.Run();
  replayer.Finish();
  replayer.FreeAll();
  *table = nullptr;
  *live = nullptr;
  return status;
}

}  // namespace

absl::Status Engine::Replay(EventSource& source, ReplayResult* result) {
  result->subject = subject_->name();
  // The null subject measures the engine alone: its calls are inlined.
  if (auto* null = dynamic_cast<NullSubject*>(subject_)) {
    return ReplayWith(null, options_, source, result, &running_, &running_live_);
  }
  return ReplayWith(subject_, options_, source, result, &running_, &running_live_);
}

std::optional<LiveBlock> Engine::FindBlock(std::uintptr_t p) const {
  if (running_ == nullptr) return std::nullopt;
  const auto found = running_->FindContaining(p);
  if (!found) return std::nullopt;
  return LiveBlock{found->first, found->second.p(), found->second.size()};
}

}  // namespace replay
