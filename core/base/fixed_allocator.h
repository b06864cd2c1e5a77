// The interface through which a structure obtains fixed-size control blocks
// (CBS tree nodes). MFS implements it for pools; the arena implements it over
// its chunk headers for its own free-grain land. Allocation may fail with a
// Res, which is what lets a Failover land fall back to a FreeList.
#ifndef CORE_BASE_FIXED_ALLOCATOR_H_
#define CORE_BASE_FIXED_ALLOCATOR_H_

#include <cstddef>

#include "core/base/result.h"

namespace core {

class FixedAllocator {
 public:
  virtual ~FixedAllocator() = default;
  virtual std::size_t unit_size() const = 0;
  virtual Res AllocUnit(void** unit) = 0;
  virtual void FreeUnit(void* unit) = 0;
};

}  // namespace core

#endif  // CORE_BASE_FIXED_ALLOCATOR_H_
