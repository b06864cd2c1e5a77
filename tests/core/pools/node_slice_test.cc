#include "core/pools/node_slice.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "core/pools/mfs.h"
#include "gtest/gtest.h"
#include "tests/util/pattern.h"
#include "tests/util/seed.h"

namespace core {
namespace {

constexpr std::size_t kHeader = NodeSlicePool::kHeaderSize;

#define EXPECT_CHECK_OK(x)                 \
  do {                                     \
    auto check_ = (x).Check();             \
    EXPECT_TRUE(check_.ok) << check_.what; \
  } while (0)
#define ASSERT_CHECK_OK(x)                 \
  do {                                     \
    auto check_ = (x).Check();             \
    ASSERT_TRUE(check_.ok) << check_.what; \
  } while (0)

class NodeSliceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(Arena::CreateVirtual(ArenaOptions{}, &arena_), Res::kOk); }

  NodeSliceHandle MakePool(NodeSliceTree& tree, NodeSliceHandle parent, std::size_t slice,
                           bool thread_safe = false) {
    NodeSliceHandle h;
    EXPECT_EQ(
        tree.Create(parent, NodeSliceOptions{.slice_size = slice, .thread_safe = thread_safe}, &h),
        Res::kOk);
    return h;
  }

  std::unique_ptr<Arena> arena_;
};

TEST_F(NodeSliceTest, AllocAndFree) {
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle h = MakePool(tree, tree.root(), 40);
  ASSERT_TRUE(h.valid());
  NodeSlicePool* pool = tree.Get(h);
  ASSERT_NE(pool, nullptr);
  EXPECT_STREQ(pool->class_name(), "NodeSlice");
  EXPECT_EQ(pool->slice_size(), 48u);  // Rounded up to 16.
  EXPECT_EQ(pool->TotalSize(), 0u);    // No node until the first allocation.
  void* p;
  ASSERT_EQ(tree.Alloc(h, &p), Res::kOk);
  EXPECT_TRUE(IsAligned(ToAddr(p), 16));
  EXPECT_EQ(pool->node_count(), 1u);
  EXPECT_EQ(pool->TotalSize(), std::size_t{64} << 10);
  EXPECT_EQ(pool->live_slices(), 1u);
  testing_util::FillPattern(p, 48, 7);
  EXPECT_CHECK_OK(tree);
  ASSERT_EQ(tree.Free(p), Res::kOk);
  EXPECT_EQ(pool->live_slices(), 0u);
  EXPECT_EQ(pool->available_slices(), 1u);
  EXPECT_CHECK_OK(tree);
  // The Pool interface.
  EXPECT_EQ(pool->Alloc(49, &p), Res::kParam);
  EXPECT_EQ(pool->Alloc(0, &p), Res::kParam);
  ASSERT_EQ(pool->Alloc(48, &p), Res::kOk);
  EXPECT_EQ(pool->Free(p, 49), Res::kParam);
  EXPECT_EQ(pool->Free(p, 48), Res::kOk);
  EXPECT_CHECK_OK(*pool);
}

TEST_F(NodeSliceTest, FreedSlicesAreReusedLastInFirstOut) {
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle h = MakePool(tree, tree.root(), 32);
  void *a, *b, *c;
  ASSERT_EQ(tree.Alloc(h, &a), Res::kOk);
  ASSERT_EQ(tree.Alloc(h, &b), Res::kOk);
  EXPECT_EQ(ToAddr(b), ToAddr(a) + 32 + kHeader);  // Carved by bumping.
  ASSERT_EQ(tree.Free(a), Res::kOk);
  ASSERT_EQ(tree.Free(b), Res::kOk);
  ASSERT_EQ(tree.Alloc(h, &c), Res::kOk);
  EXPECT_EQ(c, b);
  ASSERT_EQ(tree.Alloc(h, &c), Res::kOk);
  EXPECT_EQ(c, a);
  ASSERT_EQ(tree.Alloc(h, &c), Res::kOk);
  EXPECT_EQ(ToAddr(c), ToAddr(b) + 32 + kHeader);  // Then bumping resumes.
  EXPECT_CHECK_OK(tree);
}

TEST_F(NodeSliceTest, SizeIsFoundFromThePointer) {
  NodeSliceTree tree(arena_.get());
  const std::size_t sizes[] = {1, 16, 100, 1000, 5000};
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t s : sizes) {
    NodeSliceHandle h = MakePool(tree, tree.root(), s);
    for (int i = 0; i < 3; ++i) {
      void* p;
      ASSERT_EQ(tree.Alloc(h, &p), Res::kOk);
      blocks.push_back({p, tree.Get(h)->slice_size()});
      EXPECT_EQ(tree.PoolOf(p), tree.Get(h));
    }
  }
  for (auto [p, expected] : blocks) {
    std::size_t size = 0;
    ASSERT_EQ(tree.SizeOf(p, &size), Res::kOk);
    EXPECT_EQ(size, expected);
    EXPECT_GE(size, 1u);
    ASSERT_EQ(tree.Free(p), Res::kOk);  // No size needed.
    EXPECT_EQ(tree.SizeOf(p, &size), Res::kParam);
  }
  EXPECT_CHECK_OK(tree);
}

TEST_F(NodeSliceTest, NodeHoldsTheMinimumNumberOfSlices) {
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle h;
  ASSERT_EQ(
      tree.Create(tree.root(), NodeSliceOptions{.slice_size = 4096, .min_slices_per_node = 32}, &h),
      Res::kOk);
  NodeSlicePool* pool = tree.Get(h);
  EXPECT_GE(pool->node_size(), NodeSlicePool::kNodeHeaderSize + 32 * (4096 + kHeader));
  for (int i = 0; i < 32; ++i) {
    void* p;
    ASSERT_EQ(tree.Alloc(h, &p), Res::kOk);
  }
  EXPECT_EQ(pool->node_count(), 1u);
  void* p;
  ASSERT_EQ(tree.Alloc(h, &p), Res::kOk);
  EXPECT_EQ(pool->node_count(), 2u);
  int segments = 0;
  pool->WalkSegments([&](const Segment& s) {
    EXPECT_EQ(s.type, SegmentType::kManualNodeSlice);
    EXPECT_EQ(s.pool, pool);
    ++segments;
    return true;
  });
  EXPECT_EQ(segments, 2);
  EXPECT_CHECK_OK(tree);
}

TEST_F(NodeSliceTest, BadOptionsAreRejected) {
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle h;
  EXPECT_EQ(tree.Create(tree.root(), NodeSliceOptions{.slice_size = 0}, &h), Res::kParam);
  EXPECT_EQ(tree.Create(tree.root(), NodeSliceOptions{.slice_size = SIZE_MAX - 4}, &h),
            Res::kParam);
  EXPECT_EQ(
      tree.Create(tree.root(),
                  NodeSliceOptions{.slice_size = 64, .min_slices_per_node = SIZE_MAX / 8}, &h),
      Res::kParam);
  EXPECT_EQ(tree.Create(NodeSliceHandle{}, NodeSliceOptions{.slice_size = 64}, &h), Res::kParam);
  EXPECT_EQ(tree.pool_count(), 0u);
  // The root is a parent only.
  void* p;
  EXPECT_EQ(tree.Alloc(tree.root(), &p), Res::kParam);
  EXPECT_EQ(tree.Destroy(tree.root()), Res::kParam);
  EXPECT_TRUE(tree.root().valid());
  EXPECT_CHECK_OK(tree);
}

TEST_F(NodeSliceTest, DestroyingAPoolDestroysItsChildrenAndReturnsTheirNodes) {
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle keep = MakePool(tree, tree.root(), 64);
  void* kept;
  ASSERT_EQ(tree.Alloc(keep, &kept), Res::kOk);
  const std::size_t baseline = arena_->stats().in_use;

  NodeSliceHandle a = MakePool(tree, tree.root(), 64);
  NodeSliceHandle b = MakePool(tree, a, 128);
  NodeSliceHandle c = MakePool(tree, b, 256);
  NodeSliceHandle d = MakePool(tree, a, 32);
  NodeSliceHandle e = MakePool(tree, c, 16);
  EXPECT_EQ(tree.pool_count(), 6u);
  EXPECT_EQ(tree.Get(a)->child_count(), 2u);
  EXPECT_EQ(tree.Get(c)->parent(), tree.Get(b));
  std::vector<void*> blocks;
  for (NodeSliceHandle h : {a, b, c, d, e}) {
    for (int i = 0; i < 600; ++i) {  // More than a node for the bigger slices.
      void* p;
      ASSERT_EQ(tree.Alloc(h, &p), Res::kOk);
      blocks.push_back(p);
    }
  }
  EXPECT_GT(arena_->stats().in_use, baseline);
  ASSERT_CHECK_OK(tree);
  std::ostringstream os;
  tree.Describe(os);
  EXPECT_NE(os.str().find("(root)"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("      NodeSlice pool"), std::string::npos) << os.str();  // Depth 2.

  ASSERT_EQ(tree.Destroy(b), Res::kOk);  // b, c, e.
  EXPECT_TRUE(a.valid() && d.valid() && keep.valid());
  EXPECT_FALSE(b.valid() || c.valid() || e.valid());
  EXPECT_EQ(tree.pool_count(), 3u);
  EXPECT_EQ(tree.Get(a)->child_count(), 1u);
  ASSERT_CHECK_OK(tree);

  ASSERT_EQ(tree.Destroy(a), Res::kOk);  // a, d.
  EXPECT_FALSE(a.valid() || d.valid());
  EXPECT_EQ(tree.pool_count(), 1u);
  // All their nodes went back to the arena; the descriptors stay in the root.
  EXPECT_EQ(arena_->stats().in_use, baseline);
  for (void* p : blocks) EXPECT_EQ(tree.Free(p), Res::kParam);
  EXPECT_EQ(tree.Free(kept), Res::kOk);
  ASSERT_CHECK_OK(tree);
  auto arena_check = arena_->Check();
  EXPECT_TRUE(arena_check.ok) << arena_check.what;
}

TEST_F(NodeSliceTest, TreeDestructorReturnsEverything) {
  {
    NodeSliceTree tree(arena_.get());
    NodeSliceHandle a = MakePool(tree, tree.root(), 64);
    NodeSliceHandle b = MakePool(tree, a, 64);
    for (NodeSliceHandle h : {a, b}) {
      void* p;
      ASSERT_EQ(tree.Alloc(h, &p), Res::kOk);
    }
    EXPECT_GT(arena_->stats().in_use, 0u);
  }
  EXPECT_EQ(arena_->stats().in_use, 0u);
}

TEST_F(NodeSliceTest, StaleHandlesAreDetected) {
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle old = MakePool(tree, tree.root(), 64);
  void* p;
  ASSERT_EQ(tree.Alloc(old, &p), Res::kOk);
  ASSERT_EQ(tree.Destroy(old), Res::kOk);

  // Destroyed.
  EXPECT_FALSE(old.valid());
  EXPECT_EQ(tree.Get(old), nullptr);
  EXPECT_EQ(tree.Alloc(old, &p), Res::kParam);
  EXPECT_EQ(tree.Destroy(old), Res::kParam);
  NodeSliceHandle child;
  EXPECT_EQ(tree.Create(old, NodeSliceOptions{.slice_size = 16}, &child), Res::kParam);
  ASSERT_CHECK_OK(tree);

  // Destroyed and its descriptor reused: the tag differs.
  NodeSliceHandle reused = MakePool(tree, tree.root(), 128);
  ASSERT_EQ(reused.desc, old.desc);
  EXPECT_NE(reused.tag, old.tag);
  EXPECT_TRUE(reused.valid());
  EXPECT_FALSE(old.valid());
  EXPECT_EQ(tree.Get(old), nullptr);
  EXPECT_EQ(tree.Alloc(old, &p), Res::kParam);
  EXPECT_EQ(tree.Destroy(old), Res::kParam);
  EXPECT_EQ(tree.Create(old, NodeSliceOptions{.slice_size = 16}, &child), Res::kParam);
  EXPECT_EQ(tree.Get(reused)->live_slices(), 0u);
  EXPECT_TRUE(reused.valid());
  ASSERT_EQ(tree.Alloc(reused, &p), Res::kOk);
  EXPECT_EQ(tree.Get(reused)->live_slices(), 1u);

  // The same again, thread-safe (the locked path checks the tag too).
  NodeSliceHandle ts = MakePool(tree, tree.root(), 64, /*thread_safe=*/true);
  ASSERT_EQ(tree.Alloc(ts, &p), Res::kOk);
  ASSERT_EQ(tree.Destroy(ts), Res::kOk);
  EXPECT_EQ(tree.Alloc(ts, &p), Res::kParam);
  NodeSliceHandle ts2 = MakePool(tree, tree.root(), 64, /*thread_safe=*/false);
  EXPECT_EQ(ts2.desc, ts.desc);
  EXPECT_EQ(tree.Alloc(ts, &p), Res::kParam);
  EXPECT_EQ(tree.Get(ts2)->live_slices(), 0u);
  // A default handle is never valid.
  EXPECT_FALSE(NodeSliceHandle{}.valid());
  EXPECT_EQ(tree.Alloc(NodeSliceHandle{}, &p), Res::kParam);
  ASSERT_CHECK_OK(tree);
}

TEST_F(NodeSliceTest, BadFreesAreDetected) {
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle h = MakePool(tree, tree.root(), 64);
  NodeSliceHandle other = MakePool(tree, tree.root(), 64);
  void *p, *q, *live;
  ASSERT_EQ(tree.Alloc(h, &p), Res::kOk);
  ASSERT_EQ(tree.Alloc(h, &live), Res::kOk);
  ASSERT_EQ(tree.Alloc(other, &q), Res::kOk);
  testing_util::FillPattern(live, 64, 99);

  // Double free, through the tree and through the pool.
  ASSERT_EQ(tree.Free(p), Res::kOk);
  EXPECT_EQ(tree.Free(p), Res::kParam);
  EXPECT_EQ(tree.Get(h)->FreeSlice(p), Res::kParam);
  EXPECT_EQ(tree.Get(h)->Free(p, 64), Res::kParam);
  // A slice of another pool, freed through the wrong pool.
  EXPECT_EQ(tree.Get(h)->FreeSlice(q), Res::kParam);
  // Not slices: null, misaligned, interior, uncarved, and foreign memory.
  EXPECT_EQ(tree.Free(nullptr), Res::kParam);
  EXPECT_EQ(tree.Free(static_cast<char*>(live) + 8), Res::kParam);
  EXPECT_EQ(tree.Free(static_cast<char*>(live) + 16), Res::kParam);
  EXPECT_EQ(tree.Get(h)->FreeSlice(static_cast<char*>(live) + 16), Res::kParam);
  EXPECT_EQ(tree.Free(static_cast<char*>(live) + 10 * (64 + kHeader)), Res::kParam);
  alignas(16) char stack[64] = {};
  EXPECT_EQ(tree.Free(stack + 16), Res::kParam);
  std::unique_ptr<char[]> heap(new char[256]);
  EXPECT_EQ(tree.Free(heap.get() + 32), Res::kParam);
  Mfs mfs(arena_.get(), MfsOptions{.unit_size = 64});
  void* unit;
  ASSERT_EQ(mfs.AllocUnit(&unit), Res::kOk);
  ASSERT_EQ(mfs.AllocUnit(&unit), Res::kOk);
  EXPECT_EQ(tree.Free(unit), Res::kParam);
  // The root's slices are descriptors, never user blocks.
  EXPECT_EQ(tree.Free(h.desc), Res::kParam);
  // A slice of another tree.
  NodeSliceTree tree2(arena_.get());
  NodeSliceHandle h2 = MakePool(tree2, tree2.root(), 64);
  void* p2;
  ASSERT_EQ(tree2.Alloc(h2, &p2), Res::kOk);
  EXPECT_EQ(tree.Free(p2), Res::kParam);
  EXPECT_EQ(tree2.Free(p2), Res::kOk);
  // A slice whose pool was destroyed (its node is back in the arena).
  ASSERT_EQ(tree.Destroy(other), Res::kOk);
  EXPECT_EQ(tree.Free(q), Res::kParam);
  arena_->PurgeSpare();  // Decommitted: reading it would fault.
  EXPECT_EQ(tree.Free(q), Res::kParam);

  // Nothing was corrupted.
  EXPECT_TRUE(testing_util::CheckPattern(live, 64, 99));
  EXPECT_EQ(tree.Get(h)->live_slices(), 1u);
  ASSERT_CHECK_OK(tree);
  ASSERT_CHECK_OK(tree2);
  EXPECT_EQ(tree.Free(live), Res::kOk);
  ASSERT_CHECK_OK(tree);
}

TEST_F(NodeSliceTest, CommitLimitFailsCleanlyAndRecovers) {
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle a = MakePool(tree, tree.root(), 1000);
  NodeSliceHandle b = MakePool(tree, tree.root(), 1000);  // The root now has its node.
  arena_->PurgeSpare();
  // Room for exactly two more 64 KiB nodes.
  ASSERT_EQ(arena_->SetCommitLimit(arena_->stats().committed + (std::size_t{128} << 10)), Res::kOk);
  std::vector<void*> blocks;
  Res res;
  for (;;) {
    void* p;
    res = tree.Alloc(a, &p);
    if (res != Res::kOk) break;
    testing_util::FillPattern(p, 1000, blocks.size());
    blocks.push_back(p);
  }
  EXPECT_EQ(res, Res::kCommitLimit);
  EXPECT_EQ(tree.Get(a)->node_count(), 2u);
  EXPECT_EQ(blocks.size(), 2 * (((64u << 10) - 16) / (1008 + kHeader)));
  void* p;
  EXPECT_EQ(tree.Alloc(b, &p), Res::kCommitLimit);
  EXPECT_EQ(tree.Get(b)->TotalSize(), 0u);
  ASSERT_CHECK_OK(tree);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_TRUE(testing_util::CheckPattern(blocks[i], 1000, i));
  }

  // A free makes a slice available again, without any node.
  ASSERT_EQ(tree.Free(blocks.back()), Res::kOk);
  ASSERT_EQ(tree.Alloc(a, &p), Res::kOk);
  EXPECT_EQ(p, blocks.back());
  EXPECT_EQ(tree.Alloc(a, &p), Res::kCommitLimit);

  // Destroying a returns its nodes; b can grow.
  ASSERT_EQ(tree.Destroy(a), Res::kOk);
  ASSERT_EQ(tree.Alloc(b, &p), Res::kOk);
  EXPECT_EQ(tree.Get(b)->node_count(), 1u);
  ASSERT_CHECK_OK(tree);

  // A tree whose root cannot get a node fails to create pools, cleanly.
  ASSERT_EQ(tree.Alloc(b, &p), Res::kOk);
  NodeSliceHandle c = MakePool(tree, tree.root(), 1000);
  for (;;) {
    void* q;
    res = tree.Alloc(c, &q);
    if (res != Res::kOk) break;
  }
  EXPECT_EQ(res, Res::kCommitLimit);
  NodeSliceTree tree2(arena_.get());
  NodeSliceHandle h;
  EXPECT_EQ(tree2.Create(tree2.root(), NodeSliceOptions{.slice_size = 8}, &h), Res::kCommitLimit);
  EXPECT_EQ(tree2.pool_count(), 0u);
  ASSERT_CHECK_OK(tree2);
  ASSERT_EQ(tree.Destroy(c), Res::kOk);
  EXPECT_EQ(tree2.Create(tree2.root(), NodeSliceOptions{.slice_size = 8}, &h), Res::kOk);
  ASSERT_CHECK_OK(tree2);
  ASSERT_CHECK_OK(tree);
  auto arena_check = arena_->Check();
  EXPECT_TRUE(arena_check.ok) << arena_check.what;
}

TEST_F(NodeSliceTest, WalkBlocksAgreesWithSizes) {
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle h;
  ASSERT_EQ(tree.Create(tree.root(), NodeSliceOptions{.slice_size = 200, .node_size = 4096}, &h),
            Res::kOk);
  std::vector<void*> blocks;
  for (int i = 0; i < 50; ++i) {
    void* p;
    ASSERT_EQ(tree.Alloc(h, &p), Res::kOk);
    blocks.push_back(p);
  }
  for (int i = 0; i < 50; i += 3) ASSERT_EQ(tree.Free(blocks[i]), Res::kOk);
  NodeSlicePool* pool = tree.Get(h);
  std::size_t free_bytes = 0, total = 0, live_runs = 0;
  Addr last = 0;
  pool->WalkBlocks([&](Range run, bool allocated) {
    EXPECT_GE(run.base, last);
    last = run.limit;
    total += run.size();
    if (allocated) {
      if (run.size() == pool->stride()) ++live_runs;
    } else {
      free_bytes += run.size();
    }
    return true;
  });
  EXPECT_EQ(total, pool->TotalSize());
  EXPECT_EQ(free_bytes, pool->FreeSize());
  EXPECT_EQ(live_runs, pool->live_slices());
  EXPECT_EQ(pool->live_slices(), 33u);
  std::ostringstream os;
  pool->Describe(os);
  EXPECT_NE(os.str().find("live 33"), std::string::npos) << os.str();
  EXPECT_CHECK_OK(tree);
}

TEST_F(NodeSliceTest, CheckDetectsCorruptedSlices) {
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle h = MakePool(tree, tree.root(), 64);
  void *a, *b;
  ASSERT_EQ(tree.Alloc(h, &a), Res::kOk);
  ASSERT_EQ(tree.Alloc(h, &b), Res::kOk);
  ASSERT_EQ(tree.Free(a), Res::kOk);
  ASSERT_CHECK_OK(tree);
  NodeSliceHeader* ha = NodeSlicePool::HeaderOf(a);
  NodeSliceHeader* hb = NodeSlicePool::HeaderOf(b);
  // A free slice that claims to be live.
  ha->magic = NodeSlicePool::kLiveMagic;
  EXPECT_FALSE(tree.Check().ok);
  ha->magic = NodeSlicePool::kFreeMagic;
  // A live slice whose header names another tag or state.
  hb->tag ^= 2;
  EXPECT_FALSE(tree.Check().ok);
  EXPECT_EQ(tree.Free(b), Res::kParam);
  hb->tag ^= 2;
  hb->magic = 0;
  EXPECT_FALSE(tree.Check().ok);
  EXPECT_EQ(tree.Free(b), Res::kParam);
  hb->magic = NodeSlicePool::kLiveMagic;
  ASSERT_CHECK_OK(tree);
  EXPECT_EQ(tree.Free(b), Res::kOk);
  ASSERT_CHECK_OK(tree);
}

// ------------------------------------------------------ randomised stress

// After MPS's mpmss: a random tree of pools, random create / destroy /
// alloc / free, a pattern in every slice checked when it is freed, and the
// tree compared against a reference model.
TEST_F(NodeSliceTest, RandomTreeStress) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  auto uniform = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };

  NodeSliceTree tree(arena_.get());
  struct ModelPool {
    NodeSliceHandle handle;
    int parent;  // -1: the root.
    std::size_t slice;
    bool alive;
    std::map<void*, std::uint64_t> live;  // Block -> pattern tag.
  };
  std::vector<ModelPool> pools;
  std::map<Addr, std::pair<std::size_t, int>> blocks;  // Every live block: size, pool.
  std::vector<NodeSliceHandle> stale;
  std::uint64_t next_tag = 1;
  int alive_count = 0;

  auto alive_pools = [&] {
    std::vector<int> out;
    for (int i = 0; i < static_cast<int>(pools.size()); ++i) {
      if (pools[i].alive) out.push_back(i);
    }
    return out;
  };
  auto compare = [&] {
    ASSERT_EQ(tree.pool_count(), static_cast<std::size_t>(alive_count));
    for (const ModelPool& m : pools) {
      ASSERT_EQ(m.handle.valid(), m.alive);
      if (!m.alive) continue;
      NodeSlicePool* pool = tree.Get(m.handle);
      ASSERT_NE(pool, nullptr);
      ASSERT_EQ(pool->live_slices(), m.live.size());
      ASSERT_EQ(pool->slice_size(), m.slice);
      ASSERT_EQ(pool->is_root(), false);
      if (m.parent >= 0) {
        ASSERT_EQ(pool->parent(), tree.Get(pools[m.parent].handle));
      } else {
        ASSERT_TRUE(pool->parent()->is_root());
      }
    }
    for (NodeSliceHandle h : stale) ASSERT_FALSE(h.valid());
  };

  const int kSteps = 20000;
  const int kCheckEvery = 250;
  for (int step = 0; step < kSteps; ++step) {
    const std::size_t op = uniform(100);
    std::vector<int> alive = alive_pools();
    if (alive.empty() || (op < 4 && alive_count < 40)) {
      // Create, under the root or a random live pool.
      int parent = alive.empty() || uniform(3) == 0 ? -1 : alive[uniform(alive.size())];
      const std::size_t sizes[] = {1, 8, 16, 24, 40, 64, 100, 256, 1000, 3000};
      const std::size_t node_sizes[] = {4096, 16384, 65536};
      NodeSliceOptions options{.slice_size = sizes[uniform(10)],
                               .node_size = node_sizes[uniform(3)],
                               .min_slices_per_node = 1 + uniform(8)};
      NodeSliceHandle h;
      ASSERT_EQ(tree.Create(parent < 0 ? tree.root() : pools[parent].handle, options, &h),
                Res::kOk);
      ASSERT_TRUE(h.valid());
      pools.push_back(ModelPool{h, parent, AlignUp(options.slice_size, 16), true, {}});
      ++alive_count;
    } else if (op < 6) {
      // Destroy a random pool and its descendants, checking their blocks.
      const int victim = alive[uniform(alive.size())];
      std::vector<int> doomed{victim};
      for (std::size_t i = 0; i < doomed.size(); ++i) {
        for (int j = 0; j < static_cast<int>(pools.size()); ++j) {
          if (pools[j].alive && pools[j].parent == doomed[i]) doomed.push_back(j);
        }
      }
      for (int d : doomed) {
        for (auto [p, tag] : pools[d].live) {
          ASSERT_TRUE(testing_util::CheckPattern(p, pools[d].slice, tag))
              << "step " << step << " seed " << seed;
          blocks.erase(ToAddr(p));
        }
      }
      std::vector<void*> dead_blocks;
      for (auto [p, tag] : pools[victim].live) dead_blocks.push_back(p);
      ASSERT_EQ(tree.Destroy(pools[victim].handle), Res::kOk);
      for (int d : doomed) {
        pools[d].alive = false;
        pools[d].live.clear();
        stale.push_back(pools[d].handle);
        --alive_count;
      }
      // Freeing a block of a destroyed pool is refused, even if its address
      // is reused later.
      if (!dead_blocks.empty()) {
        ASSERT_EQ(tree.Free(dead_blocks[uniform(dead_blocks.size())]), Res::kParam);
      }
      void* p;
      ASSERT_EQ(tree.Alloc(pools[victim].handle, &p), Res::kParam);
    } else if (op < 55) {
      // Allocate.
      const int i = alive[uniform(alive.size())];
      void* p;
      ASSERT_EQ(tree.Alloc(pools[i].handle, &p), Res::kOk);
      const Addr a = ToAddr(p);
      auto next = blocks.lower_bound(a);
      ASSERT_TRUE(next == blocks.end() || next->first >= a + pools[i].slice + kHeader)
          << "overlap at step " << step << " seed " << seed;
      if (next != blocks.begin()) {
        auto prev = std::prev(next);
        ASSERT_LE(prev->first + prev->second.first + kHeader, a)
            << "overlap at step " << step << " seed " << seed;
      }
      std::size_t size = 0;
      ASSERT_EQ(tree.SizeOf(p, &size), Res::kOk);
      ASSERT_EQ(size, pools[i].slice);
      const std::uint64_t tag = next_tag++;
      testing_util::FillPattern(p, size, tag);
      pools[i].live[p] = tag;
      blocks[a] = {size, i};
    } else if (op < 97) {
      // Free a random live block, through the tree or the pool.
      if (blocks.empty()) continue;
      auto it = blocks.begin();
      std::advance(it, uniform(std::min<std::size_t>(blocks.size(), 64)));
      if (uniform(2) == 0) {
        it = blocks.lower_bound(rng());
        if (it == blocks.end()) it = blocks.begin();
      }
      void* p = ToPointer(it->first);
      const int i = it->second.second;
      ASSERT_TRUE(testing_util::CheckPattern(p, pools[i].slice, pools[i].live.at(p)))
          << "block of pool " << i << " corrupted, step " << step << " seed " << seed;
      switch (uniform(3)) {
        case 0:
          ASSERT_EQ(tree.Free(p), Res::kOk);
          break;
        case 1:
          ASSERT_EQ(tree.Get(pools[i].handle)->FreeSlice(p), Res::kOk);
          break;
        default:
          ASSERT_EQ(tree.Get(pools[i].handle)->Free(p, pools[i].slice), Res::kOk);
      }
      pools[i].live.erase(p);
      blocks.erase(it);
      if (uniform(8) == 0) {
        ASSERT_EQ(tree.Free(p), Res::kParam);  // Double free.
      }
    } else {
      // A stale handle must be refused.
      if (stale.empty()) continue;
      void* p;
      ASSERT_EQ(tree.Alloc(stale[uniform(stale.size())], &p), Res::kParam);
    }
    if (step % kCheckEvery == 0) {
      auto check = tree.Check();
      ASSERT_TRUE(check.ok) << check.what << " at step " << step << " seed " << seed;
      compare();
      if (HasFatalFailure()) return;
    }
  }
  ASSERT_CHECK_OK(tree);
  compare();
  for (auto [a, info] : blocks) {
    ASSERT_TRUE(testing_util::CheckPattern(ToPointer(a), info.first,
                                           pools[info.second].live.at(ToPointer(a))));
  }
}

// ------------------------------------------------------------- threads

TEST_F(NodeSliceTest, ThreadSafePoolUnderConcurrentAllocAndFree) {
  const std::uint64_t seed = testing_util::TestSeed();
  NodeSliceTree tree(arena_.get());
  NodeSliceHandle shared = MakePool(tree, tree.root(), 48, /*thread_safe=*/true);
  constexpr int kThreads = 8;
  constexpr int kOps = 20000;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      // Each thread also builds and tears down its own private pool, so tree
      // structure changes race with allocation in the shared pool.
      NodeSliceHandle mine;
      if (tree.Create(t % 2 == 0 ? tree.root() : shared, NodeSliceOptions{.slice_size = 24},
                      &mine) != Res::kOk) {
        ++failures;
        return;
      }
      std::vector<std::pair<void*, std::uint64_t>> live;
      std::vector<void*> private_live;
      std::uint64_t tag = std::uint64_t(t) << 32;
      for (int i = 0; i < kOps; ++i) {
        const int op = static_cast<int>(rng() % 10);
        if (op < 5 || live.empty()) {
          void* p;
          if (tree.Alloc(shared, &p) != Res::kOk) {
            ++failures;
            return;
          }
          testing_util::FillPattern(p, 48, ++tag);
          live.push_back({p, tag});
        } else if (op < 9) {
          const std::size_t k = rng() % live.size();
          auto [p, ptag] = live[k];
          live[k] = live.back();
          live.pop_back();
          if (!testing_util::CheckPattern(p, 48, ptag)) ++failures;
          const Res res = (rng() % 2 == 0) ? tree.Free(p) : tree.Get(shared)->FreeSlice(p);
          if (res != Res::kOk) ++failures;
        } else {
          void* p;
          if (tree.Alloc(mine, &p) != Res::kOk) ++failures;
          private_live.push_back(p);
          if (private_live.size() > 50) {
            for (void* q : private_live) {
              if (tree.Free(q) != Res::kOk) ++failures;
            }
            private_live.clear();
          }
        }
      }
      for (auto [p, ptag] : live) {
        if (!testing_util::CheckPattern(p, 48, ptag) || tree.Free(p) != Res::kOk) ++failures;
      }
      if (tree.Destroy(mine) != Res::kOk) ++failures;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(tree.Get(shared)->live_slices(), 0u);
  EXPECT_EQ(tree.pool_count(), 1u);
  EXPECT_CHECK_OK(tree);
}

TEST_F(NodeSliceTest, DestroyRacingWithAllocationThroughHandles) {
  NodeSliceTree tree(arena_.get());
  for (int round = 0; round < 20; ++round) {
    NodeSliceHandle h = MakePool(tree, tree.root(), 64, /*thread_safe=*/true);
    std::atomic<bool> go{false};
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 5000; ++i) {
          void* p;
          const Res res = tree.Alloc(h, &p);
          if (res == Res::kParam) break;  // Destroyed: every later call fails too.
          if (res != Res::kOk) {
            ++bad;
            break;
          }
        }
        void* p;
        if (tree.Alloc(h, &p) == Res::kOk && !h.valid()) ++bad;
      });
    }
    go.store(true);
    std::this_thread::yield();
    ASSERT_EQ(tree.Destroy(h), Res::kOk);
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_FALSE(h.valid());
    void* p;
    EXPECT_EQ(tree.Alloc(h, &p), Res::kParam);
  }
  EXPECT_EQ(tree.pool_count(), 0u);
  EXPECT_CHECK_OK(tree);
  EXPECT_EQ(arena_->stats().in_use, tree.Get(tree.root())->TotalSize());
}

}  // namespace
}  // namespace core
