// Fixed-size units for the arena's own Cbs nodes, carved from regions in
// the chunk headers. Each chunk contributes room for more nodes than its
// lands can ever need (see DESIGN.md), so the arena's lands never fail for
// lack of nodes. Units are handed out by bumping through regions and
// recycled through a FreeStack, so unused header pages are never touched.
#ifndef CORE_ARENA_NODE_STORE_H_
#define CORE_ARENA_NODE_STORE_H_

#include <vector>

#include "core/base/address.h"
#include "core/base/fixed_allocator.h"
#include "core/base/free_stack.h"

namespace core {

class NodeStore final : public FixedAllocator {
 public:
  explicit NodeStore(std::size_t unit_size) : unit_size_(unit_size) {}

  std::size_t unit_size() const override { return unit_size_; }
  Res AllocUnit(void** unit) override;
  void FreeUnit(void* unit) override { free_.Push(unit); }

  // Adds room for units in [region); it must stay valid while units are used.
  void AddRegion(Range region);
  std::size_t units_in_use() const;

 private:
  std::size_t unit_size_;
  FreeStack free_;
  std::vector<Range> regions_;  // Unused tails: [bump, limit).
  std::size_t units_bumped_ = 0;
};

}  // namespace core

#endif  // CORE_ARENA_NODE_STORE_H_
