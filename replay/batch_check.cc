#include "replay/batch_check.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <initializer_list>

namespace replay::internal {
namespace {

using K = EventKind;

// What an event's kind allows, as masks to AND with its fields, so that
// the pass has no branch per event: all ones where the field must be 0.
struct KindRule {
  std::uint64_t no_id, no_new_id, no_size, not_alloc;
  std::uint64_t allocates;              // All ones for ALLOC and REALLOC.
  std::uint64_t count_low, count_high;  // One in the kind's 16-bit lane.
};

constexpr bool Among(K kind, std::initializer_list<K> kinds) {
  for (K k : kinds) {
    if (k == kind) return true;
  }
  return false;
}

constexpr std::array<KindRule, kEventKindCount> MakeRules() {
  std::array<KindRule, kEventKindCount> rules{};
  for (int k = 0; k < kEventKindCount; ++k) {
    const auto kind = static_cast<K>(k);
    const auto unless = [&](std::initializer_list<K> kinds) {
      return Among(kind, kinds) ? 0 : ~std::uint64_t{0};
    };
    KindRule& r = rules[k];
    r.no_id = unless(
        {K::kAlloc, K::kFree, K::kRealloc, K::kStore, K::kRootAdd, K::kRootRemove, K::kDeath});
    r.no_new_id = unless({K::kRealloc, K::kStore});
    r.no_size = unless({K::kAlloc, K::kRealloc, K::kStore});
    r.not_alloc = unless({K::kAlloc});
    r.allocates = ~unless({K::kAlloc, K::kRealloc});
    const std::uint64_t one = std::uint64_t{1} << (16 * (k % 4));
    (k < 4 ? r.count_low : r.count_high) = one;
  }
  return rules;
}
constexpr std::array<KindRule, kEventKindCount> kRules = MakeRules();
static_assert(kEventKindCount == 8, "kinds index kRules by their low 3 bits");

// The columns the one pass reads (null: absent, all zeros).
struct Columns {
  std::size_t n;
  const std::uint32_t* kinds;
  const std::uint64_t* ids;
  const std::uint64_t* new_ids;
  const std::uint64_t* sizes;
};

// What the pass found so far.
struct Scan {
  std::uint32_t all_kinds = 0;
  std::uint64_t bad = 0;  // Non-zero: a field set that the kind does not use.
  std::uint64_t all_sizes = 0;
  std::uint64_t bytes = 0;
  std::array<std::uint64_t, kEventKindCount> per_kind{};
};

// Events [begin, n) one at a time. Absent columns are left out of the loop
// at compile time.
template <bool kHasIds, bool kHasNewIds, bool kHasSizes>
void ScanScalar(const Columns& c, std::size_t begin, Scan* scan) {
  std::uint32_t all_kinds = 0;
  std::uint64_t bad = 0, all_sizes = 0, bytes = 0, low = 0, high = 0;
  for (std::size_t i = begin; i < c.n; ++i) {
    const std::uint32_t kind = c.kinds[i];
    all_kinds |= kind;
    const KindRule& r = kRules[kind % kEventKindCount];
    low += r.count_low;
    high += r.count_high;
    if constexpr (kHasIds) bad |= c.ids[i] & r.no_id;
    if constexpr (kHasNewIds) bad |= c.new_ids[i] & r.no_new_id;
    if constexpr (kHasSizes) {
      const std::uint64_t size = c.sizes[i];
      bad |= size & r.no_size;
      all_sizes |= size;
      bytes += size & r.allocates;
    }
  }
  for (int k = 0; k < 4; ++k) {
    scan->per_kind[k] += (low >> (16 * k)) & 0xFFFF;
    scan->per_kind[k + 4] += (high >> (16 * k)) & 0xFFFF;
  }
  scan->all_kinds |= all_kinds;
  scan->bad |= bad;
  scan->all_sizes |= all_sizes;
  scan->bytes += bytes;
}

using ScanFn = void (*)(const Columns&, std::size_t, Scan*);
constexpr ScanFn kScans[8] = {
    ScanScalar<false, false, false>, ScanScalar<true, false, false>, ScanScalar<false, true, false>,
    ScanScalar<true, true, false>,   ScanScalar<false, false, true>, ScanScalar<true, false, true>,
    ScanScalar<false, true, true>,   ScanScalar<true, true, true>,
};

#if defined(__x86_64__)
// A rule's masks for kinds 0..7 as 32-bit lanes, for vpermd to look up.
__attribute__((target("avx2"))) __m256i RuleLanes(std::uint64_t KindRule::*mask) {
  alignas(32) std::int32_t lanes[kEventKindCount];
  for (int k = 0; k < kEventKindCount; ++k) lanes[k] = kRules[k].*mask != 0 ? -1 : 0;
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
}

__attribute__((target("avx2"))) inline __m256i Load(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
// A 32-bit mask per kind, widened to the 64-bit lanes of four events.
__attribute__((target("avx2"))) inline __m256i LowHalf(__m256i m) {
  return _mm256_cvtepi32_epi64(_mm256_castsi256_si128(m));
}
__attribute__((target("avx2"))) inline __m256i HighHalf(__m256i m) {
  return _mm256_cvtepi32_epi64(_mm256_extracti128_si256(m, 1));
}

// The same pass, eight events a step, when every column is present (what
// writers write for manual traces). Returns how many events it did (a
// multiple of 8); ScanScalar does the rest.
__attribute__((target("avx2"))) std::size_t ScanAvx2(const Columns& c, Scan* scan) {
  const __m256i no_id = RuleLanes(&KindRule::no_id);
  const __m256i no_new_id = RuleLanes(&KindRule::no_new_id);
  const __m256i no_size = RuleLanes(&KindRule::no_size);
  const __m256i allocates = RuleLanes(&KindRule::allocates);
  const __m256i one = _mm256_set1_epi64x(1);
  __m256i all_kinds = _mm256_setzero_si256(), bad = all_kinds, all_sizes = all_kinds;
  __m256i bytes = all_kinds;
  const std::size_t blocks = c.n / 8 * 8;
  std::size_t i = 0;
  while (i < blocks) {
    // Kind counts in 8-bit fields (kind k at bit 8k) of each 64-bit lane,
    // which take one increment per step: emptied every 255 steps.
    __m256i counts_low = _mm256_setzero_si256(), counts_high = counts_low;
    const std::size_t stop = std::min(blocks, i + 8 * 255);
    for (; i < stop; i += 8) {
      const __m256i kinds = Load(c.kinds + i);
      all_kinds = _mm256_or_si256(all_kinds, kinds);
      __m256i m = _mm256_permutevar8x32_epi32(no_id, kinds);  // By the low 3 bits.
      bad = _mm256_or_si256(bad, _mm256_and_si256(Load(c.ids + i), LowHalf(m)));
      bad = _mm256_or_si256(bad, _mm256_and_si256(Load(c.ids + i + 4), HighHalf(m)));
      m = _mm256_permutevar8x32_epi32(no_new_id, kinds);
      bad = _mm256_or_si256(bad, _mm256_and_si256(Load(c.new_ids + i), LowHalf(m)));
      bad = _mm256_or_si256(bad, _mm256_and_si256(Load(c.new_ids + i + 4), HighHalf(m)));
      const __m256i sizes_low = Load(c.sizes + i), sizes_high = Load(c.sizes + i + 4);
      m = _mm256_permutevar8x32_epi32(no_size, kinds);
      bad = _mm256_or_si256(bad, _mm256_and_si256(sizes_low, LowHalf(m)));
      bad = _mm256_or_si256(bad, _mm256_and_si256(sizes_high, HighHalf(m)));
      all_sizes = _mm256_or_si256(all_sizes, _mm256_or_si256(sizes_low, sizes_high));
      m = _mm256_permutevar8x32_epi32(allocates, kinds);
      bytes = _mm256_add_epi64(bytes, _mm256_and_si256(sizes_low, LowHalf(m)));
      bytes = _mm256_add_epi64(bytes, _mm256_and_si256(sizes_high, HighHalf(m)));
      // A kind of 8 or more shifts the one out (the batch is flagged anyway).
      const __m256i shifts = _mm256_slli_epi32(kinds, 3);
      counts_low = _mm256_add_epi64(counts_low, _mm256_sllv_epi64(one, LowHalf(shifts)));
      counts_high = _mm256_add_epi64(counts_high, _mm256_sllv_epi64(one, HighHalf(shifts)));
    }
    alignas(32) std::uint64_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), counts_low);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 4), counts_high);
    for (std::uint64_t lane : lanes) {
      for (int k = 0; k < kEventKindCount; ++k) scan->per_kind[k] += (lane >> (8 * k)) & 0xFF;
    }
  }
  alignas(32) std::uint64_t lanes[4][4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[0]), all_kinds);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[1]), bad);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[2]), all_sizes);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[3]), bytes);
  for (int k = 0; k < 4; ++k) {
    scan->all_kinds |= static_cast<std::uint32_t>(lanes[0][k] | lanes[0][k] >> 32);
    scan->bad |= lanes[1][k];
    scan->all_sizes |= lanes[2][k];
    scan->bytes += lanes[3][k];
  }
  return blocks;
}
#endif

// The columns only an ALLOC may set, each in a pass of its own.
bool AllocExtrasMayBeBad(const EventBatch& b) {
  const std::size_t n = b.size();
  const std::uint32_t* kinds = b.kinds();
  const std::uint64_t* sizes = b.column(EventBatch::kSizes);
  const std::uint64_t* alignments = b.column(EventBatch::kAlignments);
  const std::uint32_t* flavours = b.column(EventBatch::kFlavours);
  const std::uint32_t* slots = b.column(EventBatch::kSlots);
  const auto not_alloc = [&](std::size_t i) {
    return kRules[kinds[i] % kEventKindCount].not_alloc;
  };
  std::uint64_t bad = 0;
  if (alignments != nullptr) {
    std::uint64_t high = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t a = alignments[i];
      bad |= (a & not_alloc(i)) | (a & (a - 1));
      high |= a >> 48;
    }
    bad |= high;
  }
  if (flavours != nullptr) {
    for (std::size_t i = 0; i < n; ++i) {
      bad |= (flavours[i] & not_alloc(i)) | (flavours[i] >= kFlavourCount);
    }
  }
  if (slots != nullptr) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t size = sizes != nullptr ? sizes[i] : 0;
      bad |= (slots[i] & not_alloc(i)) | (std::uint64_t{slots[i]} * kSlotBytes > size);
    }
  }
  return bad != 0;
}

}  // namespace

bool ScanBatch(const EventBatch& batch, Totals* totals) {
  const Columns c{batch.size(), batch.kinds(), batch.column(EventBatch::kIds),
                  batch.column(EventBatch::kNewIds), batch.column(EventBatch::kSizes)};
  const int present = (c.ids != nullptr) | (c.new_ids != nullptr) << 1 | (c.sizes != nullptr) << 2;
  Scan scan;
  std::size_t done = 0;
#if defined(__x86_64__)
  if (present == 7 && UseAvx2Scan()) done = ScanAvx2(c, &scan);
#endif
  kScans[present](c, done, &scan);
  totals->event_count = c.n;
  totals->chunk_count = 0;
  totals->per_kind = scan.per_kind;
  totals->bytes_allocated = scan.bytes;
  if (AllocExtrasMayBeBad(batch)) return true;
  if (scan.all_kinds >= kEventKindCount) return true;  // An OR of kinds < 8 is < 8.
  // A size of 2^48 or more has a bit at or above 48; 2^48 itself is allowed.
  const std::uint64_t size_high = scan.all_sizes >> 48;
  if (size_high > 1) return true;
  if (size_high == 1) {
    for (std::size_t i = 0; i < c.n; ++i) scan.bad |= c.sizes[i] > kMaxSize;
  }
  return scan.bad != 0;
}

bool Avx2Available() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

bool& UseAvx2Scan() {
  static bool use = Avx2Available();
  return use;
}

}  // namespace replay::internal
