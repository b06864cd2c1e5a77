#include "core/pools/mvff.h"

#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/core/pools/pool_stress.h"
#include "tests/util/pattern.h"
#include "tests/util/seed.h"

namespace core {
namespace {

class MvffTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(Arena::CreateVirtual(ArenaOptions{}, &arena_), Res::kOk); }
  void ExpectChecks(const Mvff& pool) {
    auto check = pool.Check();
    EXPECT_TRUE(check.ok) << check.what;
    check = arena_->Check();
    EXPECT_TRUE(check.ok) << check.what;
  }
  std::size_t grain() const { return arena_->grain_size(); }
  std::unique_ptr<Arena> arena_;
};

TEST_F(MvffTest, ValidateRejectsBadOptions) {
  EXPECT_EQ(Mvff::Validate(MvffOptions{}), Res::kOk);
  EXPECT_EQ(Mvff::Validate(MvffOptions{.align = 12}), Res::kParam);
  EXPECT_EQ(Mvff::Validate(MvffOptions{.align = 4}), Res::kParam);
  EXPECT_EQ(Mvff::Validate(MvffOptions{.spare = 1.5}), Res::kParam);
  EXPECT_EQ(Mvff::Validate(MvffOptions{.extend_by = 0}), Res::kParam);
}

TEST_F(MvffTest, FirstFitCarvesLowAndCoalescesOnFree) {
  Mvff pool(arena_.get(), MvffOptions{.spare = 1.0});  // Keep free memory.
  void *a, *b, *c;
  ASSERT_EQ(pool.Alloc(100, &a), Res::kOk);
  ASSERT_EQ(pool.Alloc(100, &b), Res::kOk);
  ASSERT_EQ(pool.Alloc(100, &c), Res::kOk);
  EXPECT_EQ(ToAddr(b), ToAddr(a) + 112);  // 100 rounded up to 16.
  EXPECT_EQ(ToAddr(c), ToAddr(b) + 112);
  ASSERT_EQ(pool.Free(a, 100), Res::kOk);
  ASSERT_EQ(pool.Free(c, 100), Res::kOk);
  const std::size_t blocks_before = 2;  // [a) and [c, end).
  std::size_t blocks = 0;
  pool.WalkBlocks([&](Range, bool allocated) {
    blocks += allocated ? 0 : 1;
    return true;
  });
  EXPECT_EQ(blocks, blocks_before);
  ASSERT_EQ(pool.Free(b, 100), Res::kOk);  // Joins everything into one block.
  blocks = 0;
  pool.WalkBlocks([&](Range, bool allocated) {
    blocks += allocated ? 0 : 1;
    return true;
  });
  EXPECT_EQ(blocks, 1u);
  EXPECT_EQ(pool.FreeSize(), pool.TotalSize());
  ExpectChecks(pool);
}

TEST_F(MvffTest, DoubleFreeIsRefused) {
  Mvff pool(arena_.get(), MvffOptions{});
  void* a;
  ASSERT_EQ(pool.Alloc(64, &a), Res::kOk);
  void* keep;
  ASSERT_EQ(pool.Alloc(64, &keep), Res::kOk);
  ASSERT_EQ(pool.Free(a, 64), Res::kOk);
  EXPECT_EQ(pool.Free(a, 64), Res::kParam);
  EXPECT_EQ(pool.Free(nullptr, 64), Res::kParam);
  ExpectChecks(pool);
}

TEST_F(MvffTest, PolicyOptionsChooseTheEnds) {
  // slot_high: carve from the high end of the chosen block.
  Mvff high_slot(arena_.get(), MvffOptions{.slot_high = true});
  void *x, *y;
  ASSERT_EQ(high_slot.Alloc(64, &x), Res::kOk);
  ASSERT_EQ(high_slot.Alloc(64, &y), Res::kOk);
  EXPECT_EQ(ToAddr(y) + 64, ToAddr(x));
  // arena_high: segments come from the top of the arena's free space.
  Mvff low(arena_.get(), MvffOptions{});
  Mvff high(arena_.get(), MvffOptions{.arena_high = true});
  void *l, *h;
  ASSERT_EQ(low.Alloc(64, &l), Res::kOk);
  ASSERT_EQ(high.Alloc(64, &h), Res::kOk);
  EXPECT_LT(ToAddr(l), ToAddr(h));
  // first_fit = false: the highest suitable block.
  Mvff last(arena_.get(), MvffOptions{.first_fit = false});
  void *p, *q, *r;
  ASSERT_EQ(last.Alloc(32, &p), Res::kOk);
  ASSERT_EQ(last.Alloc(32, &q), Res::kOk);
  ASSERT_EQ(last.Free(p, 32), Res::kOk);
  ASSERT_EQ(last.Alloc(32, &r), Res::kOk);
  EXPECT_GT(ToAddr(r), ToAddr(q));  // Not the hole at p.
  ExpectChecks(low);
  ExpectChecks(last);
}

TEST_F(MvffTest, AllocationSpansSegmentBoundaries) {
  // Segments from the top of the arena grow downwards, away from the node
  // pool's segments at the bottom, so consecutive segments are adjacent.
  Mvff pool(arena_.get(),
            MvffOptions{.extend_by = grain(), .slot_high = true, .arena_high = true, .spare = 1.0});
  void* first;
  ASSERT_EQ(pool.Alloc(grain() - 64, &first), Res::kOk);
  // 64 bytes are left at the bottom of the first segment. The next segment
  // lies just below it and coalesces with them, so a 128-byte block carved
  // from the top of the joined block straddles the segment boundary.
  void* spanning;
  ASSERT_EQ(pool.Alloc(128, &spanning), Res::kOk);
  EXPECT_EQ(ToAddr(spanning), ToAddr(first) - 128);
  const Addr boundary = ToAddr(first) - 64;
  EXPECT_TRUE(IsAligned(boundary, grain()));
  EXPECT_EQ(pool.TotalSize(), 2 * grain());
  Segment below, above;
  ASSERT_TRUE(arena_->SegmentOf(boundary - 1, &below));
  ASSERT_TRUE(arena_->SegmentOf(boundary, &above));
  EXPECT_EQ(below.pool, &pool);
  EXPECT_EQ(above.pool, &pool);
  testing_util::FillPattern(spanning, 128, 7);
  EXPECT_TRUE(testing_util::CheckPattern(spanning, 128, 7));
  ExpectChecks(pool);
}

TEST_F(MvffTest, LargeRequestsGetJustEnough) {
  Mvff pool(arena_.get(), MvffOptions{.extend_by = 64 << 10});
  void* p;
  ASSERT_EQ(pool.Alloc(1 << 20, &p), Res::kOk);
  EXPECT_EQ(pool.TotalSize(), std::size_t{1} << 20);
  ExpectChecks(pool);
}

TEST_F(MvffTest, SpareFreeMemoryGoesBackToTheArena) {
  Mvff pool(arena_.get(), MvffOptions{.extend_by = 64 << 10, .spare = 0.5});
  std::vector<void*> blocks(64);
  for (void*& p : blocks) ASSERT_EQ(pool.Alloc(4096, &p), Res::kOk);
  const std::size_t peak = pool.TotalSize();
  for (void* p : blocks) ASSERT_EQ(pool.Free(p, 4096), Res::kOk);
  EXPECT_LT(pool.TotalSize(), peak);
  EXPECT_LE(static_cast<double>(pool.FreeSize()), 0.5 * static_cast<double>(pool.TotalSize()));
  ExpectChecks(pool);

  Mvff eager(arena_.get(), MvffOptions{.spare = 0.0});
  void* p;
  ASSERT_EQ(eager.Alloc(10000, &p), Res::kOk);
  ASSERT_EQ(eager.Free(p, 10000), Res::kOk);
  EXPECT_EQ(eager.TotalSize(), 0u);
  ExpectChecks(eager);
}

TEST_F(MvffTest, CommitLimitFailsCleanlyAndRecovers) {
  Mvff pool(arena_.get(), MvffOptions{.extend_by = 16 << 10});
  ASSERT_NO_FATAL_FAILURE(testing_util::RunCommitLimitRecovery(pool, testing_util::TestSeed(), {}));
}

TEST_F(MvffTest, FallsBackToTheFreeListWhenNodesRunOut) {
  // With no commit headroom the node pool cannot extend, so fragmenting
  // frees must go to the FreeList; raising the limit lets them flow back.
  Mvff pool(arena_.get(), MvffOptions{.extend_by = 256 << 10, .spare = 1.0});
  std::vector<void*> blocks(40000);  // Fragments need more nodes than one extent.
  for (void*& p : blocks) ASSERT_EQ(pool.Alloc(64, &p), Res::kOk);
  const std::size_t limit = arena_->stats().committed;
  ASSERT_EQ(arena_->SetCommitLimit(limit), Res::kOk);
  for (std::size_t i = 0; i < blocks.size(); i += 2) ASSERT_EQ(pool.Free(blocks[i], 64), Res::kOk);
  EXPECT_GT(pool.fallback_blocks(), 0u);
  ExpectChecks(pool);
  ASSERT_EQ(arena_->SetCommitLimit(limit + (1 << 20)), Res::kOk);
  for (std::size_t i = 1; i < blocks.size(); i += 2) ASSERT_EQ(pool.Free(blocks[i], 64), Res::kOk);
  EXPECT_EQ(pool.fallback_blocks(), 0u);
  EXPECT_EQ(pool.FreeSize(), pool.TotalSize());
  ExpectChecks(pool);
}

TEST_F(MvffTest, AllocationPointsMixWithPlainAllocation) {
  Mvff pool(arena_.get(), MvffOptions{});
  std::mt19937_64 random(testing_util::TestSeed());
  struct Block {
    void* p;
    std::size_t size;
    std::uint64_t tag;
  };
  std::vector<Block> live;
  {
    AllocationPoint ap(&pool);
    for (std::uint64_t i = 0; i < 5000; ++i) {
      const std::size_t size = 8 + random() % 500;
      void* p;
      if (random() % 3 == 0) {
        ASSERT_EQ(pool.Alloc(size, &p), Res::kOk);
      } else {
        ASSERT_EQ(ap.Reserve(size, &p), Res::kOk);
        ASSERT_TRUE(IsAligned(ToAddr(p), 16));
        ASSERT_TRUE(ap.Commit(p, size));
      }
      testing_util::FillPattern(p, size, i);
      live.push_back({p, size, i});
      if (random() % 4 == 0) {
        const std::size_t k = random() % live.size();
        ASSERT_TRUE(testing_util::CheckPattern(live[k].p, live[k].size, live[k].tag));
        ASSERT_EQ(pool.Free(live[k].p, live[k].size), Res::kOk);
        live[k] = live.back();
        live.pop_back();
      }
    }
    ExpectChecks(pool);
  }  // The allocation point gives back its unused buffer.
  for (const Block& b : live) {
    ASSERT_TRUE(testing_util::CheckPattern(b.p, b.size, b.tag));
    ASSERT_EQ(pool.Free(b.p, b.size), Res::kOk);
  }
  EXPECT_EQ(pool.FreeSize(), pool.TotalSize());
  ExpectChecks(pool);
}

// The block each policy must choose, against a model: before every
// allocation the pool's own free blocks say which one first fit (the
// lowest that fits) or last fit (the highest) takes, and which end of it.
struct PolicyCase {
  const char* name;
  MvffOptions options;
};

class MvffPolicyTest : public MvffTest, public ::testing::WithParamInterface<PolicyCase> {};

TEST_P(MvffPolicyTest, ChoosesTheBlockThePolicyNames) {
  const MvffOptions options = GetParam().options;
  Mvff pool(arena_.get(), options);
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 random(seed);
  std::vector<std::pair<void*, std::size_t>> live;
  int checked = 0;
  for (int step = 0; step < 4000; ++step) {
    SCOPED_TRACE("step " + std::to_string(step) + ", seed " + std::to_string(seed));
    if (live.empty() || random() % 100 < 55) {
      // Log-uniform sizes, as in the benchmark.
      const std::size_t size = std::size_t{8} << (random() % 9);
      const std::size_t request = size + random() % size;
      const std::size_t rounded = AlignUp(request, options.align);
      Range expected;
      pool.WalkBlocks([&](Range run, bool allocated) {
        if (allocated || run.size() < rounded) return true;
        expected = run;
        return !options.first_fit;  // First fit stops at the lowest.
      });
      const std::size_t total_before = pool.TotalSize();
      void* p;
      ASSERT_EQ(pool.Alloc(request, &p), Res::kOk);
      if (pool.TotalSize() == total_before) {  // No new segment: the model applies.
        ASSERT_FALSE(expected.empty()) << "a block fitted but the model saw none";
        const Addr want = options.slot_high ? expected.limit - rounded : expected.base;
        ASSERT_EQ(ToAddr(p), want) << "free block " << expected << ", request " << rounded;
        ++checked;
      }
      live.emplace_back(p, request);
    } else {
      const std::size_t k = random() % live.size();
      ASSERT_EQ(pool.Free(live[k].first, live[k].second), Res::kOk);
      live[k] = live.back();
      live.pop_back();
    }
    ASSERT_NO_FATAL_FAILURE(ExpectChecks(pool));
  }
  EXPECT_GT(checked, 1000);
  for (auto [p, size] : live) ASSERT_EQ(pool.Free(p, size), Res::kOk);
}

INSTANTIATE_TEST_SUITE_P(
    Policies, MvffPolicyTest,
    ::testing::Values(PolicyCase{"FirstFit", {.spare = 1.0}},
                      PolicyCase{"FirstFitSlotHigh", {.slot_high = true, .spare = 1.0}},
                      PolicyCase{"LastFit", {.first_fit = false, .spare = 1.0}},
                      PolicyCase{"LastFitSlotHigh",
                                 {.first_fit = false, .slot_high = true, .spare = 1.0}},
                      PolicyCase{"FirstFitSmallExtend", {.extend_by = 4096, .align = 8}}),
    [](const ::testing::TestParamInfo<PolicyCase>& info) { return info.param.name; });

struct StressCase {
  const char* name;
  MvffOptions options;
};

class MvffStressTest : public MvffTest, public ::testing::WithParamInterface<StressCase> {};

TEST_P(MvffStressTest, RandomSizesAndLifetimes) {
  Mvff pool(arena_.get(), GetParam().options);
  testing_util::PoolStressOptions options;
  options.alignment = GetParam().options.align;
  ASSERT_NO_FATAL_FAILURE(testing_util::RunPoolStress(pool, testing_util::TestSeed(), options));
  EXPECT_EQ(pool.FreeSize(), pool.TotalSize());
}

INSTANTIATE_TEST_SUITE_P(
    Policies, MvffStressTest,
    ::testing::Values(StressCase{"Default", {}}, StressCase{"LastFit", {.first_fit = false}},
                      StressCase{"SlotHigh", {.slot_high = true}},
                      StressCase{"ArenaHigh", {.arena_high = true}},
                      StressCase{"SmallExtendNoSpare", {.extend_by = 4096, .spare = 0.0}},
                      StressCase{"WordAligned", {.align = 8}}),
    [](const ::testing::TestParamInfo<StressCase>& info) { return info.param.name; });

}  // namespace
}  // namespace core
