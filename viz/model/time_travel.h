// Time travel for one policy's replay: seeking back replays from the
// nearest checkpoint instead of from the start. A checkpoint is a replay of
// its own, parked at a multiple of the checkpoint interval behind the one
// on screen; seeking takes over whichever replay is furthest along without
// passing the event sought, and lets it run on to there. (Why parked
// replays and not heap snapshots: viz/DESIGN.md.) No ImGui here.
#ifndef VIZ_MODEL_TIME_TRAVEL_H_
#define VIZ_MODEL_TIME_TRAVEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "viz/model/replay_session.h"

namespace viz {

struct TimeTravelOptions {
  std::uint64_t interval = 1000000;  // Events between checkpoints.
  std::size_t max_checkpoints = 4;   // The latest ones behind the replay shown.
};

class TimeTravel {
 public:
  static absl::StatusOr<std::unique_ptr<TimeTravel>> Start(const std::string& trace,
                                                           const std::string& policy,
                                                           TimeTravelOptions options);

  // The replay on screen.
  ReplaySession& live() { return *live_; }
  const ReplaySession& live() const { return *live_; }

  // Moves the replay on screen to `event`. Forward, it lets events
  // through; back, it takes over the replay (checkpoint, or a fresh one)
  // furthest along without passing `event`. Returns the event that replay
  // was at: where the replay to `event` starts from.
  absl::StatusOr<std::uint64_t> Seek(std::uint64_t event);

  // Keeps the checkpoints: drops those no longer among the latest
  // `max_checkpoints` multiples of the interval at or behind the replay on
  // screen, and starts building one missing checkpoint when none is being
  // built. Call it once a frame.
  absl::Status Maintain();

  // The events of the checkpoints, built or being built, in order.
  std::vector<std::uint64_t> checkpoints() const;
  // Whether the checkpoint at `event` has got there.
  bool IsBuilt(std::uint64_t event) const;

 private:
  TimeTravel(std::string trace, std::string policy, TimeTravelOptions options)
      : trace_(std::move(trace)), policy_(std::move(policy)), options_(options) {}

  std::string trace_, policy_;
  TimeTravelOptions options_;
  std::unique_ptr<ReplaySession> live_;
  // Each parked at (or on its way to) its target(), a multiple of the
  // interval.
  std::vector<std::unique_ptr<ReplaySession>> checkpoints_;
};

}  // namespace viz

#endif  // VIZ_MODEL_TIME_TRAVEL_H_
