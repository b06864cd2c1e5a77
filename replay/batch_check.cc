#include "replay/batch_check.h"

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

// Columns absent from a batch are left out of the loop at compile time.
template <bool kHasIds, bool kHasNewIds, bool kHasSizes>
bool ScanCommon(const EventBatch& b, Totals* totals) {
  const std::size_t n = b.size();
  const std::uint32_t* kinds = b.kinds();
  const std::uint64_t* ids = b.column(EventBatch::kIds);
  const std::uint64_t* new_ids = b.column(EventBatch::kNewIds);
  const std::uint64_t* sizes = b.column(EventBatch::kSizes);
  std::uint32_t all_kinds = 0;
  std::uint64_t bad = 0, all_sizes = 0, bytes = 0, low = 0, high = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t kind = kinds[i];
    all_kinds |= kind;
    const KindRule& r = kRules[kind % kEventKindCount];
    low += r.count_low;
    high += r.count_high;
    if constexpr (kHasIds) bad |= ids[i] & r.no_id;
    if constexpr (kHasNewIds) bad |= new_ids[i] & r.no_new_id;
    if constexpr (kHasSizes) {
      const std::uint64_t size = sizes[i];
      bad |= size & r.no_size;
      all_sizes |= size;
      bytes += size & r.allocates;
    }
  }
  for (int k = 0; k < 4; ++k) {
    totals->per_kind[k] = (low >> (16 * k)) & 0xFFFF;
    totals->per_kind[k + 4] = (high >> (16 * k)) & 0xFFFF;
  }
  totals->bytes_allocated = bytes;
  totals->event_count = n;
  totals->chunk_count = 0;
  if (all_kinds >= kEventKindCount) return true;  // An OR of kinds < 8 is < 8.
  // A size of 2^48 or more has a bit at or above 48; 2^48 itself is allowed.
  const std::uint64_t size_high = all_sizes >> 48;
  if (size_high > 1) return true;
  if (size_high == 1) {
    for (std::size_t i = 0; i < n; ++i) bad |= sizes[i] > kMaxSize;
  }
  return bad != 0;
}

using ScanFn = bool (*)(const EventBatch&, Totals*);
constexpr ScanFn kScans[8] = {
    ScanCommon<false, false, false>, ScanCommon<true, false, false>, ScanCommon<false, true, false>,
    ScanCommon<true, true, false>,   ScanCommon<false, false, true>, ScanCommon<true, false, true>,
    ScanCommon<false, true, true>,   ScanCommon<true, true, true>,
};

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
  const int present = (batch.column(EventBatch::kIds) != nullptr) |
                      (batch.column(EventBatch::kNewIds) != nullptr) << 1 |
                      (batch.column(EventBatch::kSizes) != nullptr) << 2;
  const bool common = kScans[present](batch, totals);
  return AllocExtrasMayBeBad(batch) || common;
}

}  // namespace replay::internal
