// The visualizer's ImGui panels: they only draw what the model prepared
// (viz/model) and change the view state; no replay logic lives here.
#ifndef VIZ_APP_PANELS_H_
#define VIZ_APP_PANELS_H_

#include <memory>
#include <string>
#include <vector>

#include "viz/app/view_state.h"
#include "viz/model/arena_map.h"
#include "viz/model/replay_session.h"

namespace viz {

// Where a pane drew its map, for tests that check pixels: the screen
// position of the first tile of each segment type shown.
struct DrawnTile {
  std::string policy;
  core::SegmentType type;
  float x, y;  // Centre of the tile, window pixels from the top left.
};

// Playback controls and a status line per replay. Returns true if the user
// asked to seek backwards (the caller restarts the replays).
bool DrawControls(std::vector<std::unique_ptr<ReplaySession>>& sessions, ViewState& view);

// The arena maps side by side, with a legend; hover shows a tile, a click
// selects it. Appends what it drew to *drawn (if not null).
void DrawMaps(std::vector<std::unique_ptr<ReplaySession>>& sessions, ViewState& view,
              std::vector<DrawnTile>* drawn);

}  // namespace viz

#endif  // VIZ_APP_PANELS_H_
