// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI,
// ext4 and LevelDB: the checksum of every trace record (traces/FORMAT.md).
#ifndef REPLAY_CRC32C_H_
#define REPLAY_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace replay {

// Extends `crc` (the CRC-32C of some earlier bytes, 0 for none) over
// data[0, size). Crc32c("123456789") == 0xE3069283.
std::uint32_t Crc32cExtend(std::uint32_t crc, const void* data, std::size_t size);
// The same, one byte at a time from a table: what Crc32cExtend falls back
// to without SSE4.2, and what tests check the fast path against.
std::uint32_t Crc32cExtendPortable(std::uint32_t crc, const void* data, std::size_t size);

inline std::uint32_t Crc32c(const void* data, std::size_t size) {
  return Crc32cExtend(0, data, size);
}

}  // namespace replay

#endif  // REPLAY_CRC32C_H_
