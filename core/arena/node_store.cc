#include "core/arena/node_store.h"

#include <algorithm>

namespace core {

Res NodeStore::AllocUnit(void** unit) {
  if (void* recycled = free_.Pop()) {
    *unit = recycled;
    return Res::kOk;
  }
  for (Region& region : regions_) {
    if (region.committed >= region.bump + unit_size_) {
      *unit = ToPointer(region.bump);
      region.bump += unit_size_;
      ++units_bumped_;
      return Res::kOk;
    }
  }
  return Res::kMemory;
}

void NodeStore::AddRegion(Range region, Addr committed) {
  regions_.push_back({region.base, std::clamp(committed, region.base, region.limit), region.limit});
}

std::size_t NodeStore::available() const {
  std::size_t units = free_.count();
  for (const Region& region : regions_) {
    if (region.committed > region.bump) units += (region.committed - region.bump) / unit_size_;
  }
  return units;
}

bool NodeStore::NextUncommitted(std::size_t grain, Range* range) const {
  for (const Region& region : regions_) {
    if (region.committed < region.limit) {
      const Addr base = AlignDown(region.committed, grain);
      *range = {base, std::min(base + grain, AlignUp(region.limit, grain))};
      return true;
    }
  }
  return false;
}

void NodeStore::MarkCommitted(Range range) {
  for (Region& region : regions_) {
    if (region.committed < region.limit &&
        AlignDown(region.committed, range.size()) == range.base) {
      region.committed = std::min(range.limit, region.limit);
      return;
    }
  }
}

std::size_t NodeStore::units_in_use() const { return units_bumped_ - free_.count(); }

}  // namespace core
