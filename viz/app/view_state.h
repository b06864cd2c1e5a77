// What the user has chosen to look at, apart from what there is to see
// (the model) and how it is drawn (the panels).
#ifndef VIZ_APP_VIEW_STATE_H_
#define VIZ_APP_VIEW_STATE_H_

#include <cstdint>
#include <optional>

#include "core/base/address.h"
#include "viz/model/arena_map.h"
#include "viz/model/replay_session.h"

namespace viz {

struct ViewState {
  std::uint64_t target = 0;  // The event the replays are let through to.
  bool playing = false;
  int events_per_frame = 1000;  // Playback speed.
  int step_events = 1000;       // What "Step N" steps.
  int tile_pixels = 6;          // The side of one map tile, in pixels.
  MapWindow window;             // Zoom and pan: the part of the arena shown.
  float pan_pixels = 0;         // Drag not yet a whole row.
  core::Addr selected = 0;      // A clicked tile's base (0: none).
  std::uint64_t seek = 0;       // The event typed into the seek box.
  bool seek_requested = false;  // The user pressed Seek (to `target`).
  // The user asked for the next collection's end or phase change; the
  // first collecting replay goes there and the others follow.
  std::optional<ReplaySession::StepGoal> step_goal;
};

}  // namespace viz

#endif  // VIZ_APP_VIEW_STATE_H_
