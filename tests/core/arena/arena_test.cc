// The arena: VM and client backings, allocation at either end, growth by
// chunks, MLWorks geometry, the grain map, frees, the commit limit, spare
// memory, counters and observer callbacks. arena_model_test replays random
// sequences against a model.
#include "core/arena/arena.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/base/address.h"
#include "core/base/result.h"
#include "core/observe/observer.h"
#include "core/pools/mfs.h"
#include "gtest/gtest.h"
#include "tests/util/pattern.h"

namespace core {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

std::size_t Page() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

void ExpectCheck(const Arena& arena) {
  const CheckResult check = arena.Check();
  EXPECT_TRUE(check.ok) << check.what;
}

std::unique_ptr<Arena> MakeVirtual(const ArenaOptions& options) {
  std::unique_ptr<Arena> arena;
  EXPECT_EQ(Arena::CreateVirtual(options, &arena), Res::kOk);
  return arena;
}

ArenaOptions SmallChunks(double spare = 0.75) {
  ArenaOptions options;
  options.chunk_size = kMiB;
  options.spare = spare;
  return options;
}

std::vector<Range> Chunks(const Arena& arena) {
  std::vector<Range> chunks;
  arena.WalkChunks([&chunks](Range chunk, const GrainInfo*) { chunks.push_back(chunk); });
  return chunks;
}

// Segments other than the arena's own control segments.
std::vector<Segment> PoolSegments(const Arena& arena) {
  std::vector<Segment> segments;
  arena.WalkSegments([&segments](const Segment& s) {
    if (s.type != SegmentType::kArenaControl) segments.push_back(s);
    return true;
  });
  return segments;
}

// A grain-aligned buffer for client arenas.
struct Buffer {
  explicit Buffer(std::size_t size)
      : size(size), base(static_cast<char*>(std::aligned_alloc(Page(), size))) {}
  ~Buffer() { std::free(base); }
  std::size_t size;
  char* base;
};

// Counts every observer callback, and the bytes each one reports.
class CountingObserver : public Observer {
 public:
  void OnSegmentAcquired(Range range, const Pool*, SegmentType) override {
    ++acquired;
    acquired_bytes += range.size();
  }
  void OnSegmentReleased(Range range, const Pool*) override {
    ++released;
    released_bytes += range.size();
  }
  void OnSegmentRetyped(Range range, const Pool* pool, SegmentType from, SegmentType to) override {
    ++retyped;
    last_retype = {range, pool, from, to};
  }
  void OnReserve(Range range, bool reserved) override {
    ++(reserved ? reserves : releases);
    last_reserve = range;
  }
  void OnCommit(Range range, bool committed) override {
    if (committed) {
      ++commits;
      commit_bytes += range.size();
    } else {
      ++decommits;
      decommit_bytes += range.size();
    }
  }

  struct Retype {
    Range range;
    const Pool* pool;
    SegmentType from, to;
  };
  int acquired = 0, released = 0, retyped = 0, reserves = 0, releases = 0, commits = 0,
      decommits = 0;
  std::size_t acquired_bytes = 0, released_bytes = 0, commit_bytes = 0, decommit_bytes = 0;
  Retype last_retype{};
  Range last_reserve{};
};

TEST(ArenaTest, VirtualArenaStartsWithOneChunk) {
  auto arena = MakeVirtual(ArenaOptions{});
  ASSERT_NE(arena, nullptr);
  EXPECT_FALSE(arena->is_client());
  EXPECT_EQ(arena->grain_size(), Page());
  const ArenaStats stats = arena->stats();
  EXPECT_EQ(stats.reserve_calls, 1u);
  EXPECT_EQ(stats.reserved, ArenaOptions{}.chunk_size);
  EXPECT_EQ(stats.committed, stats.control);  // Only the chunk header.
  EXPECT_GT(stats.control, 0u);
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.spare, 0u);
  ExpectCheck(*arena);
}

TEST(ArenaTest, BadOptionsAreParamErrors) {
  std::unique_ptr<Arena> arena;
  ArenaOptions options;
  options.grain_size = Page() + 1;
  EXPECT_EQ(Arena::CreateVirtual(options, &arena), Res::kParam);
  options = ArenaOptions{};
  options.grain_size = Page() / 2;  // Not a multiple of the page.
  EXPECT_EQ(Arena::CreateVirtual(options, &arena), Res::kParam);
  options = ArenaOptions{};
  options.spare = 1.5;
  EXPECT_EQ(Arena::CreateVirtual(options, &arena), Res::kParam);
  options = ArenaOptions{};
  options.align_chunks = true;
  options.chunk_size = 3 * kMiB;
  EXPECT_EQ(Arena::CreateVirtual(options, &arena), Res::kParam);
  EXPECT_EQ(Arena::CreateClient(nullptr, kMiB, ArenaOptions{}, &arena), Res::kParam);
  Buffer tiny(Page());
  EXPECT_EQ(Arena::CreateClient(tiny.base, Page(), ArenaOptions{}, &arena), Res::kParam);
  EXPECT_EQ(arena, nullptr);
}

TEST(ArenaTest, AllocatesLowAndHigh) {
  auto arena = MakeVirtual(SmallChunks());
  const std::size_t grain = arena->grain_size();
  const Range chunk = Chunks(*arena).at(0);
  Range a, b, c, h;
  ASSERT_EQ(arena->Alloc(1, 0, SegmentType::kStatic, false, &a), Res::kOk);
  EXPECT_EQ(a.size(), grain);  // Rounded up to a grain.
  ASSERT_EQ(arena->Alloc(grain + 1, 0, SegmentType::kStatic, false, &b), Res::kOk);
  EXPECT_EQ(b, (Range{a.limit, a.limit + 2 * grain}));
  ASSERT_EQ(arena->Alloc(grain, 0, SegmentType::kStack, /*high=*/true, &h), Res::kOk);
  EXPECT_EQ(h, (Range{chunk.limit - grain, chunk.limit}));
  ASSERT_EQ(arena->Alloc(grain, 0, SegmentType::kStack, /*high=*/true, &c), Res::kOk);
  EXPECT_EQ(c.limit, h.base);
  // Committed and writable.
  for (Range r : {a, b, c, h}) std::memset(ToPointer(r.base), 0xab, r.size());
  const ArenaStats stats = arena->stats();
  EXPECT_EQ(stats.in_use, 5 * grain);
  EXPECT_EQ(stats.committed, stats.control + 5 * grain);
  ExpectCheck(*arena);
}

TEST(ArenaTest, AllocParamErrors) {
  auto arena = MakeVirtual(SmallChunks());
  Range r;
  EXPECT_EQ(arena->Alloc(0, 0, SegmentType::kStatic, false, &r), Res::kParam);
  EXPECT_EQ(arena->Alloc(SIZE_MAX, 0, SegmentType::kStatic, false, &r), Res::kParam);
  EXPECT_EQ(arena->Alloc(1, 0, SegmentType::kFree, false, &r), Res::kParam);
  EXPECT_EQ(arena->Alloc(1, 0, SegmentType::kArenaControl, false, &r), Res::kParam);
  EXPECT_EQ(arena->Alloc(1, 7, SegmentType::kStatic, false, &r), Res::kParam);  // No pool 7.
  EXPECT_EQ(arena->stats().in_use, 0u);
  ExpectCheck(*arena);
}

TEST(ArenaTest, GrowsByChunksAndFitsLargeRequestsInOneChunk) {
  auto arena = MakeVirtual(SmallChunks());
  const std::size_t grain = arena->grain_size();
  std::vector<Range> segments;
  while (Chunks(*arena).size() < 3) {
    Range r;
    ASSERT_EQ(arena->Alloc(256 << 10, 0, SegmentType::kStatic, false, &r), Res::kOk);
    std::memset(ToPointer(r.base), 1, r.size());
    segments.push_back(r);
    ASSERT_LT(segments.size(), 20u);
  }
  EXPECT_EQ(arena->stats().reserve_calls, 3u);
  // A request larger than a chunk gets a chunk of its own.
  Range big;
  ASSERT_EQ(arena->Alloc(3 * kMiB + grain, 0, SegmentType::kLargeObject, false, &big), Res::kOk);
  std::memset(ToPointer(big.base), 2, big.size());
  const std::vector<Range> chunks = Chunks(*arena);
  ASSERT_EQ(chunks.size(), 4u);
  int holding = 0;
  for (Range chunk : chunks) {
    if (chunk.Contains(big)) ++holding;
    for (Range s : segments) EXPECT_TRUE(!chunk.Overlaps(s) || chunk.Contains(s));
  }
  EXPECT_EQ(holding, 1);
  EXPECT_EQ(
      arena->stats().reserved, 3 * kMiB + [&] {
        for (Range c : chunks) {
          if (c.Contains(big)) return c.size();
        }
        return std::size_t{0};
      }());
  ExpectCheck(*arena);
  // Chunks are kept even when empty.
  for (Range s : segments) ASSERT_EQ(arena->Free(s), Res::kOk);
  ASSERT_EQ(arena->Free(big), Res::kOk);
  EXPECT_EQ(Chunks(*arena).size(), 4u);
  EXPECT_EQ(arena->stats().release_calls, 0u);
  ExpectCheck(*arena);
}

TEST(ArenaTest, MlWorksGeometry) {
  const ArenaOptions options = ArenaOptions::MlWorks();
  EXPECT_EQ(options.grain_size, std::size_t{64} << 10);
  EXPECT_EQ(options.chunk_size, 16 * kMiB);
  EXPECT_TRUE(options.align_chunks);
  auto arena = MakeVirtual(options);
  ASSERT_NE(arena, nullptr);
  EXPECT_EQ(arena->grain_size(), std::size_t{64} << 10);
  Range small, large;
  ASSERT_EQ(arena->Alloc(100, 0, SegmentType::kNursery, false, &small), Res::kOk);
  EXPECT_EQ(small.size(), std::size_t{64} << 10);
  EXPECT_TRUE(IsAligned(small.base, std::size_t{64} << 10));
  ASSERT_EQ(arena->Alloc(20 * kMiB, 0, SegmentType::kGeneration, false, &large), Res::kOk);
  std::memset(ToPointer(large.base), 3, large.size());
  const std::vector<Range> chunks = Chunks(*arena);
  ASSERT_EQ(chunks.size(), 2u);
  for (Range chunk : chunks) {
    EXPECT_TRUE(IsAligned(chunk.base, 16 * kMiB)) << chunk;
    EXPECT_TRUE(IsAligned(chunk.size(), 16 * kMiB)) << chunk;
  }
  ExpectCheck(*arena);
}

TEST(ArenaTest, GrainMapAndRetype) {
  auto arena = MakeVirtual(SmallChunks());
  CountingObserver observer;
  arena->set_observer(&observer);
  const std::size_t grain = arena->grain_size();
  Range seg;
  ASSERT_EQ(arena->Alloc(6 * grain, 0, SegmentType::kStatic, false, &seg), Res::kOk);
  for (std::size_t i = 0; i < 6; ++i) {
    GrainInfo info;
    ASSERT_TRUE(arena->Lookup(seg.base + i * grain + 7, &info));
    EXPECT_EQ(info.pool_id, 0u);
    EXPECT_EQ(info.type, SegmentType::kStatic);
    EXPECT_EQ(info.flags, (kGrainCommitted | kGrainAllocated | (i == 0 ? kGrainHead : 0)));
  }
  Segment s;
  ASSERT_TRUE(arena->SegmentOf(seg.base + 3 * grain, &s));
  EXPECT_EQ(s.range, seg);
  EXPECT_EQ(s.pool, nullptr);
  EXPECT_EQ(s.type, SegmentType::kStatic);
  EXPECT_FALSE(arena->SegmentOf(seg.limit, &s));  // Free.
  GrainInfo info;
  ASSERT_TRUE(arena->Lookup(seg.limit, &info));
  EXPECT_EQ(info.type, SegmentType::kFree);
  EXPECT_EQ(info.flags & kGrainAllocated, 0);
  const Range chunk = Chunks(*arena).at(0);
  ASSERT_TRUE(arena->Lookup(chunk.base, &info));  // The header.
  EXPECT_EQ(info.type, SegmentType::kArenaControl);
  EXPECT_FALSE(arena->Lookup(chunk.limit + 64 * kMiB, &info));
  EXPECT_FALSE(arena->Lookup(0, &info));

  // Retyping the middle makes three segments.
  const Range middle{seg.base + 2 * grain, seg.base + 4 * grain};
  ASSERT_EQ(arena->Retype(middle, SegmentType::kStack), Res::kOk);
  EXPECT_EQ(observer.retyped, 1);
  EXPECT_EQ(observer.last_retype.range, middle);
  EXPECT_EQ(observer.last_retype.from, SegmentType::kStatic);
  EXPECT_EQ(observer.last_retype.to, SegmentType::kStack);
  std::vector<Segment> segments = PoolSegments(*arena);
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(segments[0].range, (Range{seg.base, middle.base}));
  EXPECT_EQ(segments[1].range, middle);
  EXPECT_EQ(segments[1].type, SegmentType::kStack);
  EXPECT_EQ(segments[2].range, (Range{middle.limit, seg.limit}));
  EXPECT_EQ(segments[2].type, SegmentType::kStatic);
  ASSERT_TRUE(arena->SegmentOf(seg.limit - 1, &s));
  EXPECT_EQ(s.range, segments[2].range);
  // The walk includes the header as an arena control segment.
  int control = 0;
  arena->WalkSegments([&](const Segment& x) {
    if (x.type == SegmentType::kArenaControl) {
      ++control;
      EXPECT_EQ(x.range.base, chunk.base);
    }
    return true;
  });
  EXPECT_EQ(control, 1);
  // Retype errors.
  EXPECT_EQ(arena->Retype({seg.base + 1, seg.limit}, SegmentType::kStack), Res::kParam);
  EXPECT_EQ(arena->Retype({seg.base, seg.limit + grain}, SegmentType::kStack), Res::kParam);
  EXPECT_EQ(arena->Retype({chunk.base, chunk.base + grain}, SegmentType::kStack), Res::kParam);
  EXPECT_EQ(arena->Retype({seg.base, seg.base}, SegmentType::kStack), Res::kParam);
  EXPECT_EQ(observer.retyped, 1);
  ExpectCheck(*arena);
  arena->set_observer(nullptr);
}

TEST(ArenaTest, PoolsOwnGrains) {
  auto arena = MakeVirtual(SmallChunks());
  const std::size_t grain = arena->grain_size();
  Mfs pool_a(arena.get(), MfsOptions{.unit_size = 64});
  Mfs pool_b(arena.get(), MfsOptions{.unit_size = 64});
  Range a, b;
  ASSERT_EQ(arena->Alloc(2 * grain, pool_a.id(), SegmentType::kManualFixed, false, &a), Res::kOk);
  ASSERT_EQ(arena->Alloc(3 * grain, pool_b.id(), SegmentType::kManualVariable, false, &b),
            Res::kOk);
  EXPECT_EQ(b.base, a.limit);
  EXPECT_EQ(arena->PoolBytes(pool_a.id()), 2 * grain);
  EXPECT_EQ(arena->PoolBytes(pool_b.id()), 3 * grain);
  EXPECT_EQ(arena->PoolOf(pool_b.id()), &pool_b);
  Segment s;
  ASSERT_TRUE(arena->SegmentOf(b.base, &s));
  EXPECT_EQ(s.range, b);  // Adjacent segments of different pools stay apart.
  EXPECT_EQ(s.pool, &pool_b);
  int seen = 0;
  arena->WalkSegments(
      [&](const Segment& x) {
        EXPECT_EQ(x.range, a);
        ++seen;
        return true;
      },
      &pool_a);
  EXPECT_EQ(seen, 1);
  // A free may not span two pools.
  EXPECT_EQ(arena->Free({a.base, b.limit}), Res::kParam);
  ExpectCheck(*arena);
}

TEST(ArenaTest, UnregisteringAPoolFreesItsGrains) {
  auto arena = MakeVirtual(SmallChunks());
  const std::size_t grain = arena->grain_size();
  auto pool = std::make_unique<Mfs>(arena.get(), MfsOptions{.unit_size = 64});
  Range r1, r2;
  ASSERT_EQ(arena->Alloc(grain, pool->id(), SegmentType::kManualFixed, false, &r1), Res::kOk);
  ASSERT_EQ(arena->Alloc(grain, 0, SegmentType::kStatic, false, &r2), Res::kOk);
  ASSERT_EQ(arena->Alloc(grain, pool->id(), SegmentType::kManualFixed, false, &r1), Res::kOk);
  pool.reset();
  EXPECT_EQ(arena->stats().in_use, grain);
  EXPECT_EQ(PoolSegments(*arena).size(), 1u);
  ExpectCheck(*arena);
}

TEST(ArenaTest, FreeOfASubRangeLeavesTheRestAsSegments) {
  auto arena = MakeVirtual(SmallChunks());
  const std::size_t g = arena->grain_size();
  Range seg;
  ASSERT_EQ(arena->Alloc(8 * g, 0, SegmentType::kStatic, false, &seg), Res::kOk);
  const Addr b = seg.base;
  ASSERT_EQ(arena->Free({b + 3 * g, b + 5 * g}), Res::kOk);  // The middle.
  std::vector<Segment> segments = PoolSegments(*arena);
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0].range, (Range{b, b + 3 * g}));
  EXPECT_EQ(segments[1].range, (Range{b + 5 * g, b + 8 * g}));
  ExpectCheck(*arena);
  ASSERT_EQ(arena->Free({b, b + g}), Res::kOk);              // The front.
  ASSERT_EQ(arena->Free({b + 7 * g, b + 8 * g}), Res::kOk);  // The back.
  segments = PoolSegments(*arena);
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0].range, (Range{b + g, b + 3 * g}));
  EXPECT_EQ(segments[1].range, (Range{b + 5 * g, b + 7 * g}));
  Segment s;
  ASSERT_TRUE(arena->SegmentOf(b + 2 * g, &s));
  EXPECT_EQ(s.range, (Range{b + g, b + 3 * g}));
  GrainInfo info;
  ASSERT_TRUE(arena->Lookup(b + g, &info));
  EXPECT_NE(info.flags & kGrainHead, 0);
  EXPECT_EQ(arena->stats().in_use, 4 * g);
  ExpectCheck(*arena);
  // The freed grains are reused, lowest first.
  Range again;
  ASSERT_EQ(arena->Alloc(g, 0, SegmentType::kStatic, false, &again), Res::kOk);
  EXPECT_EQ(again.base, b);
}

TEST(ArenaTest, BadFreesAreParamErrors) {
  auto arena = MakeVirtual(SmallChunks());
  const std::size_t g = arena->grain_size();
  Range seg;
  ASSERT_EQ(arena->Alloc(2 * g, 0, SegmentType::kStatic, false, &seg), Res::kOk);
  const Range chunk = Chunks(*arena).at(0);
  EXPECT_EQ(arena->Free({seg.base, seg.base}), Res::kParam);                // Empty.
  EXPECT_EQ(arena->Free({seg.base + 8, seg.limit}), Res::kParam);           // Unaligned.
  EXPECT_EQ(arena->Free({seg.base, seg.limit - 8}), Res::kParam);           // Unaligned.
  EXPECT_EQ(arena->Free({seg.base, seg.limit + g}), Res::kParam);           // Past it.
  EXPECT_EQ(arena->Free({seg.limit, seg.limit + g}), Res::kParam);          // Free grains.
  EXPECT_EQ(arena->Free({chunk.base, chunk.base + g}), Res::kParam);        // The header.
  EXPECT_EQ(arena->Free({chunk.limit, chunk.limit + g}), Res::kParam);      // Outside.
  EXPECT_EQ(arena->Free({chunk.limit - g, chunk.limit + g}), Res::kParam);  // Straddles.
  EXPECT_EQ(arena->stats().in_use, 2 * g);
  ASSERT_EQ(arena->Free(seg), Res::kOk);
  EXPECT_EQ(arena->Free(seg), Res::kParam);  // Twice.
  ExpectCheck(*arena);
}

TEST(ArenaTest, CommitLimitFailsCleanlyAndRecovers) {
  auto arena = MakeVirtual(SmallChunks(/*spare=*/0.0));
  const std::size_t g = arena->grain_size();
  const std::size_t control = arena->stats().control;
  ASSERT_EQ(arena->SetCommitLimit(control + 4 * g), Res::kOk);
  EXPECT_EQ(arena->stats().commit_limit, control + 4 * g);
  Range a, b, c;
  ASSERT_EQ(arena->Alloc(3 * g, 0, SegmentType::kStatic, false, &a), Res::kOk);
  const ArenaStats before = arena->stats();
  EXPECT_EQ(arena->Alloc(2 * g, 0, SegmentType::kStatic, false, &b), Res::kCommitLimit);
  EXPECT_EQ(arena->Alloc(2 * g, 0, SegmentType::kStatic, true, &b), Res::kCommitLimit);
  const ArenaStats after = arena->stats();
  EXPECT_EQ(after.committed, before.committed);
  EXPECT_EQ(after.in_use, before.in_use);
  EXPECT_EQ(after.commit_calls, before.commit_calls);
  ExpectCheck(*arena);
  ASSERT_EQ(arena->Alloc(g, 0, SegmentType::kStatic, false, &b), Res::kOk);
  EXPECT_EQ(arena->Alloc(g, 0, SegmentType::kStatic, false, &c), Res::kCommitLimit);
  // Lowering the limit below what is in use fails and changes nothing.
  EXPECT_EQ(arena->SetCommitLimit(control + 3 * g), Res::kFail);
  EXPECT_EQ(arena->stats().commit_limit, control + 4 * g);
  // Recovery after frees.
  ASSERT_EQ(arena->Free(a), Res::kOk);
  ASSERT_EQ(arena->Alloc(2 * g, 0, SegmentType::kStatic, true, &c), Res::kOk);
  std::memset(ToPointer(c.base), 4, c.size());
  ExpectCheck(*arena);
  // A request larger than a chunk fails on the limit too: its chunk header
  // cannot be committed, so no chunk is added.
  EXPECT_EQ(arena->Alloc(2 * kMiB, 0, SegmentType::kStatic, false, &c), Res::kCommitLimit);
  EXPECT_EQ(Chunks(*arena).size(), 1u);
  ExpectCheck(*arena);
}

TEST(ArenaTest, CommitLimitDecommitsSpareToMakeRoom) {
  auto arena = MakeVirtual(SmallChunks(/*spare=*/1.0));
  const std::size_t g = arena->grain_size();
  const std::size_t control = arena->stats().control;
  ASSERT_EQ(arena->SetCommitLimit(control + 4 * g), Res::kOk);
  Range low, high;
  ASSERT_EQ(arena->Alloc(4 * g, 0, SegmentType::kStatic, false, &low), Res::kOk);
  ASSERT_EQ(arena->Free(low), Res::kOk);
  EXPECT_EQ(arena->stats().spare, 4 * g);  // Spare 1.0 keeps it all.
  // The top of the chunk is uncommitted: the low spare must go to make room.
  ASSERT_EQ(arena->Alloc(3 * g, 0, SegmentType::kStatic, true, &high), Res::kOk);
  std::memset(ToPointer(high.base), 5, high.size());
  const ArenaStats stats = arena->stats();
  EXPECT_LE(stats.committed, control + 4 * g);
  EXPECT_EQ(stats.spare, g);
  ExpectCheck(*arena);
}

// A trim hold defers decommitting to its end: the frees under it keep all
// their memory spare, and the end trims to the fraction in a few calls.
TEST(ArenaTest, TrimHoldDecommitsOnceAtItsEnd) {
  auto arena = MakeVirtual(SmallChunks(/*spare=*/0.25));
  const std::size_t g = arena->grain_size();
  std::vector<Range> segments(16);
  for (Range& r : segments)
    ASSERT_EQ(arena->Alloc(g, 0, SegmentType::kStatic, false, &r), Res::kOk);
  const ArenaStats before = arena->stats();
  {
    Arena::TrimHold hold(arena.get());
    {
      Arena::TrimHold nested(arena.get());  // Holds nest.
      for (Range r : segments) ASSERT_EQ(arena->Free(r), Res::kOk);
    }
    const ArenaStats held = arena->stats();
    EXPECT_EQ(held.decommit_calls, before.decommit_calls);
    EXPECT_EQ(held.spare, 16 * g);
    ExpectCheck(*arena);  // Spare above the fraction is allowed while held.
  }
  const ArenaStats after = arena->stats();
  EXPECT_LE(static_cast<double>(after.spare), 0.25 * static_cast<double>(after.committed) + 1);
  // The freed grains were adjacent: one decommit covers them.
  EXPECT_EQ(after.decommit_calls, before.decommit_calls + 1);
  ExpectCheck(*arena);
}

// Precommitted memory is committed and touched at creation, counted as
// spare, and never trimmed below its size by the spare fraction.
TEST(ArenaTest, PrecommitKeepsAnUntrimmedFloorOfSpare) {
  ArenaOptions options = SmallChunks(/*spare=*/0.0);
  options.precommit = 3 * kMiB;  // Larger than a chunk: a chunk of its own.
  auto arena = MakeVirtual(options);
  const std::size_t g = arena->grain_size();
  ArenaStats stats = arena->stats();
  EXPECT_EQ(stats.spare, 3 * kMiB);
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_GE(stats.committed, 3 * kMiB);
  ExpectCheck(*arena);
  // Use it all and more, then free it all: spare falls back to the floor.
  std::vector<Range> segments(64);
  for (Range& r : segments)
    ASSERT_EQ(arena->Alloc(64 * g, 0, SegmentType::kStatic, false, &r), Res::kOk);
  for (Range r : segments) {
    ASSERT_EQ(arena->Free(r), Res::kOk);
    ExpectCheck(*arena);
  }
  stats = arena->stats();
  EXPECT_EQ(stats.spare, 3 * kMiB);
  EXPECT_EQ(stats.committed - stats.control, 3 * kMiB);
  // Reuse takes warm spare first.
  Range again;
  ASSERT_EQ(arena->Alloc(64 * g, 0, SegmentType::kStatic, false, &again), Res::kOk);
  EXPECT_EQ(arena->stats().spare, 3 * kMiB - 64 * g);
  // An explicit purge still gives everything back.
  ASSERT_EQ(arena->Free(again), Res::kOk);
  arena->PurgeSpare();
  EXPECT_EQ(arena->stats().spare, 0u);
  ExpectCheck(*arena);
}

TEST(ArenaTest, PrecommitOverTheCommitLimitFails) {
  ArenaOptions options = SmallChunks();
  options.commit_limit = 2 * kMiB;
  options.precommit = 4 * kMiB;
  std::unique_ptr<Arena> arena;
  EXPECT_EQ(Arena::CreateVirtual(options, &arena), Res::kCommitLimit);
}

TEST(ArenaTest, SpareIsBoundedAndCanBePurged) {
  auto arena = MakeVirtual(SmallChunks(/*spare=*/0.5));
  const std::size_t g = arena->grain_size();
  std::vector<Range> segments(32);
  for (Range& r : segments)
    ASSERT_EQ(arena->Alloc(g, 0, SegmentType::kStatic, false, &r), Res::kOk);
  for (Range r : segments) {
    ASSERT_EQ(arena->Free(r), Res::kOk);
    const ArenaStats stats = arena->stats();
    EXPECT_LE(static_cast<double>(stats.spare), 0.5 * static_cast<double>(stats.committed) + 1);
  }
  ArenaStats stats = arena->stats();
  EXPECT_GT(stats.spare, 0u);
  EXPECT_EQ(stats.committed, stats.control + stats.spare);
  ExpectCheck(*arena);

  arena->PurgeSpare();
  stats = arena->stats();
  EXPECT_EQ(stats.spare, 0u);
  EXPECT_EQ(stats.committed, stats.control);
  for (Range r : segments) {
    GrainInfo info;
    ASSERT_TRUE(arena->Lookup(r.base, &info));
    EXPECT_EQ(info.flags & kGrainCommitted, 0);
  }
  ExpectCheck(*arena);

  // SetSpare(0) decommits everything free; SetSpare(1) keeps everything.
  arena->SetSpare(1.0);
  for (Range& r : segments)
    ASSERT_EQ(arena->Alloc(g, 0, SegmentType::kStatic, false, &r), Res::kOk);
  for (Range r : segments) ASSERT_EQ(arena->Free(r), Res::kOk);
  EXPECT_EQ(arena->stats().spare, 32 * g);
  ExpectCheck(*arena);
  arena->SetSpare(0.0);
  EXPECT_EQ(arena->stats().spare, 0u);
  ExpectCheck(*arena);
}

TEST(ArenaTest, CountersAndObserver) {
  auto arena = MakeVirtual(SmallChunks(/*spare=*/1.0));
  CountingObserver observer;
  arena->set_observer(&observer);
  const std::size_t g = arena->grain_size();
  const ArenaStats start = arena->stats();
  EXPECT_EQ(start.reserve_calls, 1u);
  EXPECT_EQ(start.commit_calls, 1u);  // The header.
  EXPECT_EQ(start.decommit_calls, 0u);

  Range a;
  ASSERT_EQ(arena->Alloc(2 * g, 0, SegmentType::kStatic, false, &a), Res::kOk);
  EXPECT_EQ(arena->stats().commit_calls, 2u);
  ASSERT_EQ(arena->Free(a), Res::kOk);  // Stays committed as spare.
  EXPECT_EQ(arena->stats().decommit_calls, 0u);
  ASSERT_EQ(arena->Alloc(2 * g, 0, SegmentType::kStatic, false, &a), Res::kOk);
  EXPECT_EQ(arena->stats().commit_calls, 2u);  // Reused the spare grains.
  ASSERT_EQ(arena->Free(a), Res::kOk);
  arena->PurgeSpare();
  EXPECT_EQ(arena->stats().decommit_calls, 1u);
  ASSERT_EQ(arena->Alloc(g, 0, SegmentType::kStatic, false, &a), Res::kOk);
  EXPECT_EQ(arena->stats().commit_calls, 3u);
  ASSERT_EQ(arena->Retype(a, SegmentType::kStack), Res::kOk);
  // A new chunk reports a reservation, a header commit and a control segment.
  Range big;
  ASSERT_EQ(arena->Alloc(2 * kMiB, 0, SegmentType::kLargeObject, false, &big), Res::kOk);
  ASSERT_EQ(arena->Free(big), Res::kOk);
  ASSERT_EQ(arena->Free(a), Res::kOk);

  const ArenaStats end = arena->stats();
  EXPECT_EQ(end.reserve_calls, 2u);
  EXPECT_EQ(observer.reserves, 1);
  EXPECT_EQ(observer.releases, 0);
  EXPECT_EQ(observer.acquired, 5);  // Four segments and one chunk header.
  EXPECT_EQ(observer.released, 4);
  // The header segment is acquired whole; its node region is committed only
  // as the lands need nodes, so control grows by at most the header.
  EXPECT_GT(end.control, start.control);
  EXPECT_GE(observer.acquired_bytes - observer.released_bytes, end.control - start.control);
  EXPECT_EQ(observer.retyped, 1);
  EXPECT_EQ(observer.commits, static_cast<int>(end.commit_calls - start.commit_calls));
  EXPECT_EQ(observer.decommits, static_cast<int>(end.decommit_calls - start.decommit_calls));
  EXPECT_EQ(observer.commit_bytes - observer.decommit_bytes, end.committed - start.committed);
  ExpectCheck(*arena);
  arena->set_observer(nullptr);
}

// Client arenas: the same operations over two buffers give the same
// offsets, and the arena never maps anything (a purged grain keeps its
// contents, which a MAP_FIXED remapping would have zeroed).
TEST(ArenaTest, ClientArenasAreDeterministic) {
  constexpr std::size_t kSize = 2 * kMiB;
  auto run = [](const Buffer& buffer, std::vector<std::size_t>* offsets) {
    std::unique_ptr<Arena> arena;
    ArenaOptions options;
    options.spare = 0.25;
    ASSERT_EQ(Arena::CreateClient(buffer.base, buffer.size, options, &arena), Res::kOk);
    EXPECT_TRUE(arena->is_client());
    const Addr base = ToAddr(buffer.base);
    const std::size_t g = arena->grain_size();
    std::vector<Range> live;
    for (int i = 0; i < 60; ++i) {
      Range r;
      const std::size_t size = (1 + (i * 7) % 5) * g - (i % 3);
      const Res res = arena->Alloc(size, 0, SegmentType::kStatic, i % 4 == 0, &r);
      ASSERT_EQ(res, Res::kOk) << i;
      testing_util::FillPattern(ToPointer(r.base), r.size(), i);
      offsets->push_back(r.base - base);
      live.push_back(r);
      if (i % 3 == 2) {
        const Range victim = live[(i * 5) % live.size()];
        if (victim.size() != 0) {
          ASSERT_EQ(arena->Free(victim), Res::kOk);
          live[(i * 5) % live.size()] = Range{};
        }
      }
      ExpectCheck(*arena);
    }
    // Nothing is ever mapped over the buffer.
    Range r;
    ASSERT_EQ(arena->Alloc(g, 0, SegmentType::kStatic, false, &r), Res::kOk);
    testing_util::FillPattern(ToPointer(r.base), g, 99);
    ASSERT_EQ(arena->Free(r), Res::kOk);
    arena->PurgeSpare();
    GrainInfo info;
    ASSERT_TRUE(arena->Lookup(r.base, &info));
    EXPECT_EQ(info.flags & kGrainCommitted, 0);
    EXPECT_TRUE(testing_util::CheckPattern(ToPointer(r.base), g, 99));
    // A client arena cannot grow.
    EXPECT_EQ(arena->Alloc(kSize, 0, SegmentType::kStatic, false, &r), Res::kResource);
    const ArenaStats stats = arena->stats();
    EXPECT_EQ(stats.reserved, AlignDown(kSize, g));
    offsets->push_back(stats.committed);
    ExpectCheck(*arena);
  };
  Buffer one(kSize), two(kSize);
  std::vector<std::size_t> offsets_one, offsets_two;
  run(one, &offsets_one);
  run(two, &offsets_two);
  ASSERT_FALSE(offsets_one.empty());
  EXPECT_EQ(offsets_one, offsets_two);
}

TEST(ArenaTest, ClientArenaOverAnUnalignedBuffer) {
  Buffer buffer(kMiB);
  std::unique_ptr<Arena> arena;
  ASSERT_EQ(Arena::CreateClient(buffer.base + 100, kMiB - 100, ArenaOptions{}, &arena), Res::kOk);
  const std::vector<Range> chunks = Chunks(*arena);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].base, ToAddr(buffer.base) + Page());
  EXPECT_EQ(chunks[0].limit, ToAddr(buffer.base) + kMiB);
  ExpectCheck(*arena);
}

TEST(ArenaTest, DestroyingAnArenaWithManyFreeBlocks) {
  for (int client = 0; client < 2; ++client) {
    Buffer buffer(kMiB);
    std::unique_ptr<Arena> arena;
    if (client) {
      ASSERT_EQ(Arena::CreateClient(buffer.base, kMiB, ArenaOptions{}, &arena), Res::kOk);
    } else {
      arena = MakeVirtual(SmallChunks());
    }
    const std::size_t g = arena->grain_size();
    std::vector<Range> segments(20);
    for (Range& r : segments)
      ASSERT_EQ(arena->Alloc(g, 0, SegmentType::kStatic, false, &r), Res::kOk);
    for (std::size_t i = 0; i < segments.size(); i += 2)
      ASSERT_EQ(arena->Free(segments[i]), Res::kOk);
    ExpectCheck(*arena);
    arena.reset();
  }
}

}  // namespace
}  // namespace core
