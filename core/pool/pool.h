// The interface every pool class implements, after MPS's pool classes:
// allocate and free, report sizes, walk segments and blocks, describe and
// check. Results are Res codes; nothing throws. Hot paths are reached
// through the concrete `final` classes (Mfs::AllocUnit, AllocationPoint),
// not through these virtual calls.
#ifndef CORE_POOL_POOL_H_
#define CORE_POOL_POOL_H_

#include <cstddef>
#include <cstdint>
#include <ostream>

#include "core/arena/arena.h"
#include "core/base/address.h"
#include "core/base/check.h"
#include "core/base/function_ref.h"
#include "core/base/result.h"

namespace core {

class Pool {
 public:
  virtual ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // The class name as MPS spells it ("MFS", "MVFF", "NodeSlice").
  virtual const char* class_name() const = 0;

  // Allocates `size` bytes. kCommitLimit / kResource when the arena cannot
  // supply memory; kParam when the pool cannot serve that size.
  virtual Res Alloc(std::size_t size, void** p) = 0;
  // Frees a block from Alloc, with the size it was allocated with. kParam
  // when the pool can tell the block is not a live block of its own.
  virtual Res Free(void* p, std::size_t size) = 0;

  // Bytes the pool holds from the arena, and how many of them are free.
  virtual std::size_t TotalSize() const = 0;
  virtual std::size_t FreeSize() const = 0;

  // Visits the pool's segments in address order.
  void WalkSegments(FunctionRef<bool(const Segment&)> visit) const;
  // Visits the pool's memory in address order as runs of allocated or free
  // bytes (a pool that does not track block boundaries reports adjacent
  // allocated blocks as one run).
  virtual void WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const = 0;

  virtual CheckResult Check() const = 0;
  virtual void Describe(std::ostream& os) const = 0;

  Arena* arena() const { return arena_; }
  std::uint32_t id() const { return id_; }

 protected:
  explicit Pool(Arena* arena);

  Res AcquireSegment(std::size_t size, SegmentType type, bool high, Range* segment) {
    return arena_->Alloc(size, id_, type, high, segment);
  }
  Res ReleaseSegment(Range segment) { return arena_->Free(segment); }
  // True if every grain of `range` belongs to this pool.
  bool Owns(Range range) const;
  // Walks [segments) splitting them at the pool's free runs, given in
  // address order by `free_runs`; the shared body of WalkBlocks.
  void WalkRuns(FunctionRef<void(FunctionRef<bool(Range)>)> free_runs,
                FunctionRef<bool(Range, bool)> visit) const;

 private:
  Arena* arena_;
  std::uint32_t id_;
};

}  // namespace core

#endif  // CORE_POOL_POOL_H_
