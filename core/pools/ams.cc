#include "core/pools/ams.h"

#include <algorithm>
#include <bit>

#include "core/gc/color_runs.h"
#include "core/gc/phase_timer.h"
#include "core/observe/observer.h"

namespace core {

namespace {
constexpr std::size_t kClassStep = 16;
}  // namespace

Ams::Ams(Arena* arena, const gc::Format* format, gc::Roots* roots, const AmsOptions& options)
    : Pool(arena),
      format_(format),
      roots_(roots),
      options_(options),
      with_space_(options.max_class / kClassStep + 2) {}

Res Ams::Create(Arena* arena, const gc::Format* format, gc::Roots* roots, const AmsOptions& options,
                std::unique_ptr<Ams>* pool) {
  if (format == nullptr || roots == nullptr || options.max_class < format->min_size() ||
      options.max_class % kClassStep != 0 || options.segment_size < options.max_class ||
      format->alignment() > kClassStep) {
    return Res::kParam;
  }
  pool->reset(new Ams(arena, format, roots, options));
  return Res::kOk;
}

Ams::~Ams() {
  for (auto& [base, seg] : segs_) (void)ReleaseSegment(seg.range);
}

Ams::Seg* Ams::SegOf(Addr a) const { return index_.Lookup(a); }

// Class index: 16-byte steps; the last index holds the large objects.
std::size_t Ams::ClassOf(std::size_t size) const {
  if (size > options_.max_class) return with_space_.size() - 1;
  return (size + kClassStep - 1) / kClassStep;
}

Res Ams::NewSegment(std::size_t slot_size, std::size_t bytes, Seg** out) {
  Range range;
  if (Res res = AcquireSegment(bytes, SegmentType::kMarkSweep, false, &range); res != Res::kOk) {
    return res;
  }
  Seg& seg = segs_[range.base];
  if (!index_.Set(range, &seg)) {
    segs_.erase(range.base);
    (void)ReleaseSegment(range);
    return Res::kMemory;
  }
  seg.range = range;
  seg.slot_size = slot_size;
  seg.slots = range.size() / slot_size;
  seg.free_slots = seg.slots;
  seg.alloc.assign((seg.slots + 63) / 64, 0);
  seg.mark.assign(seg.alloc.size(), 0);
  *out = &seg;
  return Res::kOk;
}

Res Ams::Alloc(std::size_t size, void** p) {
  if (size < format_->min_size() || !IsAligned(size, format_->alignment())) return Res::kParam;
  const std::size_t cls = ClassOf(size);
  Seg* seg = nullptr;
  std::vector<Seg*>& space = with_space_[cls];
  while (!space.empty() && space.back()->free_slots == 0) {
    space.back()->listed = false;
    space.pop_back();
  }
  if (!space.empty()) {
    seg = space.back();
  } else {
    const bool large = cls == with_space_.size() - 1;
    std::size_t bytes = options_.segment_size;
    if (large && !SizeAlignUp(size, arena()->grain_size(), &bytes)) return Res::kParam;
    if (Res res = NewSegment(large ? bytes : cls * kClassStep, bytes, &seg); res != Res::kOk) {
      return res;
    }
    List(seg);
  }
  // The next free slot from the cursor, a word of bits at a time.
  std::size_t i = seg->cursor;
  for (;;) {
    if (i >= seg->slots) i = 0;
    const std::uint64_t free = ~seg->alloc[i / 64] >> (i % 64);
    if (free != 0) {
      i += static_cast<std::size_t>(std::countr_zero(free));
      if (i < seg->slots) break;
      i = 0;
      continue;
    }
    i = (i / 64 + 1) * 64;
  }
  SetBit(seg->alloc, i);
  // Black allocation: marking will not see it, so it must be marked.
  // Only condemned segments are swept, so only their objects need it.
  if (seg->white) SetBit(seg->mark, i);
  --seg->free_slots;
  seg->cursor = i + 1;
  const Addr obj = seg->range.base + i * seg->slot_size;
  if (seg->slot_size > size) format_->Pad(obj + size, seg->slot_size - size);
  allocated_ += seg->slot_size;
  since_collection_ += seg->slot_size;
  *p = ToPointer(obj);
  return Res::kOk;
}

Addr Ams::ObjectContaining(Addr a) const {
  const Seg* seg = SegOf(a);
  if (seg == nullptr) return 0;
  const std::size_t i = (a - seg->range.base) / seg->slot_size;
  return i < seg->slots && Bit(seg->alloc, i) ? seg->range.base + i * seg->slot_size : 0;
}

bool Ams::IsObject(Addr a) const {
  const Seg* seg = SegOf(a);
  if (seg == nullptr) return false;
  const std::size_t offset = a - seg->range.base;
  return offset % seg->slot_size == 0 && offset / seg->slot_size < seg->slots &&
         Bit(seg->alloc, offset / seg->slot_size);
}

bool Ams::NeedsCollection() const {
  return phase_ == gc::Phase::kIdle &&
         since_collection_ >= std::max(options_.collect_after, survived_);
}

void Ams::SetPhase(gc::Phase phase) {
  phase_ = phase;
  if (Observer* o = arena()->observer()) [[unlikely]] {
    o->OnCollectionPhase(this, collection_, phase);
  }
}

void Ams::Shade(Seg* seg, Addr obj) {
  const std::size_t i = (obj - seg->range.base) / seg->slot_size;
  if (Bit(seg->mark, i)) return;
  SetBit(seg->mark, i);
  grey_.push_back(obj);
}

void Ams::NoteStore(Addr, Addr target) {
  if (phase_ != gc::Phase::kScanGrey || target == 0) return;
  if (Seg* seg = SegOf(target); seg != nullptr && seg->white) Shade(seg, target);
}

void Ams::FixMutatorRef(Addr* ref) {
  if (phase_ != gc::Phase::kScanGrey || *ref == 0) return;
  if (Seg* seg = SegOf(*ref); seg != nullptr && seg->white) Shade(seg, *ref);
}

Res Ams::StartCollection() {
  if (phase_ != gc::Phase::kIdle) return Res::kOk;
  ++collection_;
  ++stats_.collections;
  SetPhase(gc::Phase::kCondemn);
  white_zones_ = 0;
  for (auto& [base, seg] : segs_) {
    SetWhite(seg, true);
    std::fill(seg.mark.begin(), seg.mark.end(), 0);
    for (Addr z = AlignDown(seg.range.base, Addr{1} << gc::ScanState::kZoneShift);
         z < seg.range.limit; z += Addr{1} << gc::ScanState::kZoneShift) {
      white_zones_ |= gc::ScanState::ZoneOf(z);
    }
  }
  SetPhase(gc::Phase::kScanRoots);
  return Res::kOk;
}

Res Ams::Step(std::size_t budget, bool* done) {
  *done = phase_ == gc::Phase::kIdle;
  if (*done) return Res::kOk;
  if (phase_ == gc::Phase::kScanRoots || phase_ == gc::Phase::kScanGrey) {
    const gc::AddElapsedNanos timer(&stats_.mark_ns);
    if (phase_ == gc::Phase::kScanRoots) {
      gc::ScanState ss(this, white_zones_);
      roots_->ScanStrong(ss);
      SetPhase(gc::Phase::kScanGrey);
    }
    if (!Mark(budget)) return Res::kOk;
    SetPhase(gc::Phase::kReclaim);
  }
  // Weak references in steps of their own, then the sweep, also in steps.
  if (!weak_done_) {
    const gc::AddElapsedNanos timer(&stats_.weak_ns);
    gc::ScanState weak(this, white_zones_);
    if (!roots_->ScanWeak(weak, std::max<std::size_t>(1, budget / kWeakEntryCost))) {
      return Res::kOk;
    }
    weak_done_ = true;
    sweep_from_ = 0;
    survived_ = 0;
  }
  {
    const gc::AddElapsedNanos timer(&stats_.sweep_ns);
    if (!Sweep(budget)) return Res::kOk;
  }
  weak_done_ = false;
  since_collection_ = 0;
  white_zones_ = 0;
  SetPhase(gc::Phase::kIdle);
  *done = true;
  return Res::kOk;
}

Res Ams::Collect() {
  if (Res res = StartCollection(); res != Res::kOk) return res;
  bool done = false;
  while (!done) {
    if (Res res = Step(SIZE_MAX, &done); res != Res::kOk) return res;
  }
  return Res::kOk;
}

bool Ams::Mark(std::size_t budget) {
  // Deferred fixes: each target's header loads while others are marked, so
  // it is in cache when the grey stack gives it back to be scanned. The
  // last few, marked at the flush, may push more: go round again.
  gc::ScanState ss(this, white_zones_, /*deferred=*/true);
  std::size_t work = 0;
  do {
    while (!grey_.empty()) {
      if (work >= budget) return false;
      const Addr obj = grey_.back();
      grey_.pop_back();
      const std::size_t size = format_->Size(obj);
      format_->Scan(ss, obj, obj + size);
      stats_.scanned += size;
      work += size;
    }
    ss.Flush();
  } while (!grey_.empty());
  return true;
}

void Ams::Fix(gc::ScanState&, Addr* ref) {
  if (Seg* seg = index_.LookupFlagged(*ref)) Shade(seg, *ref);  // White segments only.
}

void Ams::FixWeak(Addr* ref) {
  const Seg* seg = index_.LookupFlagged(*ref);
  if (seg != nullptr && !Bit(seg->mark, (*ref - seg->range.base) / seg->slot_size)) *ref = 0;
}

bool Ams::IsWhite(Addr a) const { return index_.LookupFlagged(a) != nullptr; }

void Ams::SetWhite(Seg& seg, bool white) {
  seg.white = white;
  index_.SetFlag(seg.range, white);
}

bool Ams::Sweep(std::size_t budget) {
  // Segments made since the collection began are not condemned and are
  // skipped; allocation may go on in segments not yet swept (black).
  std::size_t work = 0;
  Arena::TrimHold hold(arena());  // One trim per step, not per segment freed.
  for (auto it = segs_.lower_bound(sweep_from_); it != segs_.end();) {
    if (work >= budget) {
      sweep_from_ = it->first;
      return false;
    }
    Seg& seg = it->second;
    ++it;
    if (!seg.white) continue;
    // Bit operations: much cheaper per byte than scanning.
    work += std::max<std::size_t>(seg.range.size() / kSweepBytesPerUnit, 1);
    SweepSegment(seg);
  }
  return true;
}

void Ams::SweepSegment(Seg& seg) {
  std::size_t live = 0, dead = 0;
  for (std::size_t w = 0; w < seg.alloc.size(); ++w) {
    dead += static_cast<std::size_t>(std::popcount(seg.alloc[w] & ~seg.mark[w]));
    seg.alloc[w] &= seg.mark[w];
    live += static_cast<std::size_t>(std::popcount(seg.alloc[w]));
  }
  std::fill(seg.mark.begin(), seg.mark.end(), 0);
  SetWhite(seg, false);
  stats_.swept += dead * seg.slot_size;
  stats_.marked += live * seg.slot_size;
  survived_ += live * seg.slot_size;
  allocated_ -= dead * seg.slot_size;
  seg.free_slots = seg.slots - live;
  seg.cursor = 0;
  if (live == 0) {
    stats_.reclaimed += seg.range.size();
    Unlist(&seg);
    (void)ReleaseSegment(seg.range);
    index_.Clear(seg.range);
    segs_.erase(seg.range.base);  // Last: `seg` dies here.
    return;
  }
  const bool large = seg.slots == 1 && seg.slot_size > options_.max_class;
  if (seg.free_slots > 0 && !large) List(&seg);
}

void Ams::List(Seg* seg) {
  if (seg->listed) return;
  seg->listed = true;
  with_space_[ClassOf(seg->slot_size)].push_back(seg);
}

void Ams::Unlist(Seg* seg) {
  if (!seg->listed) return;
  std::erase(with_space_[ClassOf(seg->slot_size)], seg);
  seg->listed = false;
}

void Ams::WalkTraceColors(FunctionRef<void(Range, gc::TraceColor)> visit) const {
  using gc::TraceColor;
  if (phase_ == gc::Phase::kIdle) return;
  std::vector<Addr> grey(grey_.begin(), grey_.end());
  std::sort(grey.begin(), grey.end());
  gc::ColorRuns runs(visit);
  for (const auto& [base, seg] : segs_) {
    for (std::size_t i = 0; i < seg.slots; ++i) {
      if (!Bit(seg.alloc, i)) continue;
      const Addr obj = seg.range.base + i * seg.slot_size;
      const Range slot{obj, obj + seg.slot_size};
      if (Bit(seg.mark, i)) {
        runs.Add(slot, std::binary_search(grey.begin(), grey.end(), obj) ? TraceColor::kGrey
                                                                         : TraceColor::kBlack);
      } else if (seg.white) {
        runs.Add(slot, TraceColor::kCondemned);
      }
    }
  }
}

std::size_t Ams::TotalSize() const {
  std::size_t total = 0;
  for (const auto& [base, seg] : segs_) total += seg.range.size();
  return total;
}

std::size_t Ams::FreeSize() const { return TotalSize() - allocated_; }

void Ams::WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const {
  for (const auto& [base, seg] : segs_) {
    for (std::size_t i = 0; i < seg.slots; ++i) {
      const Addr a = seg.range.base + i * seg.slot_size;
      if (!visit(Range{a, a + seg.slot_size}, Bit(seg.alloc, i))) return;
    }
  }
}

CheckResult Ams::Check() const {
  std::size_t allocated = 0;
  for (const auto& [base, seg] : segs_) {
    CORE_CHECK_MSG(base == seg.range.base, "segment keyed by its base");
    CORE_CHECK_MSG(SegOf(seg.range.base) == &seg && SegOf(seg.range.limit - 1) == &seg,
                   "the address index maps the segment's pages to it");
    CORE_CHECK_MSG(Owns(seg.range), "segment owned by the pool in the arena's map");
    CORE_CHECK_MSG(seg.slots >= 1 && seg.slots * seg.slot_size <= seg.range.size(),
                   "slots fit the segment");
    std::size_t used = 0;
    for (std::size_t w = 0; w < seg.alloc.size(); ++w) {
      used += static_cast<std::size_t>(std::popcount(seg.alloc[w]));
      CORE_CHECK_MSG(phase_ != gc::Phase::kIdle || seg.mark[w] == 0,
                     "no marks between collections");
    }
    CORE_CHECK_MSG(used + seg.free_slots == seg.slots, "free count matches the allocation bits");
    CORE_CHECK_MSG(phase_ != gc::Phase::kIdle || !seg.white,
                   "nothing condemned between collections");
    for (std::size_t i = 0; i < seg.slots; ++i) {
      if (!Bit(seg.alloc, i)) continue;
      const Addr obj = seg.range.base + i * seg.slot_size;
      CORE_CHECK_MSG(format_->Size(obj) <= seg.slot_size, "objects fit their slots");
    }
    allocated += used * seg.slot_size;
  }
  CORE_CHECK_MSG(allocated == allocated_, "allocated bytes match the bits");
  return CheckResult::Ok();
}

void Ams::Describe(std::ostream& os) const {
  os << "AMS pool " << id() << ": " << segs_.size() << " segments, " << allocated_
     << " bytes allocated, phase " << gc::PhaseName(phase_) << ", " << stats_.collections
     << " collections; marked " << stats_.marked << ", swept " << stats_.swept << ", reclaimed "
     << stats_.reclaimed << " bytes\n";
}

}  // namespace core
