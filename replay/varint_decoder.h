// Decoding runs of protobuf varints (the packed columns of a chunk) fast
// (internal to //replay:trace_io). The caller has checked that a run holds
// the varints it asks for, each ending in a byte below 0x80, and that the
// bytes are followed by kVarintPadding readable bytes, so loads never run
// off the end.
#ifndef REPLAY_VARINT_DECODER_H_
#define REPLAY_VARINT_DECODER_H_

#if defined(__x86_64__)
#include <emmintrin.h>  // SSE2, part of the x86-64 baseline.
#endif

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace replay::internal {

// Bytes past a run's end that the decoder may read: a 64-byte window from
// the last varint's first byte, and a 10-byte varint that starts at its end.
inline constexpr std::size_t kVarintPadding = 80;

namespace varint {

constexpr std::uint64_t kGroupBits = 0x7F7F7F7F7F7F7F7Full;

inline std::uint64_t Load64(const std::uint8_t* p) {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;  // Little-endian: the first byte is the lowest.
}

// Bit k set: byte p[k] (k < 64) ends a varint (is below 0x80).
inline std::uint64_t EndMask(const std::uint8_t* p) {
#if defined(__x86_64__)
  std::uint64_t high = 0;
  for (int k = 0; k < 4; ++k) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    high |= static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(bytes))) << (16 * k);
  }
  return ~high;
#else
  std::uint64_t high = 0;
  for (int k = 0; k < 8; ++k) {
    // The high bits of eight bytes gathered by a multiply into one byte.
    const std::uint64_t w = Load64(p + 8 * k) & 0x8080808080808080ull;
    high |= ((w * 0x0002040810204081ull) >> 56) << (8 * k);
  }
  return ~high;
#endif
}

// The 7-bit groups of a varint's first `bytes` bytes (1 to 8), from a word
// loaded at its start.
inline constexpr std::uint64_t GroupMask(unsigned bytes) { return kGroupBits >> (64 - 8 * bytes); }
inline constexpr struct {
  std::uint64_t mask[9];
} kGroupMasks = {{0, GroupMask(1), GroupMask(2), GroupMask(3), GroupMask(4), GroupMask(5),
                  GroupMask(6), GroupMask(7), GroupMask(8)}};

}  // namespace varint

// Two ways to pack the groups into the value. Portable: three
// shift-and-mask steps.
struct ShiftGroups {
  static std::uint64_t Pack(std::uint64_t w, unsigned bytes) {
    w &= varint::kGroupMasks.mask[bytes];
    w = (w & 0x007F007F007F007Full) | ((w & 0x7F007F007F007F00ull) >> 1);
    w = (w & 0x00003FFF00003FFFull) | ((w & 0x3FFF00003FFF0000ull) >> 2);
    return (w & 0x000000000FFFFFFFull) | ((w & 0x0FFFFFFF00000000ull) >> 4);
  }
};
#if defined(__x86_64__)
// BMI2's pext in one instruction, where it is fast (the caller checks).
// Inline assembly, so that the templates below need no target attribute.
struct PextGroups {
  static std::uint64_t Pack(std::uint64_t w, unsigned bytes) {
    std::uint64_t v;
    asm("pext %2, %1, %0" : "=r"(v) : "r"(w), "r"(varint::kGroupMasks.mask[bytes]));
    return v;
  }
};
#endif

namespace varint {

// A varint of 9 or 10 bytes at p, or false if it is longer (protobuf
// rejects those). Bits beyond 64 are dropped, as protobuf drops them.
inline bool DecodeLong(const std::uint8_t* p, unsigned bytes, std::uint64_t* value) {
  if (bytes > 10) return false;
  std::uint64_t v = ShiftGroups::Pack(Load64(p), 8) | std::uint64_t{p[8] & 0x7Fu} << 56;
  if (bytes == 10) v |= std::uint64_t{p[9]} << 63;
  *value = v;
  return true;
}

// Decodes the varints that end in the 64-byte window at *p (the set bits
// of `ends`, at most `limit` of them) into out[*i...], and moves *p past
// them. False on a varint of more than 10 bytes.
template <typename Groups, typename T>
inline bool DecodeWindow(const std::uint8_t** p, std::uint64_t ends, std::size_t limit,
                         std::size_t* i, T* out) {
  const std::uint8_t* const q = *p;
  std::size_t k = *i;
  const std::size_t stop = k + limit;
  unsigned start = 0;
  do {
    const unsigned end = static_cast<unsigned>(std::countr_zero(ends));
    const unsigned bytes = end - start + 1;
    std::uint64_t v;
    if (bytes <= 8) [[likely]] {
      v = Groups::Pack(Load64(q + start), bytes);
    } else if (!DecodeLong(q + start, bytes, &v)) {
      return false;
    }
    out[k++] = static_cast<T>(v);
    start = end + 1;
    ends &= ends - 1;
  } while (ends != 0 && k != stop);
  *p = q + start;
  *i = k;
  return true;
}

}  // namespace varint

// How many varints end in p[0, size): the bytes below 0x80.
inline std::size_t CountVarintEnds(const std::uint8_t* p, std::size_t size) {
  std::size_t continuations = 0, k = 0;
#if defined(__x86_64__)
  // Each byte's high bit moved to its bottom, summed by psadbw.
  __m128i sums = _mm_setzero_si128();
  for (; k + 16 <= size; k += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
    const __m128i highs = _mm_and_si128(_mm_srli_epi16(bytes, 7), _mm_set1_epi8(1));
    sums = _mm_add_epi64(sums, _mm_sad_epu8(highs, _mm_setzero_si128()));
  }
  continuations = static_cast<std::size_t>(_mm_cvtsi128_si64(sums)) +
                  static_cast<std::size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
#else
  for (; k + 8 <= size; k += 8) {
    // The high bits, moved to the bottom of each byte and summed by a
    // multiply (no popcnt instruction in the x86-64 baseline).
    continuations +=
        ((varint::Load64(p + k) >> 7) & 0x0101010101010101ull) * 0x0101010101010101ull >> 56;
  }
#endif
  for (; k < size; ++k) continuations += p[k] >> 7;
  return size - continuations;
}

// Decodes the next `n` varints at *cursor into out[0..n) and moves the
// cursor past them. Values are truncated to T as protobuf truncates uint32
// fields. False on a varint of more than 10 bytes.
//
// One mask of the bytes that end varints covers a 64-byte window, and each
// varint is loaded from its own start: no varint waits for the previous
// one's length, and the loop over a window's varints mispredicts once per
// window rather than once per 16 bytes.
template <typename Groups, typename T>
bool DecodeVarints(const std::uint8_t** cursor, std::size_t n, T* out) {
  const std::uint8_t* p = *cursor;
  std::size_t i = 0;
  while (i < n) {
    const std::uint64_t ends = varint::EndMask(p);
    // A window of 64 one-byte varints (kinds, mostly-zero columns).
    if (ends == ~std::uint64_t{0} && i + 64 <= n) {
      for (int k = 0; k < 64; ++k) out[i + k] = static_cast<T>(p[k]);
      p += 64;
      i += 64;
      continue;
    }
    if (ends == 0) return false;  // 64 bytes without an end.
    if (!varint::DecodeWindow<Groups>(&p, ends, n - i, &i, out)) return false;
  }
  *cursor = p;
  return true;
}

}  // namespace replay::internal

#endif  // REPLAY_VARINT_DECODER_H_
