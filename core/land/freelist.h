// A land that keeps its blocks in an address-ordered singly-linked list
// stored inside the free blocks themselves, so it needs no memory of its
// own and Insert never fails for lack of control memory. Operations are
// O(n): it is the fallback behind a Cbs (see Failover), as in MPS.
//
// Every block must be committed, writable memory, aligned to `alignment`
// (a power of two >= one word). A block of one word holds only its link,
// tagged in the low bit; larger blocks hold the link and their limit.
#ifndef CORE_LAND_FREELIST_H_
#define CORE_LAND_FREELIST_H_

#include "core/land/land.h"

namespace core {

class FreeList final : public Land {
 public:
  explicit FreeList(std::size_t alignment = kWordSize);
  FreeList(const FreeList&) = delete;
  FreeList& operator=(const FreeList&) = delete;

  Res Insert(Range range, Range* coalesced) override;
  Res Delete(Range range, Range* old) override;
  bool FindFirst(std::size_t size, FindDelete mode, Range* found, Range* old) override;
  bool FindLast(std::size_t size, FindDelete mode, Range* found, Range* old) override;
  bool FindLargest(std::size_t size, FindDelete mode, Range* found, Range* old) override;
  void Iterate(FunctionRef<bool(Range)> visit) const override;
  std::size_t TotalSize() const override { return total_size_; }
  std::size_t BlockCount() const override { return count_; }
  CheckResult Check() const override;
  void Describe(std::ostream& os) const override;

  std::size_t alignment() const { return alignment_; }

 private:
  // Block headers live at the block's base; 0 terminates the list.
  static Addr Next(Addr block);
  static Addr Limit(Addr block);
  // Writes a block header for [base, limit) pointing at `next`.
  static void Write(Addr base, Addr limit, Addr next);
  // Makes the link that leads to `block` (the head, or prev's link) point
  // at `next`. `prev` is 0 for the head.
  void Relink(Addr prev, Addr next);
  // Removes `part` (at an end of, or all of, block) given its predecessor.
  void DeletePart(Addr prev, Range block, Range part);
  bool Finish(Addr prev, Range block, std::size_t size, FindDelete mode, Range* found, Range* old);

  std::size_t alignment_;
  Addr head_ = 0;
  std::size_t total_size_ = 0;
  std::size_t count_ = 0;
};

}  // namespace core

#endif  // CORE_LAND_FREELIST_H_
