// What the arena map shows, prepared apart from any drawing (the Tracy
// split): the arena's grains as tiles, each covering `grains_per_tile`
// grains (1 when zoomed in; many when a large arena is seen whole), laid
// out in rows, each with the type that holds most of its grains, whether
// its grains are committed, and the pool that owns them. Building it walks
// the arena's grain map under the arena's lock, so it may run while a
// replay thread allocates.
#ifndef VIZ_MODEL_ARENA_MAP_H_
#define VIZ_MODEL_ARENA_MAP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/arena/arena.h"
#include "core/gc/phase.h"
#include "viz/model/palette.h"

namespace viz {

struct Tile {
  core::Range range;       // The grains it covers.
  std::size_t grain;       // Of its first, counting the arena's grains chunk after chunk.
  core::SegmentType type;  // The type of most of them.
  bool committed;          // Any of them committed.
  bool mixed;              // Not all of one type.
  std::uint32_t pool_id;   // Of the first allocated grain (0: none).
  // While a collection runs: the colour of most of its bytes the
  // collection concerns, if any do.
  std::optional<core::gc::TraceColor> trace_color;
  std::size_t free_bytes = 0;    // Free blocks inside pool segments.
  std::size_t cached_bytes = 0;  // Blocks a segregated cache holds.
  // What the map draws: the trace colour, else the type's, darker the
  // more of the tile is free blocks, and amber the more of it is cached.
  Rgb color;
};

// A run of memory of one colour in a running collection.
struct ColorRun {
  core::Range range;
  core::gc::TraceColor color;
};

struct ArenaMap {
  std::size_t grain_size = 0;
  std::size_t grains_per_tile = 1;
  std::size_t fit_grains_per_tile = 1;  // What shows the whole arena.
  std::size_t first_grain = 0;          // Of the first tile.
  std::size_t total_grains = 0;
  std::size_t columns = 0;  // Tiles per row.
  std::vector<Tile> tiles;  // Row-major, chunk after chunk.
  // Tiles of each type and trace colour, for the legend.
  std::size_t count[core::kSegmentTypeCount] = {};
  std::size_t color_count[core::gc::kTraceColorCount] = {};
  std::size_t cached_tiles = 0;  // Tiles holding cached blocks.
};

// The part of the arena a map shows: `grains_per_tile` (a power of two)
// from grain `first_grain` on (zoomed in), or, with grains_per_tile 0, all
// of it.
struct MapWindow {
  std::size_t first_grain = 0;
  std::size_t grains_per_tile = 0;
};

// Lays out at most `max_tiles` tiles in rows of `columns`: by default the
// smallest power-of-two grains per tile that fits the whole arena.
ArenaMap BuildArenaMap(const core::Arena& arena, std::size_t columns, std::size_t max_tiles,
                       MapWindow window = {});

// The window `steps` zoom steps in (halving grains per tile; negative: out)
// that keeps the grain of tile `tile_index` where it is on screen. Zooming
// out to the whole arena gives the fitting window.
MapWindow ZoomAt(const ArenaMap& map, std::size_t tile_index, int steps);
// The window `rows` rows further on (negative: back), within the arena.
MapWindow Pan(const ArenaMap& map, std::ptrdiff_t rows);

// Darkens the tiles by the share of their bytes in `free` (free blocks
// inside pools' segments, in address order): blocks shown allocated or
// free. Apply before ApplyTraceColors.
void ApplyFreeBlocks(const std::vector<core::Range>& free, ArenaMap* map);

// Tints the tiles holding blocks of `cached` (in address order) towards
// kCachedColor: a quarter of the way for any, all of it when the whole tile
// is cached. Apply after ApplyFreeBlocks.
void ApplyCachedBlocks(const std::vector<core::Range>& cached, ArenaMap* map);

// Colours the tiles that `runs` (in address order) cover by the trace
// colour most of their covered bytes have.
void ApplyTraceColors(const std::vector<ColorRun>& runs, ArenaMap* map);

// The tile at (column, row) of a map, if there is one.
const Tile* TileAt(const ArenaMap& map, std::size_t column, std::size_t row);

// One line about a tile for the hover box: its addresses, type, pool, and
// the bytes of free and cached blocks in it.
std::string DescribeTile(const ArenaMap& map, const Tile& tile);

}  // namespace viz

#endif  // VIZ_MODEL_ARENA_MAP_H_
