#include "core/pool/pool.h"

#include <algorithm>
#include <vector>

namespace core {

Pool::Pool(Arena* arena) : arena_(arena), id_(arena->RegisterPool(this)) {}

Pool::~Pool() { arena_->UnregisterPool(id_); }

void Pool::WalkSegments(FunctionRef<bool(const Segment&)> visit) const {
  arena_->WalkSegments(visit, this);
}

bool Pool::Owns(Range range) const {
  const std::size_t grain = arena_->grain_size();
  for (Addr a = AlignDown(range.base, grain); a < range.limit; a += grain) {
    GrainInfo info;
    if (!arena_->Lookup(a, &info) || (info.flags & kGrainAllocated) == 0 || info.pool_id != id_) {
      return false;
    }
  }
  return true;
}

void Pool::WalkRuns(FunctionRef<void(FunctionRef<bool(Range)>)> free_runs,
                    FunctionRef<bool(Range, bool)> visit) const {
  // Merge adjacent segments: a pool's blocks may span segment boundaries.
  std::vector<Range> spans;
  WalkSegments([&spans](const Segment& s) {
    if (!spans.empty() && spans.back().limit == s.range.base) {
      spans.back().limit = s.range.limit;
    } else {
      spans.push_back(s.range);
    }
    return true;
  });
  std::vector<Range> free;
  free_runs([&free](Range r) {
    free.push_back(r);
    return true;
  });
  std::size_t f = 0;
  for (Range span : spans) {
    Addr at = span.base;
    while (at < span.limit) {
      while (f < free.size() && free[f].limit <= at) ++f;
      if (f < free.size() && free[f].base <= at) {
        const Addr end = std::min(free[f].limit, span.limit);
        if (!visit({at, end}, false)) return;
        at = end;
      } else {
        const Addr end = f < free.size() ? std::min(free[f].base, span.limit) : span.limit;
        if (!visit({at, end}, true)) return;
        at = end;
      }
    }
  }
}

}  // namespace core
