#include "replay/crc32c.h"

#include <array>
#include <cstring>

namespace replay {
namespace {

constexpr std::array<std::uint32_t, 256> MakeTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0u);
    table[i] = crc;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kTable = MakeTable();

#if defined(__x86_64__)
// SSE4.2's crc32 instruction computes CRC-32C, eight bytes at a time, in
// three cycles: one dependent chain runs at a third of its throughput, so
// long inputs go as three interleaved stripes whose CRCs are combined.
constexpr std::size_t kStripe = 2048;

__attribute__((target("sse4.2"))) std::uint64_t Crc8(std::uint64_t c, const unsigned char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return __builtin_ia32_crc32di(c, word);
}

// What kStripe zero bytes do to the (uninverted) CRC register: a linear map
// over GF(2), applied a byte of the register at a time from tables. The CRC
// of a || b is then Zeros(crc of a) ^ (crc of b from a zero register).
class StripeZeros {
 public:
  __attribute__((target("sse4.2"))) StripeZeros() {
    static const unsigned char zeros[kStripe] = {};
    std::uint32_t bit_image[32];
    for (int b = 0; b < 32; ++b) {
      std::uint64_t c = std::uint64_t{1} << b;
      for (std::size_t k = 0; k < kStripe; k += 8) c = Crc8(c, zeros + k);
      bit_image[b] = static_cast<std::uint32_t>(c);
    }
    for (int byte = 0; byte < 4; ++byte) {
      for (unsigned v = 0; v < 256; ++v) {
        std::uint32_t image = 0;
        for (int j = 0; j < 8; ++j) {
          if ((v >> j) & 1) image ^= bit_image[8 * byte + j];
        }
        table_[byte][v] = image;
      }
    }
  }
  std::uint64_t operator()(std::uint64_t c) const {
    return table_[0][c & 0xFF] ^ table_[1][(c >> 8) & 0xFF] ^ table_[2][(c >> 16) & 0xFF] ^
           table_[3][(c >> 24) & 0xFF];
  }

 private:
  std::uint32_t table_[4][256];
};

__attribute__((target("sse4.2"))) std::uint32_t ExtendHardware(std::uint32_t crc,
                                                               const unsigned char* p,
                                                               std::size_t size) {
  std::uint64_t c = ~crc;
  if (size >= 3 * kStripe) {
    static const StripeZeros zeros;
    for (; size >= 3 * kStripe; p += 3 * kStripe, size -= 3 * kStripe) {
      std::uint64_t b = 0, d = 0;
      for (std::size_t k = 0; k < kStripe; k += 8) {
        c = Crc8(c, p + k);
        b = Crc8(b, p + kStripe + k);
        d = Crc8(d, p + 2 * kStripe + k);
      }
      c = zeros(zeros(c) ^ b) ^ d;
    }
  }
  for (; size >= 8; p += 8, size -= 8) c = Crc8(c, p);
  auto c32 = static_cast<std::uint32_t>(c);
  for (; size > 0; ++p, --size) c32 = __builtin_ia32_crc32qi(c32, *p);
  return ~c32;
}
#endif

}  // namespace

std::uint32_t Crc32cExtendPortable(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::uint32_t Crc32cExtend(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return ExtendHardware(crc, p, size);
#endif
  return Crc32cExtendPortable(crc, p, size);
}

}  // namespace replay
