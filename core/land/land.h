// A Land is a set of address ranges, stored as maximal (coalesced) blocks,
// after MPS's design/land: the free-memory structure of the arena and of
// MVFF. Implementations: Cbs (balanced tree, O(log n)), FreeList (links
// stored inside the free blocks, O(n), needs no other memory), Failover
// (a Cbs that falls back to a FreeList when it cannot get tree nodes).
#ifndef CORE_LAND_LAND_H_
#define CORE_LAND_LAND_H_

#include <cstddef>
#include <ostream>

#include "core/base/address.h"
#include "core/base/check.h"
#include "core/base/function_ref.h"
#include "core/base/result.h"

namespace core {

// What a Find* call deletes from the block it finds.
enum class FindDelete {
  kNone,    // Delete nothing; *found is the whole block.
  kLow,     // Delete `size` bytes from the low end of the block.
  kHigh,    // Delete `size` bytes from the high end of the block.
  kEntire,  // Delete the whole block.
};

class Land {
 public:
  virtual ~Land() = default;

  // Adds `range`, which must not overlap the land, coalescing with adjacent
  // blocks. *coalesced receives the block now containing it. kMemory when a
  // new block is needed and no control memory is available; kFail on overlap.
  virtual Res Insert(Range range, Range* coalesced) = 0;

  // Removes `range`, which must lie inside one block; *old receives that
  // block (on kMemory too). kFail if it does not; kMemory if splitting a
  // block needs control memory that is not available (the land is then
  // unchanged).
  virtual Res Delete(Range range, Range* old) = 0;

  // Find the lowest-addressed / highest-addressed / largest block of at least
  // `size` bytes, then delete from it as `mode` says. *found is the deleted
  // part (the whole block for kNone) and *old the block before deletion.
  // Deleting from a found block never needs control memory.
  virtual bool FindFirst(std::size_t size, FindDelete mode, Range* found, Range* old) = 0;
  virtual bool FindLast(std::size_t size, FindDelete mode, Range* found, Range* old) = 0;
  virtual bool FindLargest(std::size_t size, FindDelete mode, Range* found, Range* old) = 0;

  // Visits blocks in address order until `visit` returns false. The visitor
  // must not modify the land.
  virtual void Iterate(FunctionRef<bool(Range)> visit) const = 0;

  virtual std::size_t TotalSize() const = 0;   // Sum of block sizes.
  virtual std::size_t BlockCount() const = 0;  // Number of blocks.

  virtual CheckResult Check() const = 0;
  virtual void Describe(std::ostream& os) const = 0;
};

// The part of `block` (of at least `size` bytes) that `mode` deletes.
// Inline: it is on every allocation's path.
inline Range FindDeletePart(Range block, std::size_t size, FindDelete mode) {
  switch (mode) {
    case FindDelete::kNone:
    case FindDelete::kEntire:
      return block;
    case FindDelete::kLow:
      return {block.base, block.base + size};
    case FindDelete::kHigh:
      return {block.limit - size, block.limit};
  }
  return block;
}

}  // namespace core

#endif  // CORE_LAND_LAND_H_
