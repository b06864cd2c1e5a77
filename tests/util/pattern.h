// Block contents for pool stress tests (after MPS's mpmss): every allocated
// block is filled with a pattern derived from a tag, and checked when it is
// freed, so overlapping blocks or stray writes by a pool are caught.
#ifndef TESTS_UTIL_PATTERN_H_
#define TESTS_UTIL_PATTERN_H_

#include <cstddef>
#include <cstdint>

namespace testing_util {

void FillPattern(void* p, std::size_t size, std::uint64_t tag);
// The offset of the first byte that differs from the pattern, or `size`.
std::size_t FirstPatternMismatch(const void* p, std::size_t size, std::uint64_t tag);
inline bool CheckPattern(const void* p, std::size_t size, std::uint64_t tag) {
  return FirstPatternMismatch(p, size, tag) == size;
}

}  // namespace testing_util

#endif  // TESTS_UTIL_PATTERN_H_
