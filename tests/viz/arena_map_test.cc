// The arena map's model, without a window: tiles follow the grain map,
// zooming out aggregates grains by majority, and hover text names a tile.
#include "viz/model/arena_map.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace viz {
namespace {

using core::SegmentType;

class ArenaMapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    buffer_.resize(4u << 20);
    ASSERT_EQ(
        core::Arena::CreateClient(buffer_.data(), buffer_.size(), core::ArenaOptions{}, &arena_),
        core::Res::kOk);
  }
  core::Range Alloc(std::size_t size, SegmentType type) {
    core::Range r;
    EXPECT_EQ(arena_->Alloc(size, 0, type, false, &r), core::Res::kOk);
    return r;
  }
  std::size_t Grains() const {
    std::size_t n = 0;
    arena_->WalkChunks(
        [&](core::Range chunk, const core::GrainInfo*) { n += chunk.size() / 4096; });
    return n;
  }
  std::vector<char> buffer_;
  std::unique_ptr<core::Arena> arena_;
};

TEST_F(ArenaMapTest, OneTilePerGrainShowsEachSegmentsType) {
  const core::Range nursery = Alloc(8 * 4096, SegmentType::kNursery);
  const core::Range mvff = Alloc(4 * 4096, SegmentType::kManualVariable);
  const ArenaMap map = BuildArenaMap(*arena_, 64, 1 << 20);
  EXPECT_EQ(map.grains_per_tile, 1u);
  EXPECT_EQ(map.tiles.size(), Grains());
  int nursery_tiles = 0, mvff_tiles = 0;
  for (const Tile& t : map.tiles) {
    if (nursery.Contains(t.range.base)) {
      EXPECT_EQ(t.type, SegmentType::kNursery);
      EXPECT_EQ(t.color, ColorOf(SegmentType::kNursery, true));
      ++nursery_tiles;
    }
    if (mvff.Contains(t.range.base)) {
      EXPECT_EQ(t.type, SegmentType::kManualVariable);
      ++mvff_tiles;
    }
  }
  EXPECT_EQ(nursery_tiles, 8);
  EXPECT_EQ(mvff_tiles, 4);
  EXPECT_EQ(map.count[static_cast<int>(SegmentType::kNursery)], 8u);
  // Row-major layout: tile i is at column i % 64, row i / 64.
  EXPECT_EQ(TileAt(map, 3, 2), &map.tiles[2 * 64 + 3]);
  EXPECT_EQ(TileAt(map, 64, 0), nullptr);
}

TEST_F(ArenaMapTest, ZoomingOutAggregatesByMajority) {
  Alloc(3 * 4096, SegmentType::kGeneration);
  const ArenaMap map = BuildArenaMap(*arena_, 16, Grains() / 4 + 1);
  EXPECT_EQ(map.grains_per_tile, 4u);
  EXPECT_EQ(map.tiles.size(), (Grains() + 3) / 4);
  // The three generation grains show, in one tile or two, as generation
  // tiles that also hold free grains (ties go to the used type).
  int found = 0;
  for (const Tile& t : map.tiles) {
    if (t.type != SegmentType::kGeneration) continue;
    ++found;
    EXPECT_TRUE(t.mixed);
    EXPECT_NE(DescribeTile(map, t).find("generation (mixed)"), std::string::npos)
        << DescribeTile(map, t);
  }
  EXPECT_GE(found, 1);
}

TEST(PaletteTest, EveryTypeHasItsOwnColour) {
  for (int a = 0; a < core::kSegmentTypeCount; ++a) {
    for (int b = a + 1; b < core::kSegmentTypeCount; ++b) {
      EXPECT_NE(ColorOf(static_cast<SegmentType>(a), true),
                ColorOf(static_cast<SegmentType>(b), true))
          << a << " and " << b;
    }
  }
  EXPECT_NE(ColorOf(SegmentType::kFree, true), ColorOf(SegmentType::kFree, false));
}

TEST_F(ArenaMapTest, FreeBlocksDarkenTilesAndTraceColoursWin) {
  const core::Range seg = Alloc(4 * 4096, SegmentType::kManualVariable);
  // Grain 0 all allocated, grain 1 half free, grain 2 all free, grain 3
  // all free but condemned by a collection (a colour beats the free shade).
  const std::vector<core::Range> free = {{seg.base + 4096 + 2048, seg.base + 3 * 4096},
                                         {seg.base + 3 * 4096, seg.limit}};
  ArenaMap map = BuildArenaMap(*arena_, 64, 1 << 20);
  ApplyFreeBlocks(free, &map);
  ApplyTraceColors({{{seg.base + 3 * 4096, seg.limit}, core::gc::TraceColor::kCondemned}}, &map);
  const Rgb full = ColorOf(SegmentType::kManualVariable, true);
  std::vector<const Tile*> tiles;
  for (const Tile& t : map.tiles) {
    if (seg.Contains(t.range.base)) tiles.push_back(&t);
  }
  ASSERT_EQ(tiles.size(), 4u);
  EXPECT_EQ(tiles[0]->color, full);
  EXPECT_EQ(tiles[1]->free_bytes, 2048u);
  EXPECT_LT(tiles[1]->color.g, full.g);
  EXPECT_GT(tiles[1]->color.g, tiles[2]->color.g);
  EXPECT_EQ(tiles[2]->free_bytes, 4096u);
  EXPECT_EQ(tiles[3]->trace_color, core::gc::TraceColor::kCondemned);
  EXPECT_EQ(tiles[3]->color, ColorOf(core::gc::TraceColor::kCondemned));
  EXPECT_EQ(map.color_count[static_cast<int>(core::gc::TraceColor::kCondemned)], 1u);
}

TEST_F(ArenaMapTest, CachedBlocksTintTilesAmberByTheirShare) {
  const core::Range seg = Alloc(3 * 4096, SegmentType::kManualVariable);
  // Grain 0 allocated, grain 1 with 64 cached bytes, grain 2 all cached.
  const std::vector<core::Range> cached = {{seg.base + 4096, seg.base + 4096 + 64},
                                           {seg.base + 2 * 4096, seg.limit}};
  ArenaMap map = BuildArenaMap(*arena_, 64, 1 << 20);
  ApplyFreeBlocks({}, &map);
  ApplyCachedBlocks(cached, &map);
  std::vector<const Tile*> tiles;
  for (const Tile& t : map.tiles) {
    if (seg.Contains(t.range.base)) tiles.push_back(&t);
  }
  ASSERT_EQ(tiles.size(), 3u);
  const Rgb own = ColorOf(SegmentType::kManualVariable, true);
  EXPECT_EQ(tiles[0]->color, own);
  EXPECT_EQ(tiles[1]->cached_bytes, 64u);
  // A little cached shows (a quarter of the way to amber); all is amber.
  EXPECT_NE(tiles[1]->color, own);
  EXPECT_GT(tiles[1]->color.r, own.r);
  EXPECT_EQ(tiles[2]->color, kCachedColor);
  EXPECT_EQ(map.cached_tiles, 2u);
  EXPECT_NE(DescribeTile(map, *tiles[1]).find("64 bytes cached"), std::string::npos)
      << DescribeTile(map, *tiles[1]);
  for (int t = 0; t < core::kSegmentTypeCount; ++t) {
    EXPECT_NE(kCachedColor, ColorOf(static_cast<SegmentType>(t), true)) << t;
  }
}

TEST_F(ArenaMapTest, ZoomKeepsTheGrainUnderTheMouseAndPanMovesByRows) {
  const std::size_t grains = Grains();
  const ArenaMap whole = BuildArenaMap(*arena_, 8, 64);
  ASSERT_GE(whole.fit_grains_per_tile * 64, grains);
  ASSERT_GT(whole.fit_grains_per_tile, 2u);
  EXPECT_EQ(whole.grains_per_tile, whole.fit_grains_per_tile);
  // One step in about tile 10: half the grains per tile, tile 10 still
  // starting at the same grain.
  const MapWindow in = ZoomAt(whole, 10, 1);
  EXPECT_EQ(in.grains_per_tile, whole.grains_per_tile / 2);
  const ArenaMap zoomed = BuildArenaMap(*arena_, 8, 64, in);
  ASSERT_GT(zoomed.tiles.size(), 10u);
  EXPECT_EQ(zoomed.tiles[10].grain, whole.tiles[10].grain);
  EXPECT_EQ(zoomed.tiles[10].range.base, whole.tiles[10].range.base);
  EXPECT_EQ(zoomed.tiles[0].range.size(), zoomed.grains_per_tile * 4096);
  // Two rows on, and back; never before the first grain.
  const ArenaMap panned = BuildArenaMap(*arena_, 8, 64, Pan(zoomed, 2));
  EXPECT_EQ(panned.first_grain, zoomed.first_grain + 2 * 8 * zoomed.grains_per_tile);
  EXPECT_EQ(panned.tiles[0].grain, panned.first_grain);
  EXPECT_EQ(Pan(panned, -1000).first_grain, 0u);
  // All the way in is one grain a tile; all the way out fits the arena.
  EXPECT_EQ(ZoomAt(whole, 0, 40).grains_per_tile, 1u);
  EXPECT_EQ(ZoomAt(zoomed, 0, -40).grains_per_tile, 0u);
}

}  // namespace
}  // namespace viz
