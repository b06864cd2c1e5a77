// Fixed-size units for the arena's own Cbs nodes, carved from regions in
// the chunk headers. Each chunk contributes room for more nodes than its
// lands can ever need (see DESIGN.md). A region is committed a grain at a
// time as units are needed: the arena keeps a reserve of committed units
// (EnsureReserve) so that its lands never fail for lack of nodes, and
// memory for nodes is only committed when fragmentation calls for it.
// Units are handed out by bumping and recycled through a FreeStack.
#ifndef CORE_ARENA_NODE_STORE_H_
#define CORE_ARENA_NODE_STORE_H_

#include <vector>

#include "core/base/address.h"
#include "core/base/fixed_allocator.h"
#include "core/base/free_stack.h"
#include "core/base/result.h"

namespace core {

class NodeStore final : public FixedAllocator {
 public:
  explicit NodeStore(std::size_t unit_size) : unit_size_(unit_size) {}

  std::size_t unit_size() const override { return unit_size_; }
  Res AllocUnit(void** unit) override;
  void FreeUnit(void* unit) override { free_.Push(unit); }

  // Adds room for units in [region); the part below `committed` is usable
  // now, the rest after MarkCommitted. It must stay valid while units are
  // used.
  void AddRegion(Range region, Addr committed);
  // Units that can be had without committing more memory.
  std::size_t available() const;
  // The next grain of some region that is not committed yet; false if every
  // region is committed.
  bool NextUncommitted(std::size_t grain, Range* range) const;
  // Records that `range` (from NextUncommitted) is now committed.
  void MarkCommitted(Range range);
  std::size_t units_in_use() const;

 private:
  struct Region {
    Addr bump;       // Next unit never handed out.
    Addr committed;  // End of the committed part.
    Addr limit;
  };
  std::size_t unit_size_;
  FreeStack free_;
  std::vector<Region> regions_;
  std::size_t units_bumped_ = 0;
};

}  // namespace core

#endif  // CORE_ARENA_NODE_STORE_H_
