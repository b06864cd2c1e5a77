// Cbs, BTreeCbs, FreeList and Failover each replay the same kind of seeded random
// operations as a reference model, a bit table with one bit per word of a
// small address window (after MPS's landtest). After every step the land's
// Check() must pass and its blocks, sizes and answers must match the model.
//
// The window is real, writable memory, because the FreeList keeps its links
// inside the blocks. The trees get their nodes from a real MFS pool; for the
// Failovers that pool sits on an arena whose commit limit starts with no room
// at all and is raised now and then, so the tree really runs out of nodes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/arena/arena.h"
#include "core/base/address.h"
#include "core/base/result.h"
#include "core/land/btree_cbs.h"
#include "core/land/cbs.h"
#include "core/land/failover.h"
#include "core/land/freelist.h"
#include "core/land/land.h"
#include "core/pools/mfs.h"
#include "gtest/gtest.h"
#include "tests/core/land/land_test_util.h"
#include "tests/util/seed.h"

namespace core {
namespace {

constexpr std::size_t kUnit = kWordSize;  // One bit of the model.
constexpr std::size_t kUnits = 1024;      // The window is kUnits * kUnit bytes.

// The reference model: which units of the window are in the land.
class BitModel {
 public:
  explicit BitModel(Addr base) : base_(base), bits_(kUnits, false) {}

  Addr base() const { return base_; }
  Addr limit() const { return base_ + kUnits * kUnit; }
  Range RangeOf(std::size_t first, std::size_t count) const {
    return {base_ + first * kUnit, base_ + (first + count) * kUnit};
  }

  bool AnySet(Range r) const {
    for (Addr a = r.base; a < r.limit; a += kUnit) {
      if (bits_[Index(a)]) return true;
    }
    return false;
  }
  void Set(Range r, bool value) {
    for (Addr a = r.base; a < r.limit; a += kUnit) bits_[Index(a)] = value;
  }
  std::size_t Total() const {
    return static_cast<std::size_t>(std::count(bits_.begin(), bits_.end(), true)) * kUnit;
  }
  // The maximal runs of set bits, in address order.
  std::vector<Range> Runs() const {
    std::vector<Range> runs;
    for (std::size_t i = 0; i < kUnits;) {
      if (!bits_[i]) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < kUnits && bits_[j]) ++j;
      runs.push_back(RangeOf(i, j - i));
      i = j;
    }
    return runs;
  }
  // The maximal run containing `a`, which must be set.
  Range RunContaining(Addr a) const {
    std::size_t i = Index(a), j = Index(a);
    while (i > 0 && bits_[i - 1]) --i;
    while (j < kUnits && bits_[j]) ++j;
    return RangeOf(i, j - i);
  }

 private:
  std::size_t Index(Addr a) const { return (a - base_) / kUnit; }

  Addr base_;
  std::vector<bool> bits_;
};

std::string Describe(const Land& land) {
  std::ostringstream os;
  land.Describe(os);
  return os.str();
}

// The blocks of `land`, checked against the model. An exact land reports
// exactly the model's maximal runs; a Failover may report a run as two
// adjacent blocks, one in each of its lands.
std::vector<Range> CheckedBlocks(const Land& land, const BitModel& model, bool exact) {
  const std::vector<Range> blocks = BlocksOf(land);
  const std::vector<Range> runs = model.Runs();
  if (exact) {
    EXPECT_EQ(blocks, runs) << Describe(land);
    return blocks;
  }
  std::vector<Range> merged;
  for (Range b : blocks) {
    EXPECT_LT(b.base, b.limit);
    if (!merged.empty()) {
      EXPECT_LE(merged.back().limit, b.base) << "blocks out of order";
    }
    if (!merged.empty() && merged.back().limit == b.base) {
      merged.back().limit = b.limit;
    } else {
      merged.push_back(b);
    }
  }
  EXPECT_EQ(merged, runs) << Describe(land);
  return blocks;
}

enum class FindKind { kFirst, kLast, kLargest };

// What a find of `size` should pick among `blocks`, or an empty range.
Range ExpectedFind(const std::vector<Range>& blocks, FindKind kind, std::size_t size) {
  Range best;
  for (Range b : blocks) {
    if (b.size() < size) continue;
    switch (kind) {
      case FindKind::kFirst:
        if (best.empty()) best = b;
        break;
      case FindKind::kLast:
        best = b;
        break;
      case FindKind::kLargest:
        if (b.size() > best.size()) best = b;  // Ties: the lowest address.
        break;
    }
  }
  return best;
}

bool DoFind(Land& land, FindKind kind, std::size_t size, FindDelete mode, Range* found,
            Range* old) {
  switch (kind) {
    case FindKind::kFirst:
      return land.FindFirst(size, mode, found, old);
    case FindKind::kLast:
      return land.FindLast(size, mode, found, old);
    case FindKind::kLargest:
      return land.FindLargest(size, mode, found, old);
  }
  return false;
}

// Replays `steps` random operations on `land` and the model. `between` runs
// before each step (the Failover test uses it to change the memory supply).
void RunModelTest(Land& land, Addr window, bool exact, std::uint64_t seed, int steps,
                  const std::function<void(std::mt19937_64&)>& between = nullptr) {
  std::mt19937_64 rng(seed);
  BitModel model(window);
  auto uniform = [&rng](std::size_t lo, std::size_t hi) {  // In [lo, hi].
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  // Mostly short ranges, so that the land holds many blocks.
  auto random_length = [&](std::size_t max) {
    return std::min(max, uniform(1, uniform(0, 3) == 0 ? 64 : 6));
  };
  auto random_range = [&] {
    const std::size_t first = uniform(0, kUnits - 1);
    return model.RangeOf(first, random_length(kUnits - first));
  };

  for (int step = 0; step < steps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step) + ", seed " + std::to_string(seed));
    if (between) between(rng);
    const std::vector<Range> blocks = CheckedBlocks(land, model, exact);
    const int op = static_cast<int>(uniform(0, 99));
    if (op < 35) {
      const Range range = random_range();
      const Res expected = model.AnySet(range) ? Res::kFail : Res::kOk;
      Range coalesced;
      ASSERT_EQ(land.Insert(range, &coalesced), expected) << range << "\n" << Describe(land);
      if (expected == Res::kOk) {
        model.Set(range, true);
        const Range run = model.RunContaining(range.base);
        if (exact) {
          EXPECT_EQ(coalesced, run);
        } else {
          EXPECT_TRUE(coalesced.Contains(range) && run.Contains(coalesced)) << coalesced;
        }
      }
    } else if (op < 65) {
      Range range;
      if (!blocks.empty() && uniform(0, 2) != 0) {
        const Range b = blocks[uniform(0, blocks.size() - 1)];
        const std::size_t units = b.size() / kUnit;
        const std::size_t first = uniform(0, units - 1);
        const std::size_t count = uniform(1, units - first);
        range = {b.base + first * kUnit, b.base + (first + count) * kUnit};
      } else {
        range = random_range();
      }
      auto it = std::find_if(blocks.begin(), blocks.end(),
                             [range](Range b) { return b.Contains(range); });
      const Res expected = it != blocks.end() ? Res::kOk : Res::kFail;
      Range old;
      ASSERT_EQ(land.Delete(range, &old), expected) << range << "\n" << Describe(land);
      if (expected == Res::kOk) {
        EXPECT_EQ(old, *it);
        model.Set(range, false);
      }
    } else if (op < 97) {
      const auto kind = static_cast<FindKind>(uniform(0, 2));
      const auto mode = static_cast<FindDelete>(uniform(0, 3));
      // Sometimes more than any block holds, to see the find fail.
      const std::size_t size = (uniform(0, 9) == 0 ? uniform(1, kUnits) : uniform(1, 16)) * kUnit;
      const Range expected = ExpectedFind(blocks, kind, size);
      Range found, old;
      const bool ok = DoFind(land, kind, size, mode, &found, &old);
      ASSERT_EQ(ok, !expected.empty())
          << "find " << static_cast<int>(kind) << " size " << size << "\n"
          << Describe(land);
      if (ok) {
        EXPECT_EQ(old, expected) << "find " << static_cast<int>(kind) << " size " << size;
        EXPECT_EQ(found, FindDeletePart(expected, size, mode));
        if (mode != FindDelete::kNone) model.Set(found, false);
      }
    } else {
      // Iterate stops when the visitor says so.
      const std::size_t stop_after = uniform(1, 3);
      std::size_t visited = 0;
      land.Iterate([&](Range) { return ++visited < stop_after; });
      EXPECT_EQ(visited, std::min(stop_after, blocks.size()));
    }
    const CheckResult check = land.Check();
    ASSERT_TRUE(check.ok) << check.what << "\n" << Describe(land);
    EXPECT_EQ(land.TotalSize(), model.Total());
    EXPECT_EQ(land.BlockCount(), BlocksOf(land).size());
  }
  CheckedBlocks(land, model, exact);
}

constexpr int kSteps = 6000;

// A small VM arena for the MFS that serves tree nodes.
std::unique_ptr<Arena> MakeArena() {
  ArenaOptions options;
  options.chunk_size = std::size_t{1} << 20;
  std::unique_ptr<Arena> arena;
  EXPECT_EQ(Arena::CreateVirtual(options, &arena), Res::kOk);
  return arena;
}

template <typename Tree>
MfsOptions NodeOptions(const Arena& arena) {
  return MfsOptions{.unit_size = sizeof(typename Tree::Node), .extend_by = arena.grain_size()};
}

TEST(LandModelTest, CbsMatchesBitTable) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::vector<std::uint64_t> window(kUnits);
  std::unique_ptr<Arena> arena = MakeArena();
  ASSERT_NE(arena, nullptr);
  Mfs nodes(arena.get(), NodeOptions<Cbs>(*arena));
  Cbs cbs(&nodes);
  RunModelTest(cbs, ToAddr(window.data()), /*exact=*/true, seed, kSteps);
  EXPECT_EQ(nodes.units_in_use(), cbs.BlockCount());
}

TEST(LandModelTest, BTreeCbsMatchesBitTable) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::vector<std::uint64_t> window(kUnits);
  std::unique_ptr<Arena> arena = MakeArena();
  ASSERT_NE(arena, nullptr);
  Mfs nodes(arena.get(), NodeOptions<BTreeCbs>(*arena));
  BTreeCbs tree(&nodes);
  RunModelTest(tree, ToAddr(window.data()), /*exact=*/true, seed, kSteps);
  EXPECT_EQ(nodes.units_in_use(), tree.node_count());
}

TEST(LandModelTest, FreeListMatchesBitTable) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::vector<std::uint64_t> window(kUnits);
  FreeList freelist;
  RunModelTest(freelist, ToAddr(window.data()), /*exact=*/true, seed, kSteps);
}

// A Failover over a `Tree` whose nodes run out and come back.
template <typename Tree>
void RunFailoverModelTest() {
  const std::uint64_t seed = testing_util::TestSeed();
  std::vector<std::uint64_t> window(kUnits);
  std::unique_ptr<Arena> arena = MakeArena();
  ASSERT_NE(arena, nullptr);
  // No room for even one MFS extent: every new tree block fails over at first.
  ASSERT_EQ(arena->SetCommitLimit(arena->stats().committed), Res::kOk);
  Mfs nodes(arena.get(), NodeOptions<Tree>(*arena));
  Tree tree(&nodes);
  FreeList freelist;
  Failover failover(&tree, &freelist);
  int raises = 0;
  bool secondary_used = false;
  RunModelTest(
      failover, ToAddr(window.data()), /*exact=*/false, seed, kSteps, [&](std::mt19937_64& rng) {
        secondary_used = secondary_used || freelist.BlockCount() != 0;
        const auto roll = rng() % 400;
        if (roll < 4 && freelist.BlockCount() != 0) {
          // Nodes ran out: make room for one more extent of them.
          const ArenaStats stats = arena->stats();
          ASSERT_EQ(arena->SetCommitLimit(stats.commit_limit + arena->grain_size()), Res::kOk);
          ++raises;
        } else if (roll < 20) {
          failover.Flush();
          const CheckResult check = failover.Check();
          ASSERT_TRUE(check.ok) << check.what;
        }
        const CheckResult check = arena->Check();
        ASSERT_TRUE(check.ok) << check.what;
      });
  EXPECT_TRUE(secondary_used) << "the tree never ran out of nodes";
  ::testing::Test::RecordProperty("limit_raises", raises);
}

TEST(LandModelTest, FailoverMatchesBitTableWhileNodesRunOut) { RunFailoverModelTest<Cbs>(); }

TEST(LandModelTest, BTreeFailoverMatchesBitTableWhileNodesRunOut) {
  RunFailoverModelTest<BTreeCbs>();
}

}  // namespace
}  // namespace core
