// An allocation point (MPS's mps_ap_t): a buffer of pool memory from which
// a client reserves and commits blocks by bumping a pointer, without
// calling the pool. The reserve fast path is inline; filling and emptying
// the buffer go to the pool out of line.
#ifndef CORE_POOL_ALLOCATION_POINT_H_
#define CORE_POOL_ALLOCATION_POINT_H_

#include <cstddef>

#include "core/base/address.h"
#include "core/base/result.h"

namespace core {

// What a pool implements to serve allocation points.
class BufferedPool {
 public:
  virtual ~BufferedPool() = default;
  // Gives the buffer a range of at least `size` bytes.
  virtual Res FillBuffer(std::size_t size, Range* buffer) = 0;
  // Takes back the unused end of a buffer (may be empty).
  virtual void EmptyBuffer(Range unused) = 0;
  virtual std::size_t alignment() const = 0;
};

class AllocationPoint {
 public:
  explicit AllocationPoint(BufferedPool* pool) : pool_(pool), align_(pool->alignment()) {}
  ~AllocationPoint() { Flush(); }
  AllocationPoint(const AllocationPoint&) = delete;
  AllocationPoint& operator=(const AllocationPoint&) = delete;

  // Reserves `size` bytes (rounded up to the pool's alignment) at *p. The
  // block is the client's to initialise; Commit makes it an object.
  Res Reserve(std::size_t size, void** p) {
    const std::size_t rounded = AlignUp(size, align_);
    if (size != 0 && rounded >= size && rounded <= limit_ - init_) [[likely]] {
      alloc_ = init_ + rounded;
      *p = ToPointer(init_);
      return Res::kOk;
    }
    return ReserveSlow(size, p);
  }

  // Commits the block last reserved. Manual pools never invalidate a
  // reservation, so this is always true; automatic pools (a flip during
  // the reservation) make it false, and the client reserves again.
  bool Commit(void* p, std::size_t size) {
    (void)p, (void)size;
    init_ = alloc_;
    return true;
  }

  // Returns the unused part of the buffer to the pool.
  void Flush();

  Range buffer() const { return {base_, limit_}; }
  std::size_t unused() const { return limit_ - init_; }

 private:
  Res ReserveSlow(std::size_t size, void** p);

  BufferedPool* pool_;
  std::size_t align_;
  Addr base_ = 0;   // Start of the current buffer.
  Addr init_ = 0;   // End of committed objects.
  Addr alloc_ = 0;  // End of the current reservation.
  Addr limit_ = 0;  // End of the buffer.
};

}  // namespace core

#endif  // CORE_POOL_ALLOCATION_POINT_H_
