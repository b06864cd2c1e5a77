// The segment index against a reference model (a map from page to segment
// and flag), on seeded random operations over pages in several 1 GiB
// regions; and the cost of a new region in page faults.
#include "core/gc/segment_index.h"

#include <sys/resource.h>

#include <map>
#include <random>

#include "gtest/gtest.h"
#include "tests/util/seed.h"

namespace core::gc {
namespace {

struct Seg {
  int id;
};

constexpr Addr kPage = 4096;
constexpr Addr kRegion = Addr{1} << 30;

struct Model {
  std::map<Addr, std::pair<const Seg*, bool>> pages;  // Page -> segment, flag.
};

TEST(SegmentIndexTest, MatchesAModelOnRandomOperations) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  Seg segs[8] = {{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}};
  SegmentIndex<Seg> index;
  Model model;
  // Pages near the ends of three regions, so ranges cross region borders.
  const Addr bases[] = {kRegion - 64 * kPage, 5 * kRegion - 64 * kPage, 0x7f0000000000};
  for (int step = 0; step < 20000; ++step) {
    const Addr base = bases[rng() % 3] + (rng() % 128) * kPage;
    const Range range{base, base + (1 + rng() % 8) * kPage};
    Seg* seg = &segs[rng() % 8];
    switch (rng() % 3) {
      case 0:
        ASSERT_TRUE(index.Set(range, seg));
        for (Addr p = range.base; p < range.limit; p += kPage) model.pages[p] = {seg, false};
        break;
      case 1:
        index.Clear(range);
        for (Addr p = range.base; p < range.limit; p += kPage) model.pages.erase(p);
        break;
      default: {
        // Only mapped pages may be flagged: the range's mapped prefix.
        const bool flag = rng() % 2 == 0;
        Addr end = range.base;
        while (end < range.limit && model.pages.contains(end)) end += kPage;
        const Range mapped{range.base, end};
        index.SetFlag(mapped, flag);
        for (Addr p = mapped.base; p < mapped.limit; p += kPage) model.pages[p].second = flag;
      }
    }
    // Every page of the range and its neighbours agrees with the model.
    for (Addr p = range.base - kPage; p <= range.limit; p += kPage) {
      const auto it = model.pages.find(p);
      const Seg* want = it == model.pages.end() ? nullptr : it->second.first;
      const bool flagged = it != model.pages.end() && it->second.second;
      const Addr inside = p + rng() % kPage;
      ASSERT_EQ(index.Lookup(inside), want) << "step " << step << " page " << p;
      ASSERT_EQ(index.LookupFlagged(inside), flagged ? want : nullptr) << "step " << step;
    }
  }
}

std::uint64_t MinorFaults() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_minflt);
}

TEST(SegmentIndexTest, ANewRegionCostsOnlyThePagesWritten) {
  // A 64 KiB segment in a region of its own writes 16 entries: one page of
  // its 2 MiB leaf (the top level and the test's own pages aside), where
  // a zeroed leaf took 512 faults.
  Seg seg{1};
  SegmentIndex<Seg> index;
  const std::uint64_t before = MinorFaults();
  ASSERT_TRUE(index.Set({3 * kRegion, 3 * kRegion + 16 * kPage}, &seg));
  ASSERT_TRUE(index.Set({9 * kRegion, 9 * kRegion + 16 * kPage}, &seg));
  const std::uint64_t faults = MinorFaults() - before;
  EXPECT_LT(faults, 64u);
  EXPECT_EQ(index.Lookup(3 * kRegion + 5 * kPage), &seg);
  EXPECT_EQ(index.Lookup(9 * kRegion - 1), nullptr);
}

}  // namespace
}  // namespace core::gc
