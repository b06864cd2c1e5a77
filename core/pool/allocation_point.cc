#include "core/pool/allocation_point.h"

namespace core {

void AllocationPoint::Flush() {
  if (limit_ != init_) pool_->EmptyBuffer({init_, limit_});
  base_ = init_ = alloc_ = limit_ = 0;
}

Res AllocationPoint::ReserveSlow(std::size_t size, void** p) {
  std::size_t rounded;
  if (size == 0 || !SizeAlignUp(size, align_, &rounded)) return Res::kParam;
  Flush();
  Range buffer;
  Res res = pool_->FillBuffer(rounded, &buffer);
  if (res != Res::kOk) return res;
  base_ = init_ = buffer.base;
  limit_ = buffer.limit;
  alloc_ = init_ + rounded;
  *p = ToPointer(init_);
  return Res::kOk;
}

}  // namespace core
