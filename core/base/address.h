// Addresses, sizes and address ranges. Addresses are integers (uintptr_t) in
// the core so that arithmetic on them is explicit; Range is the half-open
// interval [base, limit) used by arenas, lands and pools alike.
#ifndef CORE_BASE_ADDRESS_H_
#define CORE_BASE_ADDRESS_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <ostream>

namespace core {

using Addr = std::uintptr_t;

inline constexpr std::size_t kWordSize = sizeof(void*);

constexpr bool IsPowerOfTwo(std::size_t x) { return std::has_single_bit(x); }

// `align` must be a power of two.
constexpr Addr AlignDown(Addr x, std::size_t align) { return x & ~(Addr{align} - 1); }
constexpr Addr AlignUp(Addr x, std::size_t align) { return (x + (align - 1)) & ~(Addr{align} - 1); }
constexpr bool IsAligned(Addr x, std::size_t align) { return (x & (Addr{align} - 1)) == 0; }

// Rounds `size` up to `align`, reporting overflow instead of wrapping.
constexpr bool SizeAlignUp(std::size_t size, std::size_t align, std::size_t* out) {
  if (size > SIZE_MAX - (align - 1)) return false;
  *out = (size + (align - 1)) & ~(align - 1);
  return true;
}

inline Addr ToAddr(const void* p) { return reinterpret_cast<Addr>(p); }
inline void* ToPointer(Addr a) { return reinterpret_cast<void*>(a); }

struct Range {
  Addr base = 0;
  Addr limit = 0;

  constexpr std::size_t size() const { return limit - base; }
  constexpr bool empty() const { return base == limit; }
  constexpr bool Contains(Addr a) const { return base <= a && a < limit; }
  constexpr bool Contains(Range r) const { return base <= r.base && r.limit <= limit; }
  constexpr bool Overlaps(Range r) const { return base < r.limit && r.base < limit; }
  friend constexpr bool operator==(Range a, Range b) = default;
};

std::ostream& operator<<(std::ostream& os, Range r);

}  // namespace core

#endif  // CORE_BASE_ADDRESS_H_
