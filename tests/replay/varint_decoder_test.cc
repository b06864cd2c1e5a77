// The column varint decoder (replay/varint_decoder.h) against a byte-at-a-
// time reference: random runs of every length at every offset of its
// 64-byte window, with each way of packing groups this CPU can run.
#include "replay/varint_decoder.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "replay/trace_format.h"
#include "tests/util/seed.h"

namespace replay_test {
namespace {

using replay::internal::DecodeVarints;
using replay::internal::kVarintPadding;
using replay::internal::ShiftGroups;

void AppendVarint(std::string* out, std::uint64_t v) {
  for (; v >= 0x80; v >>= 7) out->push_back(static_cast<char>(v | 0x80));
  out->push_back(static_cast<char>(v));
}

// The reference: one byte at a time, bits beyond 64 dropped.
std::uint64_t ReferenceVarint(const std::uint8_t** p) {
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const std::uint8_t byte = *(*p)++;
    if (shift < 64) v |= std::uint64_t{byte & 0x7Fu} << shift;
    if (byte < 0x80) return v;
  }
}

// A value of exactly `bytes` bytes (1 to 10) as a varint.
std::uint64_t ValueOfLength(std::mt19937_64& rng, int bytes) {
  if (bytes == 10) return rng() | std::uint64_t{1} << 63;
  const std::uint64_t low = bytes == 1 ? 0 : std::uint64_t{1} << (7 * (bytes - 1));
  const std::uint64_t high = (std::uint64_t{1} << (7 * bytes)) - 1;
  return low + rng() % (high - low + 1);
}

// Decodes `n` varints of `bytes` (padded as the reader pads) with Groups
// into T, and checks values and the cursor against the reference.
template <typename Groups, typename T>
void ExpectDecodes(const std::string& bytes, std::size_t n) {
  std::string padded = bytes;
  padded.append(kVarintPadding, '\0');
  const auto* begin = reinterpret_cast<const std::uint8_t*>(padded.data());
  const std::uint8_t* cursor = begin;
  std::vector<T> out(n + 1, T{0x55});
  ASSERT_TRUE((DecodeVarints<Groups, T>(&cursor, n, out.data())));
  const std::uint8_t* reference = begin;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(out[i], static_cast<T>(ReferenceVarint(&reference))) << "varint " << i;
  }
  EXPECT_EQ(cursor, reference);
  EXPECT_EQ(out[n], T{0x55}) << "wrote past the end";
}

template <typename Groups>
void CheckRandomRuns(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 400; ++round) {
    // Runs of short varints, long ones, one-byte ones, and mixes.
    const int style = static_cast<int>(rng() % 4);
    const std::size_t n = rng() % 300;
    std::string bytes;
    for (std::size_t i = 0; i < n; ++i) {
      int length = 1;
      if (style == 1) length = 1 + static_cast<int>(rng() % 3);
      if (style == 2) length = 1 + static_cast<int>(rng() % 10);
      if (style == 3) length = rng() % 16 == 0 ? 1 + static_cast<int>(rng() % 10) : 1;
      AppendVarint(&bytes, ValueOfLength(rng, length));
    }
    // Decode some prefix of the run, as a batch takes part of a column.
    const std::size_t take = n == 0 ? 0 : rng() % (n + 1);
    SCOPED_TRACE(absl::StrCat("round ", round, " style ", style, " n ", n, " take ", take));
    ExpectDecodes<Groups, std::uint64_t>(bytes, take);
    ExpectDecodes<Groups, std::uint32_t>(bytes, take);
  }
}

TEST(VarintDecoderTest, RandomRunsMatchTheReference) {
  const std::uint64_t seed = testing_util::TestSeed();
  SCOPED_TRACE(absl::StrCat("seed=", seed));
  CheckRandomRuns<ShiftGroups>(seed);
#if defined(__x86_64__)
  if (replay::internal::PextAvailable()) CheckRandomRuns<replay::internal::PextGroups>(seed);
#endif
}

// Every length at every offset of the window, and across its end.
TEST(VarintDecoderTest, EveryLengthAtEveryOffset) {
  std::mt19937_64 rng(1);
  for (int lead = 0; lead < 70; ++lead) {
    for (int length = 1; length <= 10; ++length) {
      std::string bytes(static_cast<std::size_t>(lead), '\x05');
      AppendVarint(&bytes, ValueOfLength(rng, length));
      AppendVarint(&bytes, 3);
      SCOPED_TRACE(absl::StrCat("lead ", lead, " length ", length));
      ExpectDecodes<ShiftGroups, std::uint64_t>(bytes, static_cast<std::size_t>(lead) + 2);
    }
  }
}

TEST(VarintDecoderTest, CountsVarintEnds) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  std::string bytes(1000, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() % 3 == 0 ? rng() & 0x7F : rng() | 0x80);
  for (std::size_t start = 0; start < 17; ++start) {
    for (std::size_t size = 0; start + size <= bytes.size(); size += 1 + rng() % 40) {
      std::size_t ends = 0;
      for (std::size_t k = start; k < start + size; ++k) {
        ends += static_cast<unsigned char>(bytes[k]) < 0x80;
      }
      const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data() + start);
      ASSERT_EQ(replay::internal::CountVarintEnds(p, size), ends)
          << "seed " << seed << " start " << start << " size " << size;
    }
  }
}

// A varint of 11 bytes, or 64 bytes without an end, is refused.
TEST(VarintDecoderTest, RefusesOverlongVarints) {
  for (int lead : {0, 5, 60, 63, 64, 100}) {
    for (int continuation : {10, 64, 70}) {
      std::string bytes(static_cast<std::size_t>(lead), '\x01');
      bytes.append(static_cast<std::size_t>(continuation), '\x80');
      bytes.push_back('\x01');
      bytes.append(kVarintPadding, '\0');
      const auto* cursor = reinterpret_cast<const std::uint8_t*>(bytes.data());
      std::vector<std::uint64_t> out(static_cast<std::size_t>(lead) + 1);
      EXPECT_FALSE((DecodeVarints<ShiftGroups, std::uint64_t>(&cursor, out.size(), out.data())))
          << "lead " << lead << " continuation bytes " << continuation;
    }
  }
}

}  // namespace
}  // namespace replay_test
