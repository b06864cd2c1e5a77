#include "core/pools/mvff.h"

#include <algorithm>
#include <cmath>

namespace core {
namespace {

// The node pool extends by enough nodes for a quarter of an extension's
// mean-sized blocks to be free apart, at 64 bytes of node per free block
// (what the AVL Cbs needed; BTreeCbs leaves need 25 to 50), and at least a
// grain.
std::size_t NodeExtendBy(const MvffOptions& options, std::size_t grain) {
  constexpr std::size_t kNodeBytesPerBlock = 64;
  const std::size_t blocks = options.extend_by / std::max<std::size_t>(options.mean_size, 1);
  return std::max(grain, std::min<std::size_t>(blocks * kNodeBytesPerBlock / 4, 1 << 20));
}

// The threshold as the double comparison free > spare * total would have it
// (for free below 2^53, where free converts exactly).
std::size_t ReduceThreshold(double spare, std::size_t total) {
  return static_cast<std::size_t>(std::floor(spare * static_cast<double>(total)));
}

}  // namespace

Res Mvff::Validate(const MvffOptions& options) {
  if (!IsPowerOfTwo(options.align) || options.align < kWordSize || options.extend_by == 0 ||
      options.mean_size == 0 || options.spare < 0 || options.spare > 1) {
    return Res::kParam;
  }
  return Res::kOk;
}

Mvff::Mvff(Arena* arena, const MvffOptions& options)
    : Pool(arena),
      options_(options),
      align_(std::max(kWordSize, options.align)),
      node_pool_(arena,
                 MfsOptions{sizeof(BTreeCbs::Node), NodeExtendBy(options, arena->grain_size()),
                            SegmentType::kManualVariable}),
      tree_(&node_pool_),
      freelist_(align_),
      land_(&tree_, &freelist_) {}

Mvff::~Mvff() = default;

bool Mvff::FindAndDelete(std::size_t size, Range* found) {
  const FindDelete mode = options_.slot_high ? FindDelete::kHigh : FindDelete::kLow;
  // While the FreeList is empty (unless nodes ran out) the tree alone holds
  // the free blocks: call it directly, not through the Failover's Land*.
  if (freelist_.BlockCount() == 0) [[likely]] {
    return options_.first_fit ? tree_.FindFirst(size, mode, found, nullptr)
                              : tree_.FindLast(size, mode, found, nullptr);
  }
  return options_.first_fit ? land_.FindFirst(size, mode, found, nullptr)
                            : land_.FindLast(size, mode, found, nullptr);
}

Res Mvff::Extend(std::size_t size) {
  // Ask for extend_by, or, when the request is larger or the arena cannot
  // give that much, for just enough.
  const std::size_t grain = arena()->grain_size();
  std::size_t needed;
  if (!SizeAlignUp(size, grain, &needed)) return Res::kParam;
  Range segment;
  Res res = Res::kFail;
  if (options_.extend_by > needed) {
    res = AcquireSegment(options_.extend_by, SegmentType::kManualVariable, options_.arena_high,
                         &segment);
  }
  if (res != Res::kOk) {
    res = AcquireSegment(needed, SegmentType::kManualVariable, options_.arena_high, &segment);
    if (res != Res::kOk) return res;
  }
  AddTotal(segment.size());
  // Insertion cannot fail for memory: the Failover falls back to the
  // FreeList, which lives in the segment itself.
  return land_.Insert(segment, nullptr);
}

Res Mvff::Alloc(std::size_t size, void** p) {
  std::size_t rounded;
  if (size == 0 || !SizeAlignUp(size, align_, &rounded)) return Res::kParam;
  Range found;
  if (!FindAndDelete(rounded, &found)) {
    Res res = Extend(rounded);
    if (res != Res::kOk) return res;
    if (!FindAndDelete(rounded, &found)) return Res::kFail;
  }
  *p = ToPointer(found.base);
  return Res::kOk;
}

Res Mvff::Free(void* p, std::size_t size) {
  std::size_t rounded;
  if (p == nullptr || size == 0 || !SizeAlignUp(size, align_, &rounded) ||
      !IsAligned(ToAddr(p), align_)) {
    return Res::kParam;
  }
  const Range block{ToAddr(p), ToAddr(p) + rounded};
  // An overlap with free memory (a double free) is refused by the land.
  // The tree is called directly while the FreeList is empty; if it has no
  // node for the block, the Failover (asking it again) takes the FreeList.
  Res res = freelist_.BlockCount() == 0 ? tree_.Insert(block, nullptr) : Res::kMemory;
  if (res == Res::kMemory) res = land_.Insert(block, nullptr);
  if (res == Res::kFail) return Res::kParam;
  if (res != Res::kOk) return res;
  if (FreeSize() > reduce_above_) Reduce();
  return Res::kOk;
}

void Mvff::Reduce() {
  const std::size_t grain = arena()->grain_size();
  const double spare = options_.spare;
  // Largest blocks first (as MPS does): if the largest has no whole grain,
  // none has, so this stops at once on fragmented free memory.
  for (;;) {
    // Releasing d bytes lowers free and total alike, so free <= spare * total
    // needs d >= (free - spare * total) / (1 - spare).
    const double excess =
        static_cast<double>(land_.TotalSize()) - spare * static_cast<double>(total_);
    if (excess <= 0 || spare >= 1) return;
    Range block;
    if (!land_.FindLargest(grain, FindDelete::kNone, &block, nullptr)) return;
    const Range whole{AlignUp(block.base, grain), AlignDown(block.limit, grain)};
    if (whole.base >= whole.limit) return;
    // Return just enough grains, from the top of the block.
    const std::size_t wanted =
        AlignUp(static_cast<std::size_t>(std::ceil(excess / (1 - spare))), grain);
    const Range part{whole.limit - std::min(whole.size(), wanted), whole.limit};
    if (land_.Delete(part, nullptr) != Res::kOk) return;
    if (ReleaseSegment(part) != Res::kOk) {
      // Not ours to release after all (cannot happen with a sound land):
      // keep the memory rather than lose it.
      Res res = land_.Insert(part, nullptr);
      (void)res;
      return;
    }
    AddTotal(-part.size());
  }
}

void Mvff::AddTotal(std::size_t delta) {
  total_ += delta;
  reduce_above_ = ReduceThreshold(options_.spare, total_);
}

Res Mvff::FillBuffer(std::size_t size, Range* buffer) {
  // Worst fit: hand the whole largest block to the buffer.
  if (land_.FindLargest(size, FindDelete::kEntire, buffer, nullptr)) return Res::kOk;
  Res res = Extend(size);
  if (res != Res::kOk) return res;
  return land_.FindLargest(size, FindDelete::kEntire, buffer, nullptr) ? Res::kOk : Res::kFail;
}

void Mvff::EmptyBuffer(Range unused) {
  if (unused.empty()) return;
  Res res = land_.Insert(unused, nullptr);
  (void)res;  // The range came from the land and cannot overlap it.
}

void Mvff::WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const {
  WalkRuns([this](FunctionRef<bool(Range)> free_run) { land_.Iterate(free_run); }, visit);
}

CheckResult Mvff::Check() const {
  CORE_CHECK(IsPowerOfTwo(align_) && align_ >= kWordSize);
  CORE_CHECK_NESTED(node_pool_.Check());
  CORE_CHECK_NESTED(land_.Check());
  CORE_CHECK(land_.TotalSize() <= total_);
  CORE_CHECK(arena()->PoolBytes(id()) == total_);
  CORE_CHECK(reduce_above_ == ReduceThreshold(options_.spare, total_));
  // Every free block lies in this pool's memory and is aligned.
  CheckResult result = CheckResult::Ok();
  land_.Iterate([&](Range block) {
    if (!IsAligned(block.base, align_) || !IsAligned(block.limit, align_) || !Owns(block)) {
      result = CheckResult::Fail(CheckFailureText(
          __FILE__, __LINE__, "free block is aligned and inside the pool's segments", ""));
      return false;
    }
    return true;
  });
  return result;
}

void Mvff::Describe(std::ostream& os) const {
  os << "MVFF pool " << id() << ": total " << total_ << ", free " << FreeSize() << " in "
     << land_.BlockCount() << " blocks (" << freelist_.BlockCount()
     << " in the fallback free list), align " << align_ << ", extend by " << options_.extend_by
     << ", " << (options_.first_fit ? "first" : "last") << " fit, slot "
     << (options_.slot_high ? "high" : "low") << ", arena "
     << (options_.arena_high ? "high" : "low") << ", spare " << options_.spare << "\n  ";
  node_pool_.Describe(os);
  os << "  ";
  land_.Describe(os);
}

}  // namespace core
