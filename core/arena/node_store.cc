#include "core/arena/node_store.h"

namespace core {

Res NodeStore::AllocUnit(void** unit) {
  if (void* recycled = free_.Pop()) {
    *unit = recycled;
    return Res::kOk;
  }
  for (Range& region : regions_) {
    if (region.size() >= unit_size_) {
      *unit = ToPointer(region.base);
      region.base += unit_size_;
      ++units_bumped_;
      return Res::kOk;
    }
  }
  return Res::kMemory;
}

void NodeStore::AddRegion(Range region) { regions_.push_back(region); }

std::size_t NodeStore::units_in_use() const { return units_bumped_ - free_.count(); }

}  // namespace core
