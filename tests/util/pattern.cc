#include "tests/util/pattern.h"

#include <cstring>

namespace testing_util {
namespace {

// A byte of the pattern for `tag` at offset `i`: cheap, and different for
// neighbouring tags and offsets.
inline unsigned char PatternByte(std::uint64_t tag, std::size_t i) {
  std::uint64_t x = (tag + i / 8) * 0x9E3779B97F4A7C15ull;
  return static_cast<unsigned char>(x >> (8 * (i % 8)));
}

}  // namespace

void FillPattern(void* p, std::size_t size, std::uint64_t tag) {
  auto* bytes = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = PatternByte(tag, i);
}

std::size_t FirstPatternMismatch(const void* p, std::size_t size, std::uint64_t tag) {
  const auto* bytes = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] != PatternByte(tag, i)) return i;
  }
  return size;
}

}  // namespace testing_util
