// The pattern --verify writes into every block (and the payload of every
// GC object): a function of the object's id and the offset, so an overlap
// or stray write shows as a mismatch at a known offset.
#ifndef REPLAY_BLOCK_PATTERN_H_
#define REPLAY_BLOCK_PATTERN_H_

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace replay {

inline std::uint64_t PatternWord(std::uint64_t id, std::uint64_t word) {
  return (id * 0x9E3779B97F4A7C15ull) ^ (word * 0xC2B2AE3D27D4EB4Full);
}

inline void FillPattern(void* p, std::uint64_t size, std::uint64_t id) {
  auto* bytes = static_cast<unsigned char*>(p);
  for (std::uint64_t i = 0; i < size; i += 8) {
    const std::uint64_t w = PatternWord(id, i / 8);
    std::memcpy(bytes + i, &w, std::min<std::uint64_t>(8, size - i));
  }
}

// The first offset where the pattern differs, or `size`.
inline std::uint64_t PatternMismatch(const void* p, std::uint64_t size, std::uint64_t id) {
  const auto* bytes = static_cast<const unsigned char*>(p);
  for (std::uint64_t i = 0; i < size; i += 8) {
    const std::uint64_t w = PatternWord(id, i / 8);
    const std::uint64_t n = std::min<std::uint64_t>(8, size - i);
    if (std::memcmp(bytes + i, &w, n) != 0) {
      for (std::uint64_t j = 0; j < n; ++j) {
        if (bytes[i + j] != reinterpret_cast<const unsigned char*>(&w)[j]) return i + j;
      }
    }
  }
  return size;
}

}  // namespace replay

#endif  // REPLAY_BLOCK_PATTERN_H_
