// The visualizer's ImGui panels: they only draw what the model prepared
// (viz/model) and change the view state; no replay logic lives here.
#ifndef VIZ_APP_PANELS_H_
#define VIZ_APP_PANELS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "viz/app/view_state.h"
#include "viz/model/arena_map.h"
#include "viz/model/replay_session.h"

namespace viz {

// Where a pane drew its map, for tests that check pixels: the screen
// position of the first tile of each segment type, and of each trace
// colour, shown.
struct DrawnTile {
  std::string policy;
  // A segment type's name, "color:" and a trace colour's, or "cached" (the
  // legend's key for cached blocks, policy "legend").
  std::string what;
  float x, y;  // Centre of the tile, window pixels from the top left.
};

// What a pane keeps between frames. A running replay cannot be looked at,
// so the last look at its heap stays on screen until the next; the object
// under the mouse is looked up once per address and event.
struct PaneCache {
  std::optional<ReplaySession::HeapView> heap;
  core::Addr hovered = 0;
  std::uint64_t hovered_at = ~std::uint64_t{0};
  std::optional<ReplaySession::ObjectInfo> object;
};

// Playback controls and a status line per replay; sets what the user asked
// for in `view`.
void DrawControls(const std::vector<ReplaySession*>& sessions, std::vector<PaneCache>& caches,
                  ViewState& view);

// The panes side by side (map, charts, pauses, timeline) and a legend;
// hover shows a tile and the object under the mouse, a click selects the
// tile. Appends what it drew to *drawn (if not null).
void DrawPanes(const std::vector<ReplaySession*>& sessions, std::vector<PaneCache>& caches,
               ViewState& view, std::vector<DrawnTile>* drawn);

}  // namespace viz

#endif  // VIZ_APP_PANELS_H_
