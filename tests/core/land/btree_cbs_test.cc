// BTreeCbs: edge cases, and a seeded random test against a std::map model
// over a wide address space, large enough that the tree grows to three or
// more levels and shrinks back to none (land_model_test's window keeps it
// at one or two). Addresses need not be memory for a BTreeCbs.
#include "core/land/btree_cbs.h"

#include <cstddef>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/base/address.h"
#include "core/base/fixed_allocator.h"
#include "core/base/result.h"
#include "core/land/land.h"
#include "gtest/gtest.h"
#include "tests/core/land/land_test_util.h"
#include "tests/util/seed.h"

namespace core {
namespace {

// Tree nodes from malloc, with a budget of units that tests can cut to make
// the tree run out.
class BudgetAllocator final : public FixedAllocator {
 public:
  ~BudgetAllocator() override { EXPECT_EQ(in_use_, 0u) << "the tree leaked nodes"; }
  std::size_t unit_size() const override { return sizeof(BTreeCbs::Node); }
  Res AllocUnit(void** unit) override {
    if (budget_ == 0) return Res::kMemory;
    --budget_;
    ++in_use_;
    *unit = std::aligned_alloc(alignof(BTreeCbs::Node), sizeof(BTreeCbs::Node));
    return Res::kOk;
  }
  void FreeUnit(void* unit) override {
    ++budget_;
    --in_use_;
    std::free(unit);
  }
  void set_budget(std::size_t budget) { budget_ = budget; }
  std::size_t in_use() const { return in_use_; }

 private:
  std::size_t budget_ = ~std::size_t{0};
  std::size_t in_use_ = 0;
};

std::string Describe(const Land& land) {
  std::ostringstream os;
  land.Describe(os);
  return os.str();
}

void ExpectCheck(const BTreeCbs& tree) {
  const CheckResult check = tree.Check();
  ASSERT_TRUE(check.ok) << check.what << "\n" << Describe(tree);
}

// Blocks 0x100 apart, each 0x80 long, from 0x1000 upwards.
Range Spaced(std::size_t i) { return {0x1000 + i * 0x100, 0x1000 + i * 0x100 + 0x80}; }

TEST(BTreeCbsTest, EmptyTree) {
  BudgetAllocator nodes;
  BTreeCbs tree(&nodes);
  Range found{1, 2};
  EXPECT_FALSE(tree.FindFirst(1, FindDelete::kLow, &found, nullptr));
  EXPECT_FALSE(tree.FindLast(1, FindDelete::kLow, &found, nullptr));
  EXPECT_FALSE(tree.FindLargest(1, FindDelete::kLow, &found, nullptr));
  EXPECT_EQ(found, (Range{1, 2}));
  EXPECT_EQ(tree.Delete({16, 32}, nullptr), Res::kFail);
  EXPECT_EQ(tree.Insert({16, 16}, nullptr), Res::kParam);
  EXPECT_EQ(tree.height(), 0);
  ExpectCheck(tree);
}

TEST(BTreeCbsTest, GrowsAndShrinksLevels) {
  BudgetAllocator nodes;
  BTreeCbs tree(&nodes);
  // Enough blocks for three levels of half-full nodes.
  const std::size_t kBlocks = BTreeCbs::kLeafCapacity * BTreeCbs::kInnerCapacity * 2;
  for (std::size_t i = 0; i < kBlocks; ++i) ASSERT_EQ(tree.Insert(Spaced(i), nullptr), Res::kOk);
  EXPECT_GE(tree.height(), 3);
  ExpectCheck(tree);
  // Fill every gap from the top: each insert joins two blocks, removing one.
  for (std::size_t i = kBlocks - 1; i > 0; --i) {
    Range coalesced;
    ASSERT_EQ(tree.Insert({Spaced(i - 1).limit, Spaced(i).base}, &coalesced), Res::kOk);
    ASSERT_EQ(coalesced, (Range{Spaced(i - 1).base, Spaced(kBlocks - 1).limit}));
    if (i % 97 == 0) {
      ASSERT_NO_FATAL_FAILURE(ExpectCheck(tree));
    }
  }
  EXPECT_EQ(tree.BlockCount(), 1u);
  EXPECT_EQ(tree.height(), 1);
  EXPECT_EQ(nodes.in_use(), 1u);
  ExpectCheck(tree);
}

TEST(BTreeCbsTest, RunningOutOfNodesChangesNothing) {
  BudgetAllocator nodes;
  BTreeCbs tree(&nodes);
  // One full leaf under a root: the next new block splits the leaf.
  std::size_t i = 0;
  while (tree.height() < 2) ASSERT_EQ(tree.Insert(Spaced(i++), nullptr), Res::kOk);
  // Fill the last leaf, which holds the highest blocks, to capacity.
  nodes.set_budget(0);
  Res res;
  while ((res = tree.Insert(Spaced(i), nullptr)) == Res::kOk) ++i;
  ASSERT_EQ(res, Res::kMemory);
  const std::vector<Range> before = BlocksOf(tree);
  const std::size_t total = tree.TotalSize();
  // Splitting a block of the full leaf needs a node too; the block is reported.
  const Range block = Spaced(i - 1);
  Range old;
  EXPECT_EQ(tree.Delete({block.base + 16, block.base + 32}, &old), Res::kMemory);
  EXPECT_EQ(old, block);
  // Coalescing and deleting at the ends need none.
  EXPECT_EQ(tree.Insert({block.limit, block.limit + 16}, nullptr), Res::kOk);
  EXPECT_EQ(tree.Delete({block.limit, block.limit + 16}, nullptr), Res::kOk);
  EXPECT_EQ(BlocksOf(tree), before);
  EXPECT_EQ(tree.TotalSize(), total);
  ExpectCheck(tree);
  nodes.set_budget(~std::size_t{0});
  EXPECT_EQ(tree.Insert(Spaced(i), nullptr), Res::kOk);
  ExpectCheck(tree);
}

// The model: maximal blocks as base -> limit.
class MapModel {
 public:
  const std::map<Addr, Addr>& blocks() const { return blocks_; }
  bool Overlaps(Range r) const {
    auto it = blocks_.lower_bound(r.limit);  // First block at or above the limit.
    if (it == blocks_.begin()) return false;
    return std::prev(it)->second > r.base;
  }
  // The block containing `r`, or an empty range.
  Range Containing(Range r) const {
    auto it = blocks_.upper_bound(r.base);
    if (it == blocks_.begin()) return {};
    --it;
    return it->second >= r.limit ? Range{it->first, it->second} : Range{};
  }
  Range Insert(Range r) {
    auto it = blocks_.lower_bound(r.base);
    if (it != blocks_.end() && it->first == r.limit) {
      r.limit = it->second;
      it = blocks_.erase(it);
    }
    if (it != blocks_.begin() && std::prev(it)->second == r.base) {
      --it;
      r.base = it->first;
      blocks_.erase(it);
    }
    blocks_[r.base] = r.limit;
    return r;
  }
  void Delete(Range r) {
    const Range block = Containing(r);
    blocks_.erase(block.base);
    if (block.base < r.base) blocks_[block.base] = r.base;
    if (r.limit < block.limit) blocks_[r.limit] = block.limit;
  }
  std::vector<Range> Ranges() const {
    std::vector<Range> ranges;
    for (auto [base, limit] : blocks_) ranges.push_back({base, limit});
    return ranges;
  }

 private:
  std::map<Addr, Addr> blocks_;
};

// What a find of `size` picks: the lowest, highest or largest (lowest of
// equals) block that fits, or an empty range.
Range ExpectedFind(const MapModel& model, int kind, std::size_t size) {
  Range best;
  for (auto [base, limit] : model.blocks()) {
    const Range b{base, limit};
    if (b.size() < size) continue;
    if ((kind == 0 && best.empty()) || kind == 1 || (kind == 2 && b.size() > best.size())) {
      best = b;
    }
  }
  return best;
}

TEST(BTreeCbsTest, MatchesMapModelThroughGrowthAndShrinkage) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  auto uniform = [&rng](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  constexpr std::size_t kGrain = 16;
  constexpr std::size_t kSpan = std::size_t{1} << 16;  // Grains of address space.
  constexpr int kSteps = 12000;
  BudgetAllocator nodes;
  BTreeCbs tree(&nodes);
  MapModel model;
  int max_height = 0;
  for (int step = 0; step < kSteps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step) + ", seed " + std::to_string(seed));
    // Grow for the first half, then shrink.
    const bool growing = step < kSteps / 2;
    const int op = static_cast<int>(uniform(0, 99));
    if (op < (growing ? 60 : 25)) {
      const Range r{kGrain * uniform(0, kSpan - 64), 0};
      const Range range{r.base, r.base + kGrain * uniform(1, 8)};
      const bool overlaps = model.Overlaps(range);
      Range coalesced;
      ASSERT_EQ(tree.Insert(range, &coalesced), overlaps ? Res::kFail : Res::kOk) << range;
      if (!overlaps) {
        const Range joined = model.Insert(range);
        EXPECT_EQ(coalesced, joined);
      }
    } else if (op < (growing ? 80 : 75)) {
      Range range{kGrain * uniform(0, kSpan - 64), 0};
      range.limit = range.base + kGrain * uniform(1, 4);
      if (!model.blocks().empty() && uniform(0, 3) != 0) {
        // Part of a real block, found near a random address.
        auto it = model.blocks().lower_bound(range.base);
        if (it == model.blocks().end()) it = model.blocks().begin();
        const std::size_t grains = (it->second - it->first) / kGrain;
        const std::size_t first = uniform(0, grains - 1);
        range = {it->first + first * kGrain,
                 it->first + (first + uniform(1, grains - first)) * kGrain};
      }
      const Range block = model.Containing(range);
      Range old;
      ASSERT_EQ(tree.Delete(range, &old), block.empty() ? Res::kFail : Res::kOk) << range;
      if (!block.empty()) {
        EXPECT_EQ(old, block);
        model.Delete(range);
      }
    } else {
      const int kind = static_cast<int>(uniform(0, 2));
      const auto mode = static_cast<FindDelete>(uniform(0, 3));
      const std::size_t size = kGrain * (uniform(0, 19) == 0 ? uniform(1, 64) : uniform(1, 6));
      const Range expected = ExpectedFind(model, kind, size);
      Range found, old;
      const bool ok = kind == 0   ? tree.FindFirst(size, mode, &found, &old)
                      : kind == 1 ? tree.FindLast(size, mode, &found, &old)
                                  : tree.FindLargest(size, mode, &found, &old);
      ASSERT_EQ(ok, !expected.empty()) << "find " << kind << " size " << size;
      if (ok) {
        ASSERT_EQ(old, expected) << "find " << kind << " size " << size;
        ASSERT_EQ(found, FindDeletePart(expected, size, mode));
        if (mode != FindDelete::kNone) model.Delete(found);
      }
    }
    max_height = std::max(max_height, tree.height());
    ASSERT_NO_FATAL_FAILURE(ExpectCheck(tree));
    ASSERT_EQ(tree.BlockCount(), model.blocks().size());
    if (step % 100 == 0) {
      ASSERT_EQ(BlocksOf(tree), model.Ranges());
    }
  }
  EXPECT_GE(max_height, 3);
  // Drain what is left through finds.
  Range found;
  while (tree.FindLargest(1, FindDelete::kEntire, &found, nullptr)) model.Delete(found);
  EXPECT_TRUE(model.blocks().empty());
  EXPECT_EQ(tree.height(), 0);
  ExpectCheck(tree);
}

}  // namespace
}  // namespace core
