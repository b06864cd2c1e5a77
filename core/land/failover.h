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

  Res Insert(Range range, Range* coalesced) override;
  Res Delete(Range range, Range* old) override;
  bool FindFirst(std::size_t size, FindDelete mode, Range* found, Range* old) override;
  bool FindLast(std::size_t size, FindDelete mode, Range* found, Range* old) override;
  bool FindLargest(std::size_t size, FindDelete mode, Range* found, Range* old) override;
  void Iterate(FunctionRef<bool(Range)> visit) const override;
  std::size_t TotalSize() const override;
  std::size_t BlockCount() const override;
  CheckResult Check() const override;
  void Describe(std::ostream& os) const override;

  // Moves blocks from the secondary into the primary while it accepts them.
  void Flush();

  const Land& primary() const { return *primary_; }
  const Land& secondary() const { return *secondary_; }

 private:
  using FindFn = bool (Land::*)(std::size_t, FindDelete, Range*, Range*);
  // Runs `find` on both lands, takes the answer `better` prefers, and
  // deletes there.
  template <typename Better>
  bool FindIn(FindFn find, std::size_t size, FindDelete mode, Range* found, Range* old,
              Better better);

  Land* primary_;
  Land* secondary_;
};

}  // namespace core

#endif  // CORE_LAND_FAILOVER_H_
