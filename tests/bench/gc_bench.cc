// Collector micro-benchmarks: how fast AMC copies, on a heap that is all
// live (GCBench's binary trees), beside memcpy of the same bytes in the
// same run:
//   bazel run --config=opt //tests/bench:gc_bench
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/arena/arena.h"
#include "core/gc/object_format.h"
#include "core/gc/roots.h"
#include "core/pools/amc.h"

namespace {

using core::Addr;
using core::Res;
using core::gc::ObjectFormat;

// GCBench's node: two references and two ints of payload.
constexpr std::size_t kNodeSize = ObjectFormat::kHeaderSize + 2 * 8 + 16;

// A heap holding one binary tree of `depth`, its root the only root, on an
// AMC whose generations never fill, so that only the benchmark collects.
class TreeHeap {
 public:
  explicit TreeHeap(int depth) {
    if (core::Arena::CreateVirtual(core::ArenaOptions{}, &arena_) != Res::kOk) std::abort();
    roots_.AddStrong(
        [](core::gc::ScanState& ss, void* self) { ss.Fix(&static_cast<TreeHeap*>(self)->root_); },
        this);
    core::AmcOptions options;
    options.chain = {{std::size_t{1} << 40, 0.5}};
    if (core::Amc::Create(arena_.get(), &format_, &roots_, options, &pool_) != Res::kOk) {
      std::abort();
    }
    root_ = Make(depth);
  }
  ~TreeHeap() { pool_.reset(); }

  core::Amc& pool() { return *pool_; }

  // Drops the tree, collects it, and builds a new one of `depth` in the
  // nursery, in allocation order (the order a first collection meets).
  void Rebuild(int depth) {
    root_ = 0;
    if (pool_->Collect(/*full=*/true) != Res::kOk) std::abort();
    root_ = Make(depth);
  }

 private:
  // Top-down, as GCBench builds its trees: a node before its children.
  Addr Make(int depth) {
    void* p;
    if (pool_->Alloc(kNodeSize, &p) != Res::kOk) std::abort();
    const Addr node = core::ToAddr(p);
    ObjectFormat::Init(node, ++ids_, kNodeSize, 2);
    if (depth > 0) {
      *ObjectFormat::Slot(node, 0) = Make(depth - 1);
      *ObjectFormat::Slot(node, 1) = Make(depth - 1);
    }
    return node;
  }

  std::unique_ptr<core::Arena> arena_;
  ObjectFormat format_;
  core::gc::Roots roots_;
  std::unique_ptr<core::Amc> pool_;
  Addr root_ = 0;
  std::uint64_t ids_ = 0;
};

// A full collection copies the whole tree: bytes/s is AMC's copying
// throughput (tracing included: every object is scanned once).
void BM_AmcCopyTree(benchmark::State& state) {
  TreeHeap heap(static_cast<int>(state.range(0)));
  std::uint64_t copied = 0;
  for (auto _ : state) {
    const std::uint64_t before = heap.pool().stats().copied;
    if (heap.pool().Collect(/*full=*/true) != Res::kOk) std::abort();
    copied += heap.pool().stats().copied - before;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(copied));
}
BENCHMARK(BM_AmcCopyTree)->Arg(12)->Arg(16)->Arg(18);

// GCBench's case: the first collection of a tree just built top-down, so
// the copy reads from-space in allocation order, not in the breadth-first
// order of an earlier copy. To-space is memory earlier rounds touched.
void BM_AmcCopyFreshTree(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  TreeHeap heap(depth);
  std::uint64_t copied = 0;
  for (auto _ : state) {
    state.PauseTiming();
    heap.Rebuild(depth);
    const std::uint64_t before = heap.pool().stats().copied;
    state.ResumeTiming();
    if (heap.pool().Collect(/*full=*/true) != Res::kOk) std::abort();
    copied += heap.pool().stats().copied - before;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(copied));
}
BENCHMARK(BM_AmcCopyFreshTree)->Arg(12)->Arg(16)->Arg(18);

// The baseline: memcpy of a tree's bytes from one buffer to another.
void BM_MemcpyTreeBytes(benchmark::State& state) {
  const std::size_t bytes = ((std::size_t{2} << state.range(0)) - 1) * kNodeSize;
  std::vector<char> from(bytes, 1), to(bytes);
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), bytes);
    benchmark::DoNotOptimize(to.data());
    std::swap(from, to);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_MemcpyTreeBytes)->Arg(12)->Arg(16)->Arg(18);

}  // namespace

BENCHMARK_MAIN();
