// Seeded random alloc / free / retype on an arena against a reference model
// (a std::map of live segments), with Check() after every step. Every
// segment is filled with a pattern when allocated and verified when freed,
// which proves the committed memory is writable and that no other segment,
// nor the arena's own tables, wrote over it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/arena/arena.h"
#include "core/base/address.h"
#include "core/base/result.h"
#include "core/pools/mfs.h"
#include "gtest/gtest.h"
#include "tests/util/pattern.h"
#include "tests/util/seed.h"

namespace core {
namespace {

struct LiveSegment {
  Addr limit;
  std::uint32_t pool_id;
  SegmentType type;
  std::uint64_t tag;  // The pattern was filled from the segment's base.
};

constexpr SegmentType kTypes[] = {SegmentType::kManualFixed, SegmentType::kManualVariable,
                                  SegmentType::kNursery,     SegmentType::kGeneration,
                                  SegmentType::kStatic,      SegmentType::kStack};

class ArenaModel {
 public:
  // `big_grains` is the size of the occasional large request.
  ArenaModel(Arena* arena, std::uint64_t seed, std::size_t big_grains)
      : arena_(arena), rng_(seed), big_grains_(big_grains) {}

  void Step(int step) {
    const int op = static_cast<int>(Uniform(0, 99));
    if (op < 40 || live_.empty()) {
      Alloc();
    } else if (op < 80) {
      Free();
    } else if (op < 92) {
      Retype();
    } else if (op < 95) {
      BadFree();
    } else if (op < 97) {
      arena_->SetSpare(static_cast<double>(Uniform(0, 4)) / 4);
    } else if (op < 98) {
      arena_->PurgeSpare();
    } else {
      ChangeCommitLimit();
    }
    const CheckResult check = arena_->Check();
    ASSERT_TRUE(check.ok) << check.what << " after step " << step << "\n" << Describe();
    ExpectSegmentsMatch();
  }

  void FreeEverything() {
    while (!live_.empty())
      FreePart(live_.begin(), live_.begin()->first, live_.begin()->second.limit);
    EXPECT_EQ(arena_->stats().in_use, 0u);
  }

  std::vector<std::uint32_t> pool_ids = {0};
  int commit_limit_failures = 0;

 private:
  using Iter = std::map<Addr, LiveSegment>::iterator;

  std::size_t Uniform(std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng_);
  }
  std::size_t grain() const { return arena_->grain_size(); }

  std::string Describe() const {
    std::ostringstream os;
    arena_->Describe(os);
    return os.str();
  }

  // The largest run of free grains, from the grain map.
  std::size_t LargestFreeRun() const {
    std::size_t largest = 0;
    const std::size_t g = grain();
    arena_->WalkChunks([&](Range chunk, const GrainInfo* grains) {
      std::size_t run = 0;
      for (std::size_t i = 0; i < chunk.size() / g; ++i) {
        run = (grains[i].flags & kGrainAllocated) != 0 ? 0 : run + g;
        largest = std::max(largest, run);
      }
    });
    return largest;
  }

  Iter RandomSegment() { return std::next(live_.begin(), Uniform(0, live_.size() - 1)); }

  void Fill(Addr base, Addr limit, std::uint32_t pool_id, SegmentType type) {
    const std::uint64_t tag = next_tag_++;
    testing_util::FillPattern(ToPointer(base), limit - base, tag);
    live_[base] = LiveSegment{limit, pool_id, type, tag};
  }

  void Alloc() {
    // Mostly a few grains; now and then more than a chunk.
    const std::size_t grains =
        Uniform(0, 49) == 0 ? Uniform(big_grains_ / 2, big_grains_) : Uniform(1, 8);
    const std::size_t size = grains * grain() - Uniform(0, grain() - 1);
    const std::uint32_t pool_id = pool_ids[Uniform(0, pool_ids.size() - 1)];
    const SegmentType type = kTypes[Uniform(0, std::size(kTypes) - 1)];
    const bool high = Uniform(0, 3) == 0;
    Range r;
    const Res res = arena_->Alloc(size, pool_id, type, high, &r);
    const ArenaStats stats = arena_->stats();
    if (res == Res::kCommitLimit) {
      // Only when what is in use plus the request is over the limit (or a
      // new chunk's header would not fit).
      ++commit_limit_failures;
      EXPECT_TRUE(stats.in_use + stats.control + grains * grain() > stats.commit_limit ||
                  stats.committed + (std::size_t{1} << 20) > stats.commit_limit)
          << "size " << size << "\n"
          << Describe();
      return;
    }
    if (res == Res::kResource && arena_->is_client()) {
      // A client arena cannot grow: no free run in its buffer was big enough.
      EXPECT_LT(LargestFreeRun(), grains * grain()) << "size " << size << "\n" << Describe();
      return;
    }
    ASSERT_EQ(res, Res::kOk) << "size " << size;
    EXPECT_EQ(r.size(), grains * grain());
    EXPECT_TRUE(IsAligned(r.base, grain()));
    // No overlap with any live segment.
    auto after = live_.lower_bound(r.base);
    if (after != live_.end()) {
      EXPECT_LE(r.limit, after->first);
    }
    if (after != live_.begin()) {
      EXPECT_LE(std::prev(after)->second.limit, r.base);
    }
    Fill(r.base, r.limit, pool_id, type);
  }

  // Frees [base, limit) from the segment at `it`, after checking all of its
  // pattern; what is left stays live (refilled with fresh tags).
  void FreePart(Iter it, Addr base, Addr limit) {
    const Addr seg_base = it->first;
    const LiveSegment seg = it->second;
    ASSERT_TRUE(testing_util::CheckPattern(ToPointer(seg_base), seg.limit - seg_base, seg.tag))
        << "segment at " << seg_base << " clobbered at offset "
        << testing_util::FirstPatternMismatch(ToPointer(seg_base), seg.limit - seg_base, seg.tag);
    ASSERT_EQ(arena_->Free({base, limit}), Res::kOk);
    live_.erase(it);
    if (seg_base < base) Fill(seg_base, base, seg.pool_id, seg.type);
    if (limit < seg.limit) Fill(limit, seg.limit, seg.pool_id, seg.type);
  }

  // Picks a random grain-aligned sub-range of the segment at `it`.
  Range SubRange(Iter it) {
    const std::size_t grains = (it->second.limit - it->first) / grain();
    const std::size_t first = Uniform(0, grains - 1);
    const std::size_t count = Uniform(1, grains - first);
    return {it->first + first * grain(), it->first + (first + count) * grain()};
  }

  void Free() {
    Iter it = RandomSegment();
    const Range part = Uniform(0, 2) == 0 ? SubRange(it) : Range{it->first, it->second.limit};
    FreePart(it, part.base, part.limit);
  }

  void Retype() {
    Iter it = RandomSegment();
    const Range part = SubRange(it);
    const SegmentType type = kTypes[Uniform(0, std::size(kTypes) - 1)];
    const Addr seg_base = it->first;
    const LiveSegment seg = it->second;
    ASSERT_EQ(arena_->Retype(part, type), Res::kOk);
    // The retyped part becomes a segment of its own; contents are kept.
    ASSERT_TRUE(testing_util::CheckPattern(ToPointer(seg_base), seg.limit - seg_base, seg.tag));
    live_.erase(it);
    if (seg_base < part.base) Fill(seg_base, part.base, seg.pool_id, seg.type);
    Fill(part.base, part.limit, seg.pool_id, type);
    if (part.limit < seg.limit) Fill(part.limit, seg.limit, seg.pool_id, seg.type);
  }

  void BadFree() {
    Iter it = RandomSegment();
    const Addr base = it->first, limit = it->second.limit;
    switch (Uniform(0, 3)) {
      case 0:
        EXPECT_EQ(arena_->Free({base + kWordSize, limit}), Res::kParam);
        break;
      case 1:
        EXPECT_EQ(arena_->Free({base, base}), Res::kParam);
        break;
      case 2: {
        // Past the end into grains that are free or another pool's.
        GrainInfo info;
        if (arena_->Lookup(limit, &info) &&
            ((info.flags & kGrainAllocated) == 0 || info.pool_id != it->second.pool_id)) {
          EXPECT_EQ(arena_->Free({base, limit + grain()}), Res::kParam);
        }
        break;
      }
      default: {
        // A free grain.
        GrainInfo info;
        if (arena_->Lookup(limit, &info) && (info.flags & kGrainAllocated) == 0) {
          EXPECT_EQ(arena_->Free({limit, limit + grain()}), Res::kParam);
        }
        break;
      }
    }
  }

  void ChangeCommitLimit() {
    const ArenaStats stats = arena_->stats();
    const std::size_t in_use = stats.in_use + stats.control;
    // Sometimes below what is in use (must fail), usually a little above.
    const std::size_t limit =
        Uniform(0, 4) == 0 ? in_use - grain() : in_use + Uniform(8, 600) * grain();
    const Res res = arena_->SetCommitLimit(limit);
    EXPECT_EQ(res, limit < in_use ? Res::kFail : Res::kOk);
    if (res == Res::kOk) {
      EXPECT_LE(arena_->stats().committed, limit);
    }
  }

  // The arena's segments (bar its own control) are exactly the model's.
  void ExpectSegmentsMatch() {
    auto it = live_.begin();
    bool ok = true;
    arena_->WalkSegments([&](const Segment& s) {
      if (s.type == SegmentType::kArenaControl) return true;
      if (it == live_.end() || s.range != Range{it->first, it->second.limit} ||
          s.type != it->second.type || s.pool != arena_->PoolOf(it->second.pool_id)) {
        ok = false;
        return false;
      }
      ++it;
      return true;
    });
    EXPECT_TRUE(ok && it == live_.end()) << "arena segments differ from the model\n" << Describe();
    std::size_t bytes = 0;
    for (const auto& [base, seg] : live_) bytes += seg.limit - base;
    EXPECT_EQ(arena_->stats().in_use, bytes);
  }

  Arena* arena_;
  std::mt19937_64 rng_;
  const std::size_t big_grains_;
  std::map<Addr, LiveSegment> live_;
  std::uint64_t next_tag_ = 1;
};

void RunModel(Arena* arena, std::uint64_t seed, bool with_pools, int steps,
              std::size_t big_grains) {
  std::vector<std::unique_ptr<Mfs>> pools;
  ArenaModel model(arena, seed, big_grains);
  if (with_pools) {
    // Pools only as owners: the model allocates for them directly.
    for (int i = 0; i < 2; ++i) {
      pools.push_back(std::make_unique<Mfs>(arena, MfsOptions{.unit_size = 64}));
      model.pool_ids.push_back(pools.back()->id());
    }
  }
  for (int step = 0; step < steps; ++step) {
    model.Step(step);
    if (::testing::Test::HasFatalFailure()) return;
  }
  model.FreeEverything();
  const CheckResult check = arena->Check();
  EXPECT_TRUE(check.ok) << check.what;
  ::testing::Test::RecordProperty("commit_limit_failures", model.commit_limit_failures);
}

TEST(ArenaModelTest, VirtualArena) {
  const std::uint64_t seed = testing_util::TestSeed();
  ArenaOptions options;
  options.chunk_size = std::size_t{1} << 20;  // Small, so the arena grows.
  options.spare = 0.5;
  std::unique_ptr<Arena> arena;
  ASSERT_EQ(Arena::CreateVirtual(options, &arena), Res::kOk);
  // Large requests of up to 1.6 MiB need chunks of their own.
  RunModel(arena.get(), seed, /*with_pools=*/true, /*steps=*/3000, /*big_grains=*/400);
}

TEST(ArenaModelTest, ClientArena) {
  const std::uint64_t seed = testing_util::TestSeed();
  constexpr std::size_t kSize = std::size_t{8} << 20;
  std::vector<std::uint64_t> buffer(kSize / sizeof(std::uint64_t));
  ArenaOptions options;
  options.spare = 0.5;
  std::unique_ptr<Arena> arena;
  ASSERT_EQ(Arena::CreateClient(buffer.data(), kSize, options, &arena), Res::kOk);
  RunModel(arena.get(), seed, /*with_pools=*/false, /*steps=*/3000, /*big_grains=*/400);
}

TEST(ArenaModelTest, MlWorksArena) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::unique_ptr<Arena> arena;
  ASSERT_EQ(Arena::CreateVirtual(ArenaOptions::MlWorks(), &arena), Res::kOk);
  // 64 KiB grains: fewer steps, and large requests just over a 16 MiB chunk.
  RunModel(arena.get(), seed, /*with_pools=*/true, /*steps=*/600, /*big_grains=*/270);
}

}  // namespace
}  // namespace core
