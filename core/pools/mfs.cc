#include "core/pools/mfs.h"

#include <algorithm>
#include <unordered_set>
#include <vector>

namespace core {

Mfs::Mfs(Arena* arena, const MfsOptions& options)
    : Pool(arena),
      unit_size_(AlignUp(std::max<std::size_t>(options.unit_size, 1), kWordSize)),
      extend_by_(std::max(options.extend_by, unit_size_)),
      type_(options.type) {}

Res Mfs::AllocSlow(void** p) {
  if (limit_ - bump_ < unit_size_) {
    Range extent;
    Res res = AcquireSegment(extend_by_, type_, /*high=*/false, &extent);
    if (res != Res::kOk) return res;
    // The tail of the old extent that cannot hold a unit is simply wasted.
    bump_ = extent.base;
    limit_ = extent.limit;
    total_ += extent.size();
  }
  *p = ToPointer(bump_);
  bump_ += unit_size_;
  ++units_carved_;
  return Res::kOk;
}

void Mfs::WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const {
  std::unordered_set<Addr> free_units;
  free_.ForEach([&free_units](const void* unit) { free_units.insert(ToAddr(unit)); });
  WalkSegments([&](const Segment& segment) {
    for (Addr u = segment.range.base; u + unit_size_ <= segment.range.limit; u += unit_size_) {
      // Units past the bump pointer of the newest extent were never carved.
      const bool carved = !(segment.range.Contains(bump_) && u >= bump_);
      const bool allocated = carved && free_units.count(u) == 0;
      if (!visit({u, u + unit_size_}, allocated)) return false;
    }
    return true;
  });
}

CheckResult Mfs::Check() const {
  CORE_CHECK(unit_size_ >= kWordSize && IsAligned(unit_size_, kWordSize));
  CORE_CHECK(extend_by_ >= unit_size_);
  CORE_CHECK(bump_ <= limit_);
  CORE_CHECK(free_.count() <= units_carved_);
  CORE_CHECK(units_carved_ * unit_size_ <= total_);
  std::vector<Range> segments;
  std::size_t segment_bytes = 0;
  WalkSegments([&](const Segment& s) {
    segments.push_back(s.range);
    segment_bytes += s.range.size();
    return true;
  });
  CORE_CHECK(segment_bytes == total_);
  // Every free unit is a unit of one of our segments, and appears once.
  std::unordered_set<Addr> seen;
  CheckResult result = CheckResult::Ok();
  free_.ForEach([&](const void* unit) {
    if (!result.ok) return;
    const Addr u = ToAddr(unit);
    auto it = std::upper_bound(segments.begin(), segments.end(), u,
                               [](Addr a, Range r) { return a < r.base; });
    const bool inside =
        it != segments.begin() && (it - 1)->Contains(u) && (u - (it - 1)->base) % unit_size_ == 0;
    if (!inside || !seen.insert(u).second || (u >= bump_ && u < limit_)) {
      result = CheckResult::Fail(CheckFailureText(
          __FILE__, __LINE__, "free unit is a carved unit of this pool, listed once", ""));
    }
  });
  return result;
}

void Mfs::Describe(std::ostream& os) const {
  os << "MFS pool " << id() << ": unit " << unit_size_ << ", extend by " << extend_by_ << ", total "
     << total_ << ", free " << FreeSize() << ", units in use " << units_in_use() << ", free stack "
     << free_.count() << "\n";
}

}  // namespace core
