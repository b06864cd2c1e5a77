#include "core/pool/segregated_cache.h"

#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "core/pools/mvff.h"
#include "gtest/gtest.h"
#include "tests/core/pools/pool_stress.h"
#include "tests/util/pattern.h"
#include "tests/util/seed.h"

namespace core {
namespace {

// Classes small enough to fill and overflow by hand: 16, 32 and 64 bytes,
// caching 4, 4 and 0 blocks.
const std::vector<SacClass> kSmallClasses = {{16, 4}, {32, 4}, {64, 0}};

class SegregatedCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Arena::CreateVirtual(ArenaOptions{}, &arena_), Res::kOk);
    pool_ = std::make_unique<Mvff>(arena_.get(), MvffOptions{.spare = 1.0});
  }
  void ExpectChecks(const SegregatedCache& cache) {
    const CheckResult check = cache.Check();
    EXPECT_TRUE(check.ok) << check.what;
  }
  // Bytes the pool has handed out (to the cache or through it).
  std::size_t PoolAllocated() const { return pool_->TotalSize() - pool_->FreeSize(); }

  std::unique_ptr<Arena> arena_;
  std::unique_ptr<Mvff> pool_;
};

TEST_F(SegregatedCacheTest, ValidateRejectsBadClasses) {
  EXPECT_EQ(SegregatedCache::Validate(kSmallClasses), Res::kOk);
  EXPECT_EQ(SegregatedCache::Validate(SegregatedCache::DefaultClasses()), Res::kOk);
  EXPECT_EQ(SegregatedCache::Validate({}), Res::kParam);
  const std::vector<SacClass> unsorted = {{32, 4}, {16, 4}};
  EXPECT_EQ(SegregatedCache::Validate(unsorted), Res::kParam);
  const std::vector<SacClass> repeated = {{32, 4}, {32, 8}};
  EXPECT_EQ(SegregatedCache::Validate(repeated), Res::kParam);
  const std::vector<SacClass> below_a_word = {{4, 4}};
  EXPECT_EQ(SegregatedCache::Validate(below_a_word), Res::kParam);
  const std::vector<SacClass> huge_count = {{16, std::size_t{1} << 32}};
  EXPECT_EQ(SegregatedCache::Validate(huge_count), Res::kParam);
  // An 8-byte step up to 1 MiB needs a table of 2^17 entries.
  const std::vector<SacClass> huge_table = {{8, 4}, {1 << 20, 4}};
  EXPECT_EQ(SegregatedCache::Validate(huge_table), Res::kParam);
}

TEST_F(SegregatedCacheTest, AFreedBlockServesTheNextRequestOfItsClass) {
  SegregatedCache cache(pool_.get(), kSmallClasses);
  void *a, *b, *c;
  ASSERT_EQ(cache.Alloc(17, &a), Res::kOk);  // The 32-byte class.
  ASSERT_EQ(cache.Free(a, 17), Res::kOk);
  ASSERT_EQ(cache.Alloc(32, &b), Res::kOk);
  EXPECT_EQ(b, a);
  ASSERT_EQ(cache.Alloc(16, &c), Res::kOk);  // Another class: another block.
  EXPECT_NE(c, a);
  ASSERT_EQ(cache.Free(b, 32), Res::kOk);
  ASSERT_EQ(cache.Free(c, 16), Res::kOk);
  EXPECT_EQ(cache.Alloc(0, &a), Res::kParam);
  EXPECT_EQ(cache.Free(nullptr, 16), Res::kParam);
  EXPECT_EQ(cache.Free(a, 0), Res::kParam);
  ExpectChecks(cache);
}

TEST_F(SegregatedCacheTest, AnEmptyClassFillsToHalfItsCapacity) {
  SegregatedCache cache(pool_.get(), kSmallClasses);
  void* p;
  ASSERT_EQ(cache.Alloc(10, &p), Res::kOk);
  EXPECT_EQ(cache.CachedBlocks(0), 2u);  // Half of 4, beside the one returned.
  EXPECT_EQ(cache.stats().fills, 1u);
  EXPECT_EQ(cache.stats().blocks_filled, 3u);
  EXPECT_EQ(PoolAllocated(), 3 * 16u);
  ExpectChecks(cache);
  ASSERT_EQ(cache.Free(p, 10), Res::kOk);
}

TEST_F(SegregatedCacheTest, AFullClassReturnsHalfToThePool) {
  SegregatedCache cache(pool_.get(), kSmallClasses);
  std::vector<void*> blocks(5);
  for (void*& p : blocks) ASSERT_EQ(cache.Alloc(32, &p), Res::kOk);
  cache.Flush();  // Start from an empty class (the fills left one block).
  const std::uint64_t emptied = cache.stats().blocks_emptied;
  for (std::size_t i = 0; i < 4; ++i) ASSERT_EQ(cache.Free(blocks[i], 32), Res::kOk);
  EXPECT_EQ(cache.CachedBlocks(1), 4u);
  EXPECT_EQ(cache.stats().empties, 0u);
  ASSERT_EQ(cache.Free(blocks[4], 32), Res::kOk);  // The fifth overflows.
  EXPECT_EQ(cache.CachedBlocks(1), 3u);
  EXPECT_EQ(cache.stats().empties, 1u);
  EXPECT_EQ(cache.stats().blocks_emptied, emptied + 2);
  EXPECT_EQ(PoolAllocated(), 3 * 32u);
  ExpectChecks(cache);
}

TEST_F(SegregatedCacheTest, WalkVisitsEachCachedBlockWithItsClassSize) {
  SegregatedCache cache(pool_.get(), kSmallClasses);
  void *a, *b;
  ASSERT_EQ(cache.Alloc(10, &a), Res::kOk);  // 16-byte class: 2 more cached.
  ASSERT_EQ(cache.Alloc(20, &b), Res::kOk);  // 32-byte class: 2 more cached.
  ASSERT_EQ(cache.Free(b, 20), Res::kOk);
  std::vector<Range> blocks;
  cache.WalkCached([&](Range block) {
    blocks.push_back(block);
    return true;
  });
  ASSERT_EQ(blocks.size(), cache.CachedBlocks());
  std::size_t bytes = 0, sixteens = 0;
  for (Range block : blocks) {
    bytes += block.size();
    sixteens += block.size() == 16;
    EXPECT_NE(block.base, ToAddr(a)) << "a live block is not cached";
  }
  EXPECT_EQ(bytes, cache.CachedBytes());
  EXPECT_EQ(sixteens, 2u);
  EXPECT_EQ(blocks[sixteens].base, ToAddr(b));  // The 32-byte list's head: freed last.
  std::size_t visited = 0;
  cache.WalkCached([&](Range) { return ++visited < 2; });
  EXPECT_EQ(visited, 2u);  // The walk stops when asked.
  ASSERT_EQ(cache.Free(a, 10), Res::kOk);
}

TEST_F(SegregatedCacheTest, UncachedAndLargeRequestsGoToThePool) {
  SegregatedCache cache(pool_.get(), kSmallClasses);
  void *small, *large;
  ASSERT_EQ(cache.Alloc(40, &small), Res::kOk);  // 64-byte class, caching none.
  ASSERT_EQ(cache.Alloc(1000, &large), Res::kOk);
  EXPECT_EQ(cache.stats().large, 1u);
  EXPECT_EQ(PoolAllocated(), 64u + 1008u);  // MVFF rounds to 16.
  ASSERT_EQ(cache.Free(small, 40), Res::kOk);
  ASSERT_EQ(cache.Free(large, 1000), Res::kOk);
  EXPECT_EQ(cache.CachedBlocks(), 0u);
  EXPECT_EQ(PoolAllocated(), 0u);
  ExpectChecks(cache);
}

TEST_F(SegregatedCacheTest, FlushReturnsEveryBlock) {
  {
    SegregatedCache cache(pool_.get(), SegregatedCache::DefaultClasses());
    std::vector<std::pair<void*, std::size_t>> live;
    for (std::size_t size = 1; size <= 2048; size += 37) {
      void* p;
      ASSERT_EQ(cache.Alloc(size, &p), Res::kOk);
      live.emplace_back(p, size);
    }
    for (auto [p, size] : live) ASSERT_EQ(cache.Free(p, size), Res::kOk);
    EXPECT_GT(cache.CachedBytes(), 0u);
    EXPECT_EQ(PoolAllocated(), cache.CachedBytes());
    cache.Flush();
    EXPECT_EQ(cache.CachedBlocks(), 0u);
    EXPECT_EQ(PoolAllocated(), 0u);
    void* p;
    ASSERT_EQ(cache.Alloc(100, &p), Res::kOk);
    ASSERT_EQ(cache.Free(p, 100), Res::kOk);
  }
  EXPECT_EQ(PoolAllocated(), 0u);  // The destructor flushes too.
}

TEST_F(SegregatedCacheTest, ABlockFreedTwiceIsFoundAndNotHandedOutAgain) {
  SegregatedCache cache(pool_.get(), kSmallClasses);
  void* p;
  ASSERT_EQ(cache.Alloc(16, &p), Res::kOk);
  cache.Flush();
  ASSERT_EQ(cache.Free(p, 16), Res::kOk);
  ASSERT_EQ(cache.Free(p, 16), Res::kOk);  // The fast path cannot tell.
  const CheckResult check = cache.Check();
  EXPECT_FALSE(check.ok);
  EXPECT_NE(check.what.find("cached twice"), std::string::npos) << check.what;
  // Draining returns the block once; the pool refuses the second copy.
  cache.Flush();
  EXPECT_EQ(cache.stats().refused, 1u);
  EXPECT_EQ(cache.CachedBlocks(), 0u);
  EXPECT_EQ(PoolAllocated(), 0u);
  ExpectChecks(cache);
  void* q;
  ASSERT_EQ(cache.Alloc(16, &q), Res::kOk);  // A fill from the pool, not the stale list.
  EXPECT_EQ(cache.stats().fills, 2u);
  ASSERT_EQ(cache.Free(q, 16), Res::kOk);
}

TEST_F(SegregatedCacheTest, CommitLimitFailsCleanlyAndRecovers) {
  pool_ = std::make_unique<Mvff>(arena_.get(), MvffOptions{.extend_by = 16 << 10});
  SegregatedCache cache(pool_.get(), SegregatedCache::DefaultClasses());
  // After the frees, the flush gives the pool back room for a large block.
  ASSERT_NO_FATAL_FAILURE(testing_util::RunCommitLimitRecovery(
      {[&cache](std::size_t size, void** p) { return cache.Alloc(size, p); },
       [&cache](void* p, std::size_t size) { return cache.Free(p, size); },
       [&cache] { return cache.Check(); }, arena_.get()},
      arena_.get(), testing_util::TestSeed(), {.min_size = 1, .retry_size = 2500},
      [&cache] { cache.Flush(); }));
}

// A model of the cache: per class, a stack of blocks (nullopt for blocks a
// fill took, whose addresses only the pool chooses). Every allocation from
// a known block must return it, and every class must hold what the model
// says after every step.
TEST_F(SegregatedCacheTest, MatchesAStackModel) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 random(seed);
  const std::vector<SacClass> classes = {{16, 6}, {48, 3}, {256, 8}, {1024, 1}, {2048, 0}};
  SegregatedCache cache(pool_.get(), classes);
  std::vector<std::vector<std::optional<void*>>> model(classes.size());
  auto class_of = [&](std::size_t size) {
    std::size_t c = 0;
    while (classes[c].block_size < size) ++c;
    return c;
  };
  std::vector<std::pair<void*, std::size_t>> live;
  for (int step = 0; step < 20000; ++step) {
    if (!live.empty() && (live.size() > 200 || random() % 2 == 0)) {
      const std::size_t i = random() % live.size();
      auto [p, size] = live[i];
      live[i] = live.back();
      live.pop_back();
      ASSERT_EQ(cache.Free(p, size), Res::kOk);
      if (size > 2048) continue;
      auto& stack = model[class_of(size)];
      const std::size_t limit = classes[class_of(size)].cached_count;
      if (limit == 0) continue;
      if (stack.size() == limit) stack.resize(limit / 2);  // Drained from the top.
      stack.push_back(p);
    } else {
      const std::size_t size = 1 + random() % 3000;
      void* p;
      ASSERT_EQ(cache.Alloc(size, &p), Res::kOk) << "seed " << seed << " step " << step;
      live.emplace_back(p, size);
      if (size > 2048) continue;
      auto& stack = model[class_of(size)];
      if (!stack.empty()) {
        if (stack.back().has_value()) {
          ASSERT_EQ(p, *stack.back()) << "seed " << seed << " step " << step;
        }
        stack.pop_back();
      } else {
        stack.resize(classes[class_of(size)].cached_count / 2);
      }
    }
    for (std::size_t c = 0; c < classes.size(); ++c) {
      ASSERT_EQ(cache.CachedBlocks(c), model[c].size())
          << "seed " << seed << " step " << step << " class " << classes[c].block_size;
    }
    if (step % 500 == 0) {
      ASSERT_TRUE(cache.Check().ok) << "seed " << seed << " step " << step;
    }
  }
  for (auto [p, size] : live) ASSERT_EQ(cache.Free(p, size), Res::kOk);
  cache.Flush();
  EXPECT_EQ(PoolAllocated(), 0u);
}

// mpmss through the cache: patterns catch blocks handed out twice or
// overlapping, with sizes past the largest class so the pool serves some.
TEST_F(SegregatedCacheTest, RandomSizesAndLifetimes) {
  SegregatedCache cache(pool_.get(), SegregatedCache::DefaultClasses(8));
  testing_util::PoolStressOptions options;
  options.max_size = 8192;
  options.alignment = 16;
  ASSERT_NO_FATAL_FAILURE(testing_util::RunAllocatorStress(
      {[&cache](std::size_t size, void** p) { return cache.Alloc(size, p); },
       [&cache](void* p, std::size_t size) { return cache.Free(p, size); },
       [&cache] { return cache.Check(); }, arena_.get()},
      testing_util::TestSeed(), options));
  cache.Flush();
  EXPECT_EQ(PoolAllocated(), 0u);
  EXPECT_GT(cache.stats().fills, 0u);
  EXPECT_GT(cache.stats().empties, 0u);
  EXPECT_GT(cache.stats().large, 0u);
}

}  // namespace
}  // namespace core
