#include "core/pools/mfs.h"

#include <memory>
#include <set>
#include <sstream>
#include <vector>

#include "gtest/gtest.h"
#include "tests/core/pools/pool_stress.h"
#include "tests/util/seed.h"

namespace core {
namespace {

class MfsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(Arena::CreateVirtual(ArenaOptions{}, &arena_), Res::kOk); }
  std::unique_ptr<Arena> arena_;
};

TEST_F(MfsTest, UnitSizeIsRoundedUpToAWord) {
  Mfs pool(arena_.get(), MfsOptions{.unit_size = 3});
  EXPECT_EQ(pool.unit_size(), kWordSize);
  void* p;
  EXPECT_EQ(pool.Alloc(kWordSize + 1, &p), Res::kParam);
  EXPECT_EQ(pool.Alloc(0, &p), Res::kParam);
}

TEST_F(MfsTest, FreedUnitsAreReusedLastInFirstOut) {
  Mfs pool(arena_.get(), MfsOptions{.unit_size = 48});
  void *a, *b, *c;
  ASSERT_EQ(pool.Alloc(48, &a), Res::kOk);
  ASSERT_EQ(pool.Alloc(48, &b), Res::kOk);
  EXPECT_EQ(ToAddr(b), ToAddr(a) + 48);  // Carved by bumping.
  ASSERT_EQ(pool.Free(a, 48), Res::kOk);
  ASSERT_EQ(pool.Free(b, 48), Res::kOk);
  ASSERT_EQ(pool.Alloc(48, &c), Res::kOk);
  EXPECT_EQ(c, b);
  ASSERT_EQ(pool.Alloc(48, &c), Res::kOk);
  EXPECT_EQ(c, a);
  auto check = pool.Check();
  EXPECT_TRUE(check.ok) << check.what;
}

TEST_F(MfsTest, ExtendsByExtendByAndNeverReturnsMemory) {
  Mfs pool(arena_.get(), MfsOptions{.unit_size = 64, .extend_by = 64 << 10});
  std::vector<void*> units;
  for (int i = 0; i < 2048; ++i) {  // 2048 * 64 = two extents.
    void* p;
    ASSERT_EQ(pool.Alloc(64, &p), Res::kOk);
    units.push_back(p);
  }
  EXPECT_EQ(pool.TotalSize(), std::size_t{128} << 10);
  EXPECT_EQ(pool.FreeSize(), 0u);
  int segments = 0;
  pool.WalkSegments([&](const Segment& s) {
    EXPECT_EQ(s.type, SegmentType::kManualFixed);
    EXPECT_EQ(s.pool, &pool);
    ++segments;
    return true;
  });
  EXPECT_GE(segments, 1);
  for (void* p : units) ASSERT_EQ(pool.Free(p, 64), Res::kOk);
  EXPECT_EQ(pool.TotalSize(), std::size_t{128} << 10);
  EXPECT_EQ(pool.FreeSize(), pool.TotalSize());
  EXPECT_EQ(arena_->PoolBytes(pool.id()), pool.TotalSize());
  auto check = pool.Check();
  EXPECT_TRUE(check.ok) << check.what;
}

TEST_F(MfsTest, WalkBlocksAgreesWithTheCounts) {
  Mfs pool(arena_.get(), MfsOptions{.unit_size = 32, .extend_by = 4096});
  std::vector<void*> units(100);
  for (void*& p : units) ASSERT_EQ(pool.Alloc(32, &p), Res::kOk);
  for (int i = 0; i < 100; i += 3) ASSERT_EQ(pool.Free(units[i], 32), Res::kOk);
  std::size_t allocated = 0, free_bytes = 0;
  pool.WalkBlocks([&](Range run, bool is_allocated) {
    (is_allocated ? allocated : free_bytes) += run.size();
    return true;
  });
  EXPECT_EQ(allocated, pool.units_in_use() * 32);
  EXPECT_EQ(allocated + free_bytes, pool.TotalSize());
}

TEST_F(MfsTest, CommitLimitFailsCleanlyAndRecovers) {
  Mfs pool(arena_.get(), MfsOptions{.unit_size = 128, .extend_by = 16 << 10});
  const std::size_t limit = arena_->stats().committed + (64 << 10);
  ASSERT_EQ(arena_->SetCommitLimit(limit), Res::kOk);
  std::vector<void*> units;
  Res res;
  for (;;) {
    void* p;
    res = pool.Alloc(128, &p);
    if (res != Res::kOk) break;
    units.push_back(p);
  }
  EXPECT_EQ(res, Res::kCommitLimit);
  EXPECT_EQ(units.size(), (std::size_t{64} << 10) / 128);
  EXPECT_LE(arena_->stats().committed, limit);
  auto check = pool.Check();
  ASSERT_TRUE(check.ok) << check.what;
  check = arena_->Check();
  ASSERT_TRUE(check.ok) << check.what;
  // Frees make units available again, without the arena.
  ASSERT_EQ(pool.Free(units.back(), 128), Res::kOk);
  void* p;
  EXPECT_EQ(pool.Alloc(128, &p), Res::kOk);
  // Raising the limit lets the pool extend again.
  ASSERT_EQ(arena_->SetCommitLimit(limit + (16 << 10)), Res::kOk);
  EXPECT_EQ(pool.Alloc(128, &p), Res::kOk);
}

TEST_F(MfsTest, RandomStress) {
  for (std::size_t unit : {8u, 24u, 256u}) {
    Mfs pool(arena_.get(), MfsOptions{.unit_size = unit, .extend_by = 8 << 10});
    testing_util::PoolStressOptions options;
    options.min_size = options.max_size = unit;
    options.alignment = kWordSize;
    ASSERT_NO_FATAL_FAILURE(testing_util::RunPoolStress(pool, testing_util::TestSeed(), options));
  }
}

TEST_F(MfsTest, DescribeNamesTheClass) {
  Mfs pool(arena_.get(), MfsOptions{.unit_size = 16});
  std::ostringstream text;
  pool.Describe(text);
  EXPECT_NE(text.str().find("MFS"), std::string::npos);
}

}  // namespace
}  // namespace core
