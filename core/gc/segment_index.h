// Address -> segment lookup for the collecting pools, on the fix path of
// every reference: a two-level radix table over 4 KiB pages, like a page
// table, so a lookup is two dependent loads instead of a tree search. Only
// the second-level tables of the 1 GiB regions a pool uses are allocated.
#ifndef CORE_GC_SEGMENT_INDEX_H_
#define CORE_GC_SEGMENT_INDEX_H_

#include <cstdint>
#include <memory>

#include "core/base/address.h"

namespace core::gc {

template <typename Seg>
class SegmentIndex {
 public:
  // Maps every page of `range` (page-aligned) to `seg`; false if the
  // memory for a table cannot be had.
  bool Set(Range range, Seg* seg) {
    for (Addr page = range.base; page < range.limit; page += kPage) {
      Seg** leaf = Leaf(page, /*create=*/true);
      if (leaf == nullptr) return false;
      *leaf = seg;
    }
    return true;
  }
  void Clear(Range range) {
    for (Addr page = range.base; page < range.limit; page += kPage) {
      if (Seg** leaf = Leaf(page, false)) *leaf = nullptr;
    }
  }
  Seg* Lookup(Addr a) const {
    const Addr top = a >> kRegionShift;
    if (top >= kTopSize || top_[top] == nullptr) return nullptr;
    return top_[top][(a >> kPageShift) & (kLeafSize - 1)];
  }

 private:
  static constexpr int kPageShift = 12;
  static constexpr int kRegionShift = 30;
  static constexpr Addr kPage = Addr{1} << kPageShift;
  static constexpr std::size_t kLeafSize = std::size_t{1} << (kRegionShift - kPageShift);
  static constexpr std::size_t kTopSize = std::size_t{1} << (48 - kRegionShift);

  Seg** Leaf(Addr a, bool create) {
    const Addr top = a >> kRegionShift;
    if (top >= kTopSize) return nullptr;
    if (top_[top] == nullptr) {
      if (!create) return nullptr;
      leaves_[top].reset(new (std::nothrow) Seg*[kLeafSize]());
      top_[top] = leaves_[top].get();
      if (top_[top] == nullptr) return nullptr;
    }
    return &top_[top][(a >> kPageShift) & (kLeafSize - 1)];
  }

  std::unique_ptr<Seg** []> top_storage_ { new Seg**[kTopSize]() };
  Seg*** top_ = top_storage_.get();
  std::unique_ptr<std::unique_ptr<Seg*[]>[]> leaves_ { new std::unique_ptr<Seg*[]>[ kTopSize ] };
};

}  // namespace core::gc

#endif  // CORE_GC_SEGMENT_INDEX_H_
