#include "core/pools/amc.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "core/gc/color_runs.h"
#include "core/gc/phase_timer.h"
#include "core/observe/observer.h"

namespace core {

Amc::Amc(Arena* arena, const gc::Format* format, gc::Roots* roots, const AmcOptions& options)
    : Pool(arena),
      format_(format),
      object_format_(dynamic_cast<const gc::ObjectFormat*>(format)),
      roots_(roots),
      options_(options),
      gen_bytes_(options.chain.size() + 1, 0),
      copy_seg_(options.chain.size() + 1, nullptr) {
  stats_.collections_by_generation.assign(gen_bytes_.size(), 0);
}

Res Amc::Create(Arena* arena, const gc::Format* format, gc::Roots* roots, const AmcOptions& options,
                std::unique_ptr<Amc>* pool) {
  if (format == nullptr || roots == nullptr || options.segment_size == 0 ||
      options.large_size > options.segment_size || options.large_size < format->min_size() ||
      !IsAligned(options.segment_size, format->alignment())) {
    return Res::kParam;
  }
  pool->reset(new Amc(arena, format, roots, options));
  return Res::kOk;
}

Amc::~Amc() {
  for (auto& [base, seg] : segs_) (void)ReleaseSegment(seg.range);
  ReleaseReserve(0);
}

Res Amc::AcquireFor(std::size_t size, SegmentType type, Range* range) {
  if (type == SegmentType::kToSpace) to_space_taken_ += size;
  if (type == SegmentType::kToSpace && size == options_.segment_size && !reserve_.empty() &&
      arena()->Retype(reserve_.back(), type) == Res::kOk) {
    *range = reserve_.back();
    reserve_.pop_back();
    reserve_bytes_ -= size;
    stats_.reserve_used += size;
    return Res::kOk;
  }
  Res res = AcquireSegment(size, type, /*high=*/false, range);
  if (res != Res::kOk && !reserve_.empty()) {
    // Idle memory must never make a request fail: the limit wins.
    ReleaseReserve(0);
    res = AcquireSegment(size, type, /*high=*/false, range);
  }
  return res;
}

std::size_t Amc::ReserveCap() const {
  // A nursery's worth, plus a partly filled to-space segment per
  // generation copied into.
  const std::size_t segment = options_.segment_size;
  return (options_.chain[0].capacity + segment - 1) / segment * segment +
         copy_seg_.size() * segment;
}

bool Amc::KeepInReserve(Range range) {
  if (!options_.copy_reserve || range.size() != options_.segment_size ||
      reserve_bytes_ + range.size() > reserve_target_) {
    return false;
  }
  if (arena()->Retype(range, SegmentType::kCopyReserve) != Res::kOk) return false;
  reserve_.push_back(range);
  reserve_bytes_ += range.size();
  return true;
}

void Amc::ReleaseReserve(std::size_t keep) {
  Arena::TrimHold hold(arena());
  while (reserve_bytes_ > keep) {
    (void)ReleaseSegment(reserve_.back());
    reserve_bytes_ -= reserve_.back().size();
    reserve_.pop_back();
  }
}

Res Amc::NewSegment(int gen, std::size_t size, SegmentType type, bool large, Seg** out) {
  Range range;
  const Res res = AcquireFor(size, type, &range);
  if (res != Res::kOk) return res;
  Seg& seg = segs_[range.base];
  if (!index_.Set(range, &seg)) {
    segs_.erase(range.base);
    (void)ReleaseSegment(range);
    return Res::kMemory;
  }
  seg = Seg{range, gen, range.base, range.base};
  // Everything a collection copies is promoted to at least generation 1.
  seg.min_gen = std::min(gen, 1);
  seg.large = large;
  seg.type = type;
  *out = &seg;
  return Res::kOk;
}

void Amc::Retype(Seg& seg, SegmentType type) {
  if (seg.type == type) return;
  (void)arena()->Retype(seg.range, type);
  seg.type = type;
}

Amc::Seg* Amc::SegOf(Addr a) const { return index_.Lookup(a); }

void Amc::CloseSegment(Seg* seg) {
  if (seg->fill < seg->range.limit) format_->Pad(seg->fill, seg->range.limit - seg->fill);
}

Res Amc::Alloc(std::size_t size, void** p) {
  if (size < format_->min_size() || !IsAligned(size, format_->alignment())) return Res::kParam;
  Seg* seg = alloc_seg_;
  if (size >= options_.large_size) {
    std::size_t rounded;
    if (!SizeAlignUp(size, arena()->grain_size(), &rounded)) return Res::kParam;
    if (Res res = NewSegment(0, rounded, SegmentType::kLargeObject, true, &seg); res != Res::kOk) {
      return res;
    }
    seg->fill = seg->range.base + size;
    CloseSegment(seg);
  } else {
    if (seg == nullptr || seg->fill + size > seg->range.limit) {
      if (seg != nullptr) CloseSegment(seg);
      alloc_seg_ = nullptr;
      if (Res res = NewSegment(0, options_.segment_size, SegmentType::kNursery, false, &seg);
          res != Res::kOk) {
        return res;
      }
      alloc_seg_ = seg;
    }
    seg->fill += size;
  }
  gen_bytes_[0] += size;
  *p = ToPointer(seg->fill - size);
  return Res::kOk;
}

bool Amc::NeedsCollection() const {
  return phase_ == gc::Phase::kIdle && gen_bytes_[0] >= options_.chain[0].capacity;
}

void Amc::NoteStore(Addr obj, Addr target) {
  if (target == 0) return;
  Seg* seg = SegOf(obj);
  // Nursery segments keep min_gen 0 (every collection condemns them):
  // nothing to note. A pinned one, scanned and about to be promoted in
  // place, has been raised, and must hear of stores.
  if (seg == nullptr || seg->min_gen == 0) return;
  if (const Seg* t = SegOf(target); t != nullptr && t->gen < seg->min_gen) seg->min_gen = t->gen;
}

void Amc::Pin(Addr obj) {
  if (Seg* seg = SegOf(obj)) seg->pinned = true;
}

void Amc::SetPhase(gc::Phase phase) {
  phase_ = phase;
  if (Observer* o = arena()->observer()) [[unlikely]] {
    o->OnCollectionPhase(this, collection_, phase);
  }
}

Res Amc::StartCollection(bool full) {
  if (phase_ != gc::Phase::kIdle) return Res::kOk;
  ++collection_;
  SetPhase(gc::Phase::kCondemn);
  // The nursery always; each generation of the chain over its capacity
  // after the one below it; everything when asked.
  condemned_gen_ = 0;
  if (full) {
    condemned_gen_ = TopGeneration();
  } else {
    while (condemned_gen_ + 1 < static_cast<int>(options_.chain.size()) &&
           gen_bytes_[condemned_gen_ + 1] >= options_.chain[condemned_gen_ + 1].capacity) {
      ++condemned_gen_;
    }
  }
  ++stats_.collections;
  to_space_taken_ = 0;
  last_condemned_ = condemned_gen_;
  copy_res_ = Res::kOk;
  ++stats_.collections_by_generation[condemned_gen_];
  if (alloc_seg_ != nullptr) {
    CloseSegment(alloc_seg_);
    alloc_seg_ = nullptr;  // Allocation during the collection starts afresh.
  }
  white_zones_ = 0;
  for (auto& [base, seg] : segs_) {
    if (seg.gen > condemned_gen_) continue;
    if (seg.pinned) continue;  // Promoted in place; scanned as a root.
    SetWhite(seg, true);
    stats_.condemned += seg.fill - seg.range.base;
    for (Addr z = AlignDown(seg.range.base, Addr{1} << gc::ScanState::kZoneShift);
         z < seg.range.limit; z += Addr{1} << gc::ScanState::kZoneShift) {
      white_zones_ |= gc::ScanState::ZoneOf(z);
    }
    if (!seg.large) Retype(seg, SegmentType::kFromSpace);
  }
  SetPhase(gc::Phase::kScanRoots);
  return Res::kOk;
}

Res Amc::Step(std::size_t budget, bool* done) {
  *done = phase_ == gc::Phase::kIdle;
  if (*done) return Res::kOk;
  if (phase_ == gc::Phase::kScanRoots || phase_ == gc::Phase::kScanGrey) {
    bool traced;
    {
      const gc::AddElapsedNanos timer(&stats_.trace_ns);
      if (phase_ == gc::Phase::kScanRoots) {
        ScanRoots();
        SetPhase(gc::Phase::kScanGrey);
      }
      traced = ScanGrey(budget);
    }
    if (!traced) return copy_res_;
    SetPhase(gc::Phase::kReclaim);
  }
  // Weak references in steps of their own (an id table can hold millions),
  // then from-space goes back to the arena.
  {
    const gc::AddElapsedNanos timer(&stats_.weak_ns);
    gc::ScanState weak(this, white_zones_);
    if (!roots_->ScanWeak(weak, std::max<std::size_t>(1, budget / kWeakEntryCost))) {
      return copy_res_;
    }
  }
  {
    const gc::AddElapsedNanos timer(&stats_.reclaim_ns);
    Reclaim();
  }
  SetPhase(gc::Phase::kIdle);
  *done = true;
  return copy_res_;
}

Res Amc::Collect(bool full) {
  if (phase_ == gc::Phase::kIdle) {
    if (Res res = StartCollection(full); res != Res::kOk) return res;
  }
  bool done = false;
  while (!done) {
    if (Res res = Step(SIZE_MAX, &done); res != Res::kOk) return res;
  }
  return Res::kOk;
}

void Amc::ScanRange(gc::ScanState& ss, Addr from, Addr to) {
  if (from >= to) return;
  if (object_format_ != nullptr) {
    // The engine's format: scan loop, filter and fix in one body, no call
    // per slot (gcc keeps the inner lambda out of line unless told).
    gc::ObjectFormat::ScanWith(from, to, [&](Addr* ref) {
      ss.FixWith(
          ref, [&](Addr * r) __attribute__((always_inline)) { FixWith(*object_format_, r); });
    });
  } else {
    format_->Scan(ss, from, to);
  }
  stats_.scanned += to - from;
}

void Amc::ScanRoots() {
  // The remembered set, chosen before the roots are fixed (fixing makes
  // to-space): segments that survive this collection and may refer into
  // it, and pinned segments, which are kept whole. They are scanned under
  // the step budget, before the grey objects. Nursery segments made since
  // the collection began hold no condemned references (allocated black).
  for (auto& [base, seg] : segs_) {
    if (seg.white || (seg.gen == 0 && !seg.pinned)) continue;
    if (seg.pinned || seg.min_gen <= condemned_gen_) {
      remembered_.push_back(&seg);
      // What it refers to in the condemned generations will have been
      // promoted by one when the collection ends; stores from now on lower
      // this again.
      if (seg.min_gen <= condemned_gen_) seg.min_gen = std::min(seg.min_gen + 1, TopGeneration());
    }
  }
  gc::ScanState ss(this, white_zones_);
  roots_->ScanStrong(ss);
}

bool Amc::ScanGrey(std::size_t budget) {
  // Deferred fixes: the targets' headers load while others are fixed. The
  // last few fixes, made at the flush, may copy more: go round again.
  gc::ScanState ss(this, white_zones_, /*deferred=*/true);
  std::size_t work = 0;
  do {
    while (!remembered_.empty()) {
      if (work >= budget) return false;
      Seg* seg = remembered_.back();
      remembered_.pop_back();
      ScanRange(ss, seg->range.base, seg->fill);
      work += seg->fill - seg->range.base;
      if (copy_res_ != Res::kOk) return false;
    }
    while (!grey_.empty()) {
      if (work >= budget) return false;
      Seg* seg = grey_.back();
      if (seg->scan >= seg->fill) {
        seg->queued = false;
        grey_.pop_back();
        continue;
      }
      // Scan what is there now; copying may add more behind it.
      const Addr from = seg->scan, to = seg->fill;
      seg->scan = to;
      ScanRange(ss, from, to);
      work += to - from;
      if (copy_res_ != Res::kOk) return false;
    }
    ss.Flush();
  } while (!grey_.empty());
  return copy_res_ == Res::kOk;
}

void Amc::Fix(gc::ScanState&, Addr* ref) {
  if (object_format_ != nullptr) {
    FixWith(*object_format_, ref);
  } else {
    FixWith(*format_, ref);
  }
}

namespace {

// Copies an object; most are a few 16-byte units (the format's alignment),
// which a loop of fixed-size copies moves faster than a call to memcpy.
inline void CopyObject(Addr to, Addr from, std::size_t size) {
  constexpr std::size_t kUnit = 16;
  if (size > 8 * kUnit) {
    std::memcpy(ToPointer(to), ToPointer(from), size);
    return;
  }
  for (std::size_t i = 0; i < size; i += kUnit) {
    std::memcpy(ToPointer(to + i), ToPointer(from + i), kUnit);
  }
}

}  // namespace

Amc::Seg* Amc::NextCopySegment(int gen, std::size_t size) {
  if (copy_seg_[gen] != nullptr) CloseSegment(copy_seg_[gen]);
  copy_seg_[gen] = nullptr;
  const std::size_t seg_size = std::max(options_.segment_size, size);
  Seg* dst;
  if (Res res = NewSegment(gen, seg_size, SegmentType::kToSpace, false, &dst); res != Res::kOk) {
    // Out of memory mid-collection: leave the object where it is (a
    // from-space segment cannot then be freed) and report it.
    copy_res_ = res;
    return nullptr;
  }
  copy_seg_[gen] = dst;
  return dst;
}

template <class F>
inline void Amc::FixWith(const F& format, Addr* ref) {
  const Addr a = *ref;
  Seg* seg = index_.LookupFlagged(a);  // White segments only.
  if (seg == nullptr) return;
  if (seg->large) [[unlikely]] {
    if (!seg->marked) {
      seg->marked = true;
      seg->scan = seg->range.base;  // Its object is grey until scanned.
      MakeGrey(seg);
    }
    return;
  }
  if (const Addr to = format.IsForwarded(a)) {
    *ref = to;
    return;
  }
  const std::size_t size = format.Size(a);
  const int gen = std::min(seg->gen + 1, TopGeneration());
  Seg* dst = copy_seg_[gen];
  if (dst == nullptr || dst->fill + size > dst->range.limit) [[unlikely]] {
    dst = NextCopySegment(gen, size);
    if (dst == nullptr) return;
  }
  const Addr to = dst->fill;
  dst->fill += size;
  CopyObject(to, a, size);
  format.Forward(a, to);
  *ref = to;
  stats_.copied += size;
  MakeGrey(dst);
}

void Amc::FixWeak(Addr* ref) {
  Seg* seg = index_.LookupFlagged(*ref);
  if (seg == nullptr) return;
  if (seg->large) {
    if (!seg->marked) *ref = 0;
    return;
  }
  *ref = format_->IsForwarded(*ref);  // 0 if it died.
}

bool Amc::IsWhite(Addr a) const { return index_.LookupFlagged(a) != nullptr; }

void Amc::SetWhite(Seg& seg, bool white) {
  seg.white = white;
  index_.SetFlag(seg.range, white);
}

void Amc::FixMutatorRef(Addr* ref) {
  if (phase_ == gc::Phase::kIdle || phase_ == gc::Phase::kCondemn) return;
  if (phase_ == gc::Phase::kReclaim) {
    // Tracing is over: a live object was copied (or is large, in place).
    if (*ref != 0 && IsWhite(*ref)) {
      if (const Addr to = format_->IsForwarded(*ref)) *ref = to;
    }
    return;
  }
  gc::ScanState ss(this, white_zones_);
  ss.Fix(ref);
}

void Amc::Reclaim() {
  for (Seg*& seg : copy_seg_) {
    if (seg != nullptr) CloseSegment(seg);
    seg = nullptr;
  }
  std::fill(gen_bytes_.begin(), gen_bytes_.end(), 0);
  // The reserve holds the most to-space any collection has taken. A
  // high-water mark, not a recent average: the collection that needs
  // memory is the one after a quiet stretch (GCBench's deep trees), and a
  // decayed reserve misses exactly that one. See AMC.md.
  reserve_target_ = options_.chain.empty()
                        ? to_space_taken_
                        : std::min(std::max(reserve_target_, to_space_taken_), ReserveCap());
  Arena::TrimHold hold(arena());  // One trim for all of from-space.
  ReleaseReserve(reserve_target_);
  for (auto it = segs_.begin(); it != segs_.end();) {
    Seg& seg = it->second;
    const std::size_t used = seg.fill - seg.range.base;
    if (seg.white && !(seg.large && seg.marked)) {
      stats_.reclaimed += seg.range.size();
      if (seg.large || !KeepInReserve(seg.range)) (void)ReleaseSegment(seg.range);
      index_.Clear(seg.range);
      it = segs_.erase(it);
      continue;
    }
    const bool kept_in_place = seg.pinned || (seg.large && seg.white);
    if (kept_in_place) {
      seg.gen = std::min(seg.gen + 1, TopGeneration());
      stats_.promoted += used;
    }
    const SegmentType type = seg.large ? SegmentType::kLargeObject : TypeFor(seg.gen);
    Retype(seg, type);
    if (seg.white) SetWhite(seg, false);
    seg.pinned = seg.marked = seg.queued = false;
    seg.scan = seg.fill;
    gen_bytes_[seg.gen] += used;
    ++it;
  }
  grey_.clear();
  white_zones_ = 0;
  condemned_gen_ = -1;
}

std::size_t Amc::TotalSize() const {
  std::size_t total = reserve_bytes_;
  for (const auto& [base, seg] : segs_) total += seg.range.size();
  return total;
}

std::size_t Amc::FreeSize() const {
  std::size_t free = reserve_bytes_;
  for (const auto& [base, seg] : segs_) free += seg.range.limit - seg.fill;
  return free;
}

void Amc::WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const {
  // Segments and reserve segments (free throughout) merged in address order.
  std::vector<Range> reserve(reserve_);
  std::sort(reserve.begin(), reserve.end(),
            [](const Range& a, const Range& b) { return a.base < b.base; });
  auto next_reserve = reserve.begin();
  auto visit_reserve_below = [&](Addr limit) {
    for (; next_reserve != reserve.end() && next_reserve->base < limit; ++next_reserve) {
      if (!visit(*next_reserve, false)) return false;
    }
    return true;
  };
  for (const auto& [base, seg] : segs_) {
    if (!visit_reserve_below(base)) return;
    if (seg.fill > seg.range.base && !visit(Range{seg.range.base, seg.fill}, true)) return;
    if (seg.fill < seg.range.limit && !visit(Range{seg.fill, seg.range.limit}, false)) return;
  }
  visit_reserve_below(~Addr{0});
}

void Amc::WalkObjects(FunctionRef<void(Addr obj)> visit) const {
  for (const auto& [base, seg] : segs_) {
    for (Addr obj = seg.range.base; obj < seg.fill; obj += format_->Size(obj)) {
      if (format_->IsObject(obj)) visit(obj);
    }
  }
}

Addr Amc::ObjectContaining(Addr a) const {
  const Seg* seg = SegOf(a);
  if (seg == nullptr || a >= seg->fill) return 0;
  for (Addr obj = seg->range.base; obj < seg->fill;) {
    const Addr next = obj + format_->Size(obj);
    if (a < next) {
      return format_->IsObject(obj) || format_->IsForwarded(obj) != 0 ? obj : 0;
    }
    obj = next;
  }
  return 0;
}

void Amc::WalkTraceColors(FunctionRef<void(Range, gc::TraceColor)> visit) const {
  using gc::TraceColor;
  if (phase_ == gc::Phase::kIdle) return;
  std::vector<const Seg*> remembered(remembered_.begin(), remembered_.end());
  std::sort(remembered.begin(), remembered.end());
  gc::ColorRuns runs(visit);
  for (const auto& [base, seg] : segs_) {
    const Range used{seg.range.base, seg.fill};
    if (seg.large) {
      if (seg.marked) {
        runs.Add(used, seg.scan < seg.fill ? TraceColor::kGrey : TraceColor::kBlack);
      } else if (seg.white) {
        runs.Add(used, TraceColor::kCondemned);
      }
    } else if (seg.white) {
      for (Addr obj = used.base; obj < used.limit;) {
        const std::size_t size = format_->Size(obj);
        if (format_->IsForwarded(obj) != 0) {
          runs.Add({obj, obj + size}, TraceColor::kForwarded);
        } else if (format_->IsObject(obj)) {
          runs.Add({obj, obj + size}, TraceColor::kCondemned);
        }
        obj += size;
      }
    } else if (seg.type == SegmentType::kToSpace) {
      runs.Add({seg.range.base, seg.scan}, TraceColor::kBlack);
      runs.Add({seg.scan, seg.fill}, TraceColor::kGrey);
    } else if (std::binary_search(remembered.begin(), remembered.end(), &seg)) {
      runs.Add(used, TraceColor::kGrey);
    }
  }
}

int Amc::YoungestReferenced(const Seg& seg) const {
  // A fixer that only looks: every reference reaches it (all zones white).
  class Youngest final : public gc::Fixer {
   public:
    explicit Youngest(const Amc& pool) : pool_(pool) {}
    void Fix(gc::ScanState&, Addr* ref) override {
      if (const Seg* t = pool_.SegOf(*ref)) youngest = std::min(youngest, t->gen);
    }
    void FixWeak(Addr*) override {}
    int youngest = INT_MAX;

   private:
    const Amc& pool_;
  } youngest(*this);
  gc::ScanState ss(&youngest, ~std::uint64_t{0});
  format_->Scan(ss, seg.range.base, seg.fill);
  return youngest.youngest;
}

CheckResult Amc::Check() const {
  std::vector<std::size_t> bytes(gen_bytes_.size(), 0);
  for (const auto& [base, seg] : segs_) {
    CORE_CHECK_MSG(base == seg.range.base, "segment keyed by its base");
    CORE_CHECK_MSG(SegOf(seg.range.base) == &seg && SegOf(seg.range.limit - 1) == &seg,
                   "the address index maps the segment's pages to it");
    CORE_CHECK_MSG(Owns(seg.range), "segment owned by the pool in the arena's map");
    CORE_CHECK_MSG(seg.range.base <= seg.fill && seg.fill <= seg.range.limit,
                   "fill inside segment");
    CORE_CHECK_MSG(seg.gen >= 0 && seg.gen <= TopGeneration(), "generation in the chain");
    CORE_CHECK_MSG(phase_ != gc::Phase::kIdle || (!seg.white && !seg.marked && !seg.queued),
                   "no collection marks outside a collection");
    CORE_CHECK_MSG(!seg.large || seg.type == SegmentType::kLargeObject, "large objects typed so");
    // Objects and padding tile the segment up to its fill.
    Addr p = seg.range.base;
    while (p < seg.fill) {
      const std::size_t size = format_->Size(p);
      CORE_CHECK_MSG(size >= format_->min_size() && IsAligned(size, format_->alignment()),
                     "object sizes are aligned and at least the minimum");
      p += size;
    }
    CORE_CHECK_MSG(p == seg.fill, "objects end exactly at the fill");
    bytes[seg.gen] += seg.fill - seg.range.base;
    if (phase_ == gc::Phase::kIdle && seg.gen > 0) {
      CORE_CHECK_MSG(YoungestReferenced(seg) >= seg.min_gen,
                     "the remembered set: a segment refers to no generation younger than its "
                     "min_gen");
    }
  }
  if (phase_ == gc::Phase::kIdle) {
    for (std::size_t g = 0; g < bytes.size(); ++g) {
      CORE_CHECK_MSG(bytes[g] == gen_bytes_[g], "generation sizes match their segments");
    }
  }
  CORE_CHECK_MSG(alloc_seg_ == nullptr || SegOf(alloc_seg_->range.base) == alloc_seg_,
                 "the allocation segment is one of the pool's");
  std::size_t reserve_bytes = 0;
  for (const Range& range : reserve_) {
    CORE_CHECK_MSG(range.size() == options_.segment_size, "reserve segments are segment_size");
    CORE_CHECK_MSG(Owns(range) && SegOf(range.base) == nullptr && SegOf(range.limit - 1) == nullptr,
                   "reserve segments are the pool's and out of the address index");
    reserve_bytes += range.size();
  }
  CORE_CHECK_MSG(reserve_bytes == reserve_bytes_, "the reserve's size is the sum of its segments");
  CORE_CHECK_MSG(options_.copy_reserve || reserve_.empty(), "no reserve unless asked for");
  CORE_CHECK_MSG(reserve_bytes_ <= reserve_target_, "the reserve holds at most its target");
  CORE_CHECK_MSG(options_.chain.empty() || reserve_target_ <= ReserveCap(),
                 "the reserve's target is at most a nursery's worth");
  CORE_CHECK_MSG(arena()->PoolBytes(id()) == TotalSize(),
                 "the arena's count of the pool's memory matches its segments and reserve");
  return CheckResult::Ok();
}

void Amc::Describe(std::ostream& os) const {
  os << "AMC pool " << id() << ": " << segs_.size() << " segments, phase " << gc::PhaseName(phase_)
     << ", " << stats_.collections << " collections\n";
  for (int g = 0; g <= TopGeneration(); ++g) {
    os << "  generation " << g << ": " << gen_bytes_[g] << " bytes";
    if (g < static_cast<int>(options_.chain.size())) {
      os << " (capacity " << options_.chain[g].capacity << ")";
    }
    os << "\n";
  }
  os << "  condemned " << stats_.condemned << ", copied " << stats_.copied << ", promoted "
     << stats_.promoted << ", reclaimed " << stats_.reclaimed << " bytes\n";
  os << "  copy reserve " << reserve_bytes_ << " bytes in " << reserve_.size()
     << " segments (target " << reserve_target_ << "), " << stats_.reserve_used
     << " bytes of to-space taken from it\n";
}

}  // namespace core
