#include "viz/model/arena_map.h"

#include <algorithm>
#include <array>
#include <bit>

#include "absl/strings/str_cat.h"

namespace viz {

ArenaMap BuildArenaMap(const core::Arena& arena, std::size_t columns, std::size_t max_tiles,
                       MapWindow window) {
  ArenaMap map;
  map.grain_size = arena.grain_size();
  map.columns = std::max<std::size_t>(columns, 1);
  max_tiles = std::max<std::size_t>(max_tiles, 1);
  arena.WalkChunks([&](core::Range chunk, const core::GrainInfo*) {
    map.total_grains += chunk.size() / map.grain_size;
  });
  while (map.fit_grains_per_tile * max_tiles < map.total_grains) map.fit_grains_per_tile *= 2;
  map.grains_per_tile =
      window.grains_per_tile == 0 ? map.fit_grains_per_tile : std::bit_ceil(window.grains_per_tile);
  map.first_grain = window.grains_per_tile == 0 ? 0 : window.first_grain;
  std::size_t chunk_grain = 0;  // Of the chunk's first grain, counting chunk after chunk.
  arena.WalkChunks([&](core::Range chunk, const core::GrainInfo* info) {
    const std::size_t n = chunk.size() / map.grain_size;
    for (std::size_t first = 0; first < n && map.tiles.size() < max_tiles;
         first += map.grains_per_tile) {
      if (chunk_grain + first + map.grains_per_tile <= map.first_grain) continue;
      const std::size_t last = std::min(n, first + map.grains_per_tile);
      std::size_t votes[core::kSegmentTypeCount] = {};
      Tile tile{};
      tile.range = {chunk.base + first * map.grain_size, chunk.base + last * map.grain_size};
      tile.grain = chunk_grain + first;
      for (std::size_t g = first; g < last; ++g) {
        ++votes[static_cast<int>(info[g].type)];
        tile.committed |= (info[g].flags & core::kGrainCommitted) != 0;
        if (tile.pool_id == 0) tile.pool_id = info[g].pool_id;
      }
      // Ties go to the used types over free, so small segments stay visible.
      int best = 0;
      for (int t = 1; t < core::kSegmentTypeCount; ++t) {
        if (votes[t] > 0 && votes[t] >= votes[best]) best = t;
      }
      tile.type = static_cast<core::SegmentType>(best);
      tile.mixed = votes[best] != last - first;
      tile.color = ColorOf(tile.type, tile.committed);
      ++map.count[best];
      map.tiles.push_back(tile);
    }
    chunk_grain += n;
  });
  return map;
}

MapWindow ZoomAt(const ArenaMap& map, std::size_t tile_index, int steps) {
  std::size_t gpt = map.grains_per_tile;
  for (; steps > 0 && gpt > 1; --steps) gpt /= 2;
  for (; steps < 0 && gpt < map.fit_grains_per_tile; ++steps) gpt *= 2;
  if (gpt >= map.fit_grains_per_tile) return MapWindow{};  // Whole arena: fit.
  // Keep the grain under the mouse under the mouse.
  const std::size_t grain =
      tile_index < map.tiles.size() ? map.tiles[tile_index].grain : map.first_grain;
  const std::size_t before = tile_index * gpt;
  return MapWindow{grain > before ? (grain - before) / gpt * gpt : 0, gpt};
}

MapWindow Pan(const ArenaMap& map, std::ptrdiff_t rows) {
  if (map.grains_per_tile == map.fit_grains_per_tile && map.first_grain == 0) return MapWindow{};
  const auto step = static_cast<std::ptrdiff_t>(map.columns * map.grains_per_tile);
  std::ptrdiff_t first = static_cast<std::ptrdiff_t>(map.first_grain) + rows * step;
  first = std::clamp<std::ptrdiff_t>(
      first, 0, std::max<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(map.total_grains) - step, 0));
  return MapWindow{static_cast<std::size_t>(first), map.grains_per_tile};
}

namespace {

// Calls f(tile index, overlap bytes, run) for every tile and run that
// overlap; `runs` are in address order, `range(run)` gives a run's range.
template <typename Run, typename RangeOf, typename F>
void SweepTiles(const ArenaMap& map, const std::vector<Run>& runs, RangeOf range, F f) {
  if (runs.empty()) return;
  // Tiles by address (chunks need not come in address order).
  std::vector<std::size_t> order(map.tiles.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return map.tiles[a].range.base < map.tiles[b].range.base;
  });
  std::size_t t = 0;
  for (const Run& run : runs) {
    const core::Range r = range(run);
    // Back up to the first tile the run reaches.
    while (t > 0 && map.tiles[order[t - 1]].range.limit > r.base) --t;
    for (; t < order.size(); ++t) {
      const core::Range tile = map.tiles[order[t]].range;
      if (tile.base >= r.limit) break;
      const core::Addr base = std::max(tile.base, r.base);
      const core::Addr limit = std::min(tile.limit, r.limit);
      if (base < limit) f(order[t], limit - base, run);
    }
  }
}

// A type's colour, darker the less of the tile is allocated.
Rgb Dimmed(Rgb c, double used) {
  const double k = 0.3 + 0.7 * used;
  return {static_cast<std::uint8_t>(c.r * k), static_cast<std::uint8_t>(c.g * k),
          static_cast<std::uint8_t>(c.b * k)};
}

// `a` moved the fraction `t` of the way to `b`.
Rgb Mixed(Rgb a, Rgb b, double t) {
  const auto mix = [t](std::uint8_t x, std::uint8_t y) {
    return static_cast<std::uint8_t>(x + (y - x) * t + 0.5);
  };
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

// Adds to each tile's `bytes` what `blocks` (in address order) cover of
// it, then lets `shade` recolour each tile that has some (unless a trace
// colour has it) by their share of the tile.
template <typename Shade>
void ShadeByShare(const std::vector<core::Range>& blocks, std::size_t Tile::*bytes, ArenaMap* map,
                  Shade shade) {
  SweepTiles(
      *map, blocks, [](core::Range r) { return r; },
      [&](std::size_t i, std::size_t n, core::Range) { map->tiles[i].*bytes += n; });
  for (Tile& tile : map->tiles) {
    if (tile.*bytes == 0 || tile.trace_color) continue;
    shade(tile, static_cast<double>(tile.*bytes) / static_cast<double>(tile.range.size()));
  }
}

}  // namespace

void ApplyFreeBlocks(const std::vector<core::Range>& free, ArenaMap* map) {
  ShadeByShare(free, &Tile::free_bytes, map, [](Tile& tile, double share) {
    tile.color = Dimmed(ColorOf(tile.type, tile.committed), std::max(1 - share, 0.0));
  });
}

void ApplyCachedBlocks(const std::vector<core::Range>& cached, ArenaMap* map) {
  ShadeByShare(cached, &Tile::cached_bytes, map, [map](Tile& tile, double share) {
    tile.color = Mixed(tile.color, kCachedColor, 0.25 + 0.75 * std::min(share, 1.0));
    ++map->cached_tiles;
  });
}

void ApplyTraceColors(const std::vector<ColorRun>& runs, ArenaMap* map) {
  std::vector<std::array<std::size_t, core::gc::kTraceColorCount>> bytes(map->tiles.size());
  SweepTiles(
      *map, runs, [](const ColorRun& run) { return run.range; },
      [&](std::size_t i, std::size_t n, const ColorRun& run) {
        bytes[i][static_cast<int>(run.color)] += n;
      });
  for (std::size_t i = 0; i < map->tiles.size(); ++i) {
    int best = -1;
    for (int c = 0; c < core::gc::kTraceColorCount; ++c) {
      if (bytes[i][c] > 0 && (best < 0 || bytes[i][c] > bytes[i][best])) best = c;
    }
    if (best < 0) continue;
    Tile& tile = map->tiles[i];
    tile.trace_color = static_cast<core::gc::TraceColor>(best);
    tile.color = ColorOf(*tile.trace_color);
    ++map->color_count[best];
  }
}

const Tile* TileAt(const ArenaMap& map, std::size_t column, std::size_t row) {
  if (column >= map.columns) return nullptr;
  const std::size_t i = row * map.columns + column;
  return i < map.tiles.size() ? &map.tiles[i] : nullptr;
}

std::string DescribeTile(const ArenaMap& map, const Tile& tile) {
  return absl::StrCat(
      "0x", absl::Hex(tile.range.base), "-0x", absl::Hex(tile.range.limit), "  ",
      core::SegmentTypeName(tile.type), tile.mixed ? " (mixed)" : "",
      tile.committed ? "" : ", not committed",
      tile.pool_id != 0 ? absl::StrCat(", pool ", tile.pool_id) : "",
      tile.trace_color ? absl::StrCat(", mostly ", core::gc::TraceColorName(*tile.trace_color))
                       : "",
      tile.free_bytes != 0 ? absl::StrCat(", ", tile.free_bytes, " bytes free") : "",
      tile.cached_bytes != 0 ? absl::StrCat(", ", tile.cached_bytes, " bytes cached") : "", "  (",
      map.grains_per_tile, map.grains_per_tile == 1 ? " grain)" : " grains)");
}

}  // namespace viz
