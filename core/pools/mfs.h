// MFS, manual fixed small (after MPS's poolmfs): a pool of one unit size.
// Free units form a stack threaded through the units themselves, so alloc
// and free are a pop and a push, O(1) and inline. Fresh units are carved
// from the newest extent by bumping, so an extent is not touched until it
// is used. As in MPS, memory is never returned to the arena while the pool
// lives. MFS also serves tree nodes to Cbs lands (FixedAllocator).
#ifndef CORE_POOLS_MFS_H_
#define CORE_POOLS_MFS_H_

#include "core/base/fixed_allocator.h"
#include "core/base/free_stack.h"
#include "core/pool/pool.h"

namespace core {

struct MfsOptions {
  std::size_t unit_size = 0;                      // Rounded up to a word.
  std::size_t extend_by = std::size_t{64} << 10;  // Bytes per arena request.
  SegmentType type = SegmentType::kManualFixed;
};

class Mfs final : public Pool, public FixedAllocator {
 public:
  // unit_size must be at least 1; it is rounded up to a word.
  Mfs(Arena* arena, const MfsOptions& options);
  ~Mfs() override = default;

  const char* class_name() const override { return "MFS"; }

  // The fast path: pop the free stack.
  Res AllocUnit(void** p) override {
    if (void* unit = free_.Pop()) [[likely]] {
      *p = unit;
      return Res::kOk;
    }
    return AllocSlow(p);
  }
  void FreeUnit(void* p) override { free_.Push(p); }
  std::size_t unit_size() const override { return unit_size_; }

  Res Alloc(std::size_t size, void** p) override {
    if (size > unit_size_ || size == 0) return Res::kParam;
    return AllocUnit(p);
  }
  Res Free(void* p, std::size_t size) override {
    if (size > unit_size_ || p == nullptr) return Res::kParam;
    FreeUnit(p);
    return Res::kOk;
  }

  std::size_t TotalSize() const override { return total_; }
  std::size_t FreeSize() const override { return total_ - units_in_use() * unit_size_; }
  std::size_t units_in_use() const { return units_carved_ - free_.count(); }

  void WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const override;
  CheckResult Check() const override;
  void Describe(std::ostream& os) const override;

 private:
  // Carves a unit from the current extent, extending the pool if needed.
  Res AllocSlow(void** p);

  const std::size_t unit_size_;
  const std::size_t extend_by_;
  const SegmentType type_;
  FreeStack free_;
  Addr bump_ = 0;   // Next uncarved unit of the newest extent.
  Addr limit_ = 0;  // End of the newest extent.
  std::size_t total_ = 0;
  std::size_t units_carved_ = 0;
};

}  // namespace core

#endif  // CORE_POOLS_MFS_H_
