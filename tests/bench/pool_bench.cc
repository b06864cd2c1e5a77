// Pool micro-benchmarks. Each core pool is measured beside glibc malloc on
// the same operation sequence in the same run, so the README can state
// ratios that survive a noisy shared machine:
//   bazel run --config=opt //tests/bench:pool_bench
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/arena/arena.h"
#include "core/land/btree_cbs.h"
#include "core/land/cbs.h"
#include "core/pool/segregated_cache.h"
#include "core/pools/mfs.h"
#include "core/pools/mvff.h"
#include "core/pools/node_slice.h"

namespace {

using core::Res;

constexpr std::size_t kFixedSize = 64;
constexpr std::size_t kLive = 1000;     // Live blocks in the random workload.
constexpr std::size_t kMaxSize = 2048;  // Largest random block.
constexpr std::size_t kOps = 1 << 16;   // Length of the precomputed sequence.

std::unique_ptr<core::Arena> MakeArena() {
  std::unique_ptr<core::Arena> arena;
  if (core::Arena::CreateVirtual(core::ArenaOptions{}, &arena) != Res::kOk) std::abort();
  return arena;
}

// The random workload: kLive live blocks; each step frees a random one and
// allocates a block of random size (log-uniform up to kMaxSize) in its slot.
struct RandomWorkload {
  std::vector<std::size_t> sizes;    // Size of the block allocated at step i.
  std::vector<std::uint32_t> slots;  // Slot whose block step i replaces.
  std::vector<std::size_t> initial;  // Sizes of the first kLive blocks.

  RandomWorkload() {
    std::mt19937_64 random(42);
    std::uniform_real_distribution<double> log_size(std::log(8.0), std::log(double(kMaxSize)));
    auto size = [&] { return static_cast<std::size_t>(std::exp(log_size(random))); };
    for (std::size_t i = 0; i < kLive; ++i) initial.push_back(size());
    for (std::size_t i = 0; i < kOps; ++i) {
      sizes.push_back(size());
      slots.push_back(static_cast<std::uint32_t>(random() % kLive));
    }
  }
};

const RandomWorkload& Workload() {
  static const RandomWorkload workload;
  return workload;
}

// How the timed loop frees: a random live block before each allocation
// (the workload), or each new block at once, from the workload's steady
// state (a diagnostic: the same operations on the same free blocks, but
// each free's branches follow its allocation's, so they predict well).
enum class Frees { kRandom, kImmediate };

// Runs the random workload through any alloc(size)/free(p, size) pair.
template <typename Alloc, typename Free>
void RunRandomWorkload(benchmark::State& state, Alloc alloc, Free free,
                       Frees frees = Frees::kRandom) {
  const RandomWorkload& w = Workload();
  std::vector<void*> blocks(kLive);
  std::vector<std::size_t> block_sizes(w.initial);
  for (std::size_t i = 0; i < kLive; ++i) blocks[i] = alloc(w.initial[i]);
  std::size_t step = 0;
  auto random_step = [&] {
    const std::uint32_t slot = w.slots[step];
    free(blocks[slot], block_sizes[slot]);
    block_sizes[slot] = w.sizes[step];
    // No DoNotOptimize here: the block is used later, and gcc 12 drops this
    // store when benchmark 1.7.1's "+m,r" constraint is applied to it.
    blocks[slot] = alloc(w.sizes[step]);
    step = (step + 1) & (kOps - 1);
  };
  if (frees == Frees::kRandom) {
    for (auto _ : state) random_step();
  } else {
    for (std::size_t i = 0; i < kOps; ++i) random_step();
    for (auto _ : state) {
      void* p = alloc(w.sizes[step]);
      benchmark::DoNotOptimize(p);
      free(p, w.sizes[step]);
      step = (step + 1) & (kOps - 1);
    }
  }
  for (std::size_t i = 0; i < kLive; ++i) free(blocks[i], block_sizes[i]);
  state.SetItemsProcessed(state.iterations());
}

void BM_MfsAllocFree(benchmark::State& state) {
  auto arena = MakeArena();
  core::Mfs pool(arena.get(), core::MfsOptions{.unit_size = kFixedSize});
  for (auto _ : state) {
    void* p;
    if (pool.AllocUnit(&p) != Res::kOk) std::abort();
    benchmark::DoNotOptimize(p);
    pool.FreeUnit(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MfsAllocFree);

void BM_MallocFreeFixed(benchmark::State& state) {
  for (auto _ : state) {
    void* p = std::malloc(kFixedSize);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MallocFreeFixed);

// The pool's own fast path: pop and push the available list.
void BM_NodeSliceAllocFree(benchmark::State& state) {
  auto arena = MakeArena();
  core::NodeSliceTree tree(arena.get());
  core::NodeSliceHandle handle;
  if (tree.Create(tree.root(), core::NodeSliceOptions{.slice_size = kFixedSize}, &handle) !=
      Res::kOk) {
    std::abort();
  }
  core::NodeSlicePool* pool = tree.Get(handle);
  for (auto _ : state) {
    void* p;
    if (pool->AllocSlice(&p) != Res::kOk) std::abort();
    benchmark::DoNotOptimize(p);
    if (pool->FreeSlice(p) != Res::kOk) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NodeSliceAllocFree);

// Through the tree with handle validation, and a free that asks the arena
// whether the pointer is a slice of a live pool before reading its header.
void BM_NodeSliceAllocFreeChecked(benchmark::State& state) {
  auto arena = MakeArena();
  core::NodeSliceTree tree(arena.get());
  core::NodeSliceHandle pool;
  if (tree.Create(tree.root(), core::NodeSliceOptions{.slice_size = kFixedSize}, &pool) !=
      Res::kOk) {
    std::abort();
  }
  for (auto _ : state) {
    void* p;
    if (tree.Alloc(pool, &p) != Res::kOk) std::abort();
    benchmark::DoNotOptimize(p);
    if (tree.Free(p) != Res::kOk) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NodeSliceAllocFreeChecked);

// The random workload through anything with Res Alloc(size, &p) and
// Res Free(p, size): a pool, or a cache in front of one.
template <typename Allocator>
void RunWorkloadOn(benchmark::State& state, Allocator& allocator, Frees frees) {
  RunRandomWorkload(
      state,
      [&allocator](std::size_t size) {
        void* p;
        if (allocator.Alloc(size, &p) != Res::kOk) std::abort();
        return p;
      },
      [&allocator](void* p, std::size_t size) {
        if (allocator.Free(p, size) != Res::kOk) std::abort();
      },
      frees);
}

void RunMvffWorkload(benchmark::State& state, Frees frees) {
  auto arena = MakeArena();
  core::Mvff pool(arena.get(), core::MvffOptions{});
  RunWorkloadOn(state, pool, frees);
}

void BM_MvffAllocFreeRandom(benchmark::State& state) { RunMvffWorkload(state, Frees::kRandom); }
BENCHMARK(BM_MvffAllocFreeRandom);

void BM_MvffAllocFreeImmediate(benchmark::State& state) {
  RunMvffWorkload(state, Frees::kImmediate);
}
BENCHMARK(BM_MvffAllocFreeImmediate);

// The same through a segregated allocation cache (MPS's SAC) on MVFF, with
// the default classes (16 bytes to 2 KiB, 16 blocks each): MPS's way of
// giving MVFF's clients malloc's speed, at the price of first fit for
// cached blocks.
void BM_MvffSacAllocFreeRandom(benchmark::State& state) {
  auto arena = MakeArena();
  core::Mvff pool(arena.get(), core::MvffOptions{});
  core::SegregatedCache cache(&pool, core::SegregatedCache::DefaultClasses());
  RunWorkloadOn(state, cache, Frees::kRandom);
}
BENCHMARK(BM_MvffSacAllocFreeRandom);

void BM_MallocFreeRandom(benchmark::State& state) {
  RunRandomWorkload(
      state, [](std::size_t size) { return std::malloc(size); },
      [](void* p, std::size_t) { std::free(p); });
}
BENCHMARK(BM_MallocFreeRandom);

// Insert a unit between two free blocks (coalescing all three), then delete
// it again (splitting), in a tree of 4096 blocks: the AVL Cbs (the arena's
// land) and the BTreeCbs (MVFF's) on the same sequence.
template <typename Tree>
void BM_TreeInsertDelete(benchmark::State& state) {
  constexpr std::size_t kBlocks = 4096;
  constexpr core::Addr kBase = 1 << 20;
  constexpr std::size_t kUnit = 64;
  auto arena = MakeArena();
  core::Mfs nodes(arena.get(), core::MfsOptions{.unit_size = sizeof(typename Tree::Node)});
  Tree tree(&nodes);
  for (std::size_t i = 0; i < kBlocks; ++i) {
    const core::Addr base = kBase + 2 * i * kUnit;
    if (tree.Insert({base, base + kUnit}, nullptr) != Res::kOk) std::abort();
  }
  std::mt19937_64 random(7);
  std::vector<core::Range> gaps;
  for (std::size_t i = 0; i < kOps; ++i) {
    const core::Addr base = kBase + (2 * (random() % (kBlocks - 1)) + 1) * kUnit;
    gaps.push_back({base, base + kUnit});
  }
  std::size_t step = 0;
  for (auto _ : state) {
    const core::Range gap = gaps[step];
    if (tree.Insert(gap, nullptr) != Res::kOk) std::abort();
    if (tree.Delete(gap, nullptr) != Res::kOk) std::abort();
    step = (step + 1) & (kOps - 1);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_CbsInsertDelete(benchmark::State& state) { BM_TreeInsertDelete<core::Cbs>(state); }
BENCHMARK(BM_CbsInsertDelete);

void BM_BTreeCbsInsertDelete(benchmark::State& state) {
  BM_TreeInsertDelete<core::BTreeCbs>(state);
}
BENCHMARK(BM_BTreeCbsInsertDelete);

}  // namespace

BENCHMARK_MAIN();
