// A land made of a primary land (a Cbs) and a secondary one (a FreeList)
// that takes over when the primary cannot get control memory: inserting a
// range the Cbs has no node for puts it in the FreeList instead, and a
// deletion that would split a Cbs block without a node moves the fragments
// there. As memory comes back, blocks are flushed from the secondary into
// the primary, so the slow FreeList stays short.
//
// Unlike MPS's failover, finds consult both lands and return the best answer
// (lowest / highest / largest), so first fit stays first fit when some
// blocks sit in the secondary. A block may be split across both lands at
// their boundary; Find* sees each part separately, which can only make a
// request of exactly the combined size fail until the next flush.
#ifndef CORE_LAND_FAILOVER_H_
#define CORE_LAND_FAILOVER_H_

#include "core/land/land.h"

namespace core {

class Failover final : public Land {
 public:
  // Both lands must be empty and outlive the Failover.
  Failover(Land* primary, Land* secondary);

  // Usually the secondary is empty (nodes have not run out), and then the
  // primary alone answers: that fast path is inline, so a pool holding a
  // Failover by value pays two indirect calls, not a walk through both lands.
  Res Insert(Range range, Range* coalesced) override {
    if (secondary_->BlockCount() != 0) return InsertBoth(range, coalesced);
    const Res res = primary_->Insert(range, coalesced);
    return res == Res::kMemory ? secondary_->Insert(range, coalesced) : res;
  }
  Res Delete(Range range, Range* old) override;
  bool FindFirst(std::size_t size, FindDelete mode, Range* found, Range* old) override {
    if (secondary_->BlockCount() == 0) return primary_->FindFirst(size, mode, found, old);
    return FindFirstInBoth(size, mode, found, old);
  }
  bool FindLast(std::size_t size, FindDelete mode, Range* found, Range* old) override {
    if (secondary_->BlockCount() == 0) return primary_->FindLast(size, mode, found, old);
    return FindLastInBoth(size, mode, found, old);
  }
  bool FindLargest(std::size_t size, FindDelete mode, Range* found, Range* old) override {
    if (secondary_->BlockCount() == 0) return primary_->FindLargest(size, mode, found, old);
    return FindLargestInBoth(size, mode, found, old);
  }
  void Iterate(FunctionRef<bool(Range)> visit) const override;
  std::size_t TotalSize() const override { return primary_->TotalSize() + secondary_->TotalSize(); }
  std::size_t BlockCount() const override {
    return primary_->BlockCount() + secondary_->BlockCount();
  }
  CheckResult Check() const override;
  void Describe(std::ostream& os) const override;

  // Moves blocks from the secondary into the primary while it accepts them.
  void Flush();

  const Land& primary() const { return *primary_; }
  const Land& secondary() const { return *secondary_; }

 private:
  using FindFn = bool (Land::*)(std::size_t, FindDelete, Range*, Range*);
  // Insert with blocks in the secondary: flush first, and check the range
  // against the secondary's blocks.
  Res InsertBoth(Range range, Range* coalesced);
  // Runs `find` on both lands, takes the answer `better` prefers, and
  // deletes there.
  template <typename Better>
  bool FindInBoth(FindFn find, std::size_t size, FindDelete mode, Range* found, Range* old,
                  Better better);
  bool FindFirstInBoth(std::size_t size, FindDelete mode, Range* found, Range* old);
  bool FindLastInBoth(std::size_t size, FindDelete mode, Range* found, Range* old);
  bool FindLargestInBoth(std::size_t size, FindDelete mode, Range* found, Range* old);

  Land* primary_;
  Land* secondary_;
};

}  // namespace core

#endif  // CORE_LAND_FAILOVER_H_
