// MVFF, manual variable first fit (after MPS's poolmvff): variable-size
// blocks carved from the free blocks of a coalescing land. Free memory is a
// Failover land: a BTreeCbs whose nodes come from an internal MFS pool, backed by
// a FreeList in the free blocks themselves for when MFS cannot extend. So an
// allocation may span the boundary of two arena segments, and freeing never
// fails for lack of memory. When free memory exceeds `spare` of the total,
// whole free grains go back to the arena. Allocation points are filled
// worst fit (the largest free block), and mix with plain Alloc/Free.
#ifndef CORE_POOLS_MVFF_H_
#define CORE_POOLS_MVFF_H_

#include "core/land/btree_cbs.h"
#include "core/land/failover.h"
#include "core/land/freelist.h"
#include "core/pool/allocation_point.h"
#include "core/pool/pool.h"
#include "core/pools/mfs.h"

namespace core {

// MPS's MVFF keyword arguments, with MPS's defaults.
struct MvffOptions {
  std::size_t extend_by = std::size_t{64} << 10;  // Bytes per arena request.
  std::size_t mean_size = 32;                     // Expected block size: sizes the node pool.
  std::size_t align = 16;                         // Block alignment (as malloc's), >= a word.
  bool first_fit = true;                          // Lowest (true) or highest suitable block.
  bool slot_high = false;                         // Carve from the block's high end.
  bool arena_high = false;                        // Ask the arena for high addresses.
  double spare = 0.75;                            // Free fraction kept before returning grains.
};

class Mvff final : public Pool, public BufferedPool {
 public:
  // `options` must pass Validate.
  Mvff(Arena* arena, const MvffOptions& options);
  ~Mvff() override;

  // kOk if `options` are acceptable; kParam otherwise.
  static Res Validate(const MvffOptions& options);

  const char* class_name() const override { return "MVFF"; }
  Res Alloc(std::size_t size, void** p) override;
  Res Free(void* p, std::size_t size) override;
  std::size_t TotalSize() const override { return total_; }
  std::size_t FreeSize() const override { return tree_.TotalSize() + freelist_.TotalSize(); }
  void WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const override;
  CheckResult Check() const override;
  void Describe(std::ostream& os) const override;

  // BufferedPool, for AllocationPoint.
  Res FillBuffer(std::size_t size, Range* buffer) override;
  void EmptyBuffer(Range unused) override;
  std::size_t alignment() const override { return align_; }

  const MvffOptions& options() const { return options_; }
  // Blocks held by the fallback FreeList (non-zero only after node
  // allocation failed), for tests and Describe.
  std::size_t fallback_blocks() const { return freelist_.BlockCount(); }

 private:
  // Finds and deletes `size` bytes by the first_fit/slot_high policy.
  bool FindAndDelete(std::size_t size, Range* found);
  // Gets a segment of at least `size` bytes from the arena into the land.
  Res Extend(std::size_t size);
  // Returns whole free grains to the arena while free > spare * total.
  void Reduce();
  // Adds `delta` (two's complement) to total_ and recomputes reduce_above_.
  void AddTotal(std::size_t delta);

  const MvffOptions options_;
  const std::size_t align_;
  Mfs node_pool_;
  BTreeCbs tree_;
  FreeList freelist_;
  Failover land_;
  std::size_t total_ = 0;  // Bytes held from the arena.
  // floor(spare * total_): free > spare * total exactly when free exceeds
  // it, so Free compares integers instead of converting to double.
  std::size_t reduce_above_ = 0;
};

}  // namespace core

#endif  // CORE_POOLS_MVFF_H_
