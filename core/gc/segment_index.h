// Address -> segment lookup for the collecting pools, on the fix path of
// every reference: a two-level radix table over 4 KiB pages, like a page
// table, so a lookup is two dependent loads instead of a tree search. Only
// the second-level tables of the 1 GiB regions a pool uses are allocated.
// Each entry also carries a flag (the pools keep "condemned" there), so the
// fix path can throw out a reference that is not white without touching
// its segment. Both levels are mapped zero pages, so only the pages of a
// table that entries are written to are ever backed: a pool touches a few
// pages of its 2 MiB leaf, where zeroing the leaf faulted in all 512 (on
// this project's virtual machine, a millisecond, inside the collection that
// first used the region).
#ifndef CORE_GC_SEGMENT_INDEX_H_
#define CORE_GC_SEGMENT_INDEX_H_

#include <sys/mman.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "core/base/address.h"

namespace core::gc {

// Anonymous memory that reads as zeros until written; null if it cannot
// be mapped.
class ZeroedMapping {
 public:
  explicit ZeroedMapping(std::size_t bytes) : bytes_(bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : p;
  }
  ~ZeroedMapping() {
    if (data_ != nullptr) munmap(data_, bytes_);
  }
  ZeroedMapping(ZeroedMapping&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(other.bytes_) {}
  ZeroedMapping(const ZeroedMapping&) = delete;
  ZeroedMapping& operator=(const ZeroedMapping&) = delete;
  ZeroedMapping& operator=(ZeroedMapping&&) = delete;

  void* get() const { return data_; }

 private:
  void* data_;
  std::size_t bytes_;
};

template <typename Seg>
class SegmentIndex {
 public:
  // Maps every page of `range` (page-aligned) to `seg`; false if the
  // memory for a table cannot be had.
  bool Set(Range range, Seg* seg) {
    for (Addr page = range.base; page < range.limit; page += kPage) {
      Entry* leaf = Leaf(page, /*create=*/true);
      if (leaf == nullptr) return false;
      *leaf = reinterpret_cast<Entry>(seg);
    }
    return true;
  }
  void Clear(Range range) {
    for (Addr page = range.base; page < range.limit; page += kPage) {
      if (Entry* leaf = Leaf(page, false)) *leaf = 0;
    }
  }
  // Sets the flag of every page of `range`, which Set mapped.
  void SetFlag(Range range, bool flag) {
    for (Addr page = range.base; page < range.limit; page += kPage) {
      if (Entry* leaf = Leaf(page, false)) *leaf = (*leaf & ~kFlag) | (flag ? kFlag : 0);
    }
  }
  Seg* Lookup(Addr a) const { return reinterpret_cast<Seg*>(EntryOf(a) & ~kFlag); }
  // The segment holding `a` if its page is flagged, else nullptr.
  Seg* LookupFlagged(Addr a) const {
    const Entry e = EntryOf(a);
    return (e & kFlag) != 0 ? reinterpret_cast<Seg*>(e & ~kFlag) : nullptr;
  }

 private:
  static constexpr int kPageShift = 12;
  static constexpr int kRegionShift = 30;
  static constexpr Addr kPage = Addr{1} << kPageShift;
  static constexpr std::size_t kLeafSize = std::size_t{1} << (kRegionShift - kPageShift);
  static constexpr std::size_t kTopSize = std::size_t{1} << (48 - kRegionShift);
  // A segment pointer, with the flag in its low bit (segments are aligned).
  using Entry = std::uintptr_t;
  static constexpr Entry kFlag = 1;
  static_assert(alignof(Seg) >= 2);

  Entry EntryOf(Addr a) const {
    const Addr top = a >> kRegionShift;
    if (top >= kTopSize || top_[top] == nullptr) return 0;
    return top_[top][(a >> kPageShift) & (kLeafSize - 1)];
  }

  Entry* Leaf(Addr a, bool create) {
    const Addr top = a >> kRegionShift;
    if (top >= kTopSize || top_ == unmapped_top_) return nullptr;
    if (top_[top] == nullptr) {
      if (!create) return nullptr;
      ZeroedMapping leaf(kLeafSize * sizeof(Entry));
      if (leaf.get() == nullptr) return nullptr;
      top_[top] = static_cast<Entry*>(leaf.get());
      leaves_.push_back(std::move(leaf));
    }
    return &top_[top][(a >> kPageShift) & (kLeafSize - 1)];
  }

  // Where the top level points if it cannot be mapped: every lookup finds
  // nothing, and Set fails. (Zero pages of the executable's bss.)
  static inline Entry* unmapped_top_[kTopSize] = {};

  ZeroedMapping top_storage_{kTopSize * sizeof(Entry*)};
  Entry** top_ =
      top_storage_.get() != nullptr ? static_cast<Entry**>(top_storage_.get()) : unmapped_top_;
  std::vector<ZeroedMapping> leaves_;
};

}  // namespace core::gc

#endif  // CORE_GC_SEGMENT_INDEX_H_
