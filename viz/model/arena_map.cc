#include "viz/model/arena_map.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace viz {

ArenaMap BuildArenaMap(const core::Arena& arena, std::size_t columns, std::size_t max_tiles) {
  ArenaMap map;
  map.grain_size = arena.grain_size();
  map.columns = std::max<std::size_t>(columns, 1);
  std::size_t grains = 0;
  arena.WalkChunks(
      [&](core::Range chunk, const core::GrainInfo*) { grains += chunk.size() / map.grain_size; });
  while (map.grains_per_tile * std::max<std::size_t>(max_tiles, 1) < grains) {
    map.grains_per_tile *= 2;
  }
  arena.WalkChunks([&](core::Range chunk, const core::GrainInfo* info) {
    const std::size_t n = chunk.size() / map.grain_size;
    for (std::size_t first = 0; first < n; first += map.grains_per_tile) {
      const std::size_t last = std::min(n, first + map.grains_per_tile);
      std::size_t votes[core::kSegmentTypeCount] = {};
      Tile tile{};
      tile.range = {chunk.base + first * map.grain_size, chunk.base + last * map.grain_size};
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
  });
  return map;
}

const Tile* TileAt(const ArenaMap& map, std::size_t column, std::size_t row) {
  if (column >= map.columns) return nullptr;
  const std::size_t i = row * map.columns + column;
  return i < map.tiles.size() ? &map.tiles[i] : nullptr;
}

std::string DescribeTile(const ArenaMap& map, const Tile& tile) {
  return absl::StrCat("0x", absl::Hex(tile.range.base), "-0x", absl::Hex(tile.range.limit), "  ",
                      core::SegmentTypeName(tile.type), tile.mixed ? " (mixed)" : "",
                      tile.committed ? "" : ", not committed",
                      tile.pool_id != 0 ? absl::StrCat(", pool ", tile.pool_id) : "", "  (",
                      map.grains_per_tile, map.grains_per_tile == 1 ? " grain)" : " grains)");
}

}  // namespace viz
