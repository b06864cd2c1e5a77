// One policy's replay for the visualizer: the engine runs in its own thread
// over a gated event source that lets events through up to a target index
// the user moves (play, step, seek). At the end of the trace, or at the
// target, the replay waits, so its heap stays as it was for the map (the
// engine frees everything only when the session ends). No ImGui here.
#ifndef VIZ_MODEL_REPLAY_SESSION_H_
#define VIZ_MODEL_REPLAY_SESSION_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay/engine.h"
#include "replay/subject.h"
#include "replay/trace_io.h"
#include "viz/model/timeline.h"

namespace viz {

class ReplaySession {
 public:
  static absl::StatusOr<std::unique_ptr<ReplaySession>> Start(const std::string& trace,
                                                              const std::string& policy);
  ~ReplaySession();

  // Lets events [0, event) through (it never goes back: seeking back means
  // a new session, replayed from the start).
  void AdvanceTo(std::uint64_t event);
  // Waits until the replay has dispatched `event` events, or stopped; true
  // if it got there.
  bool WaitUntil(std::uint64_t event, std::chrono::milliseconds timeout);

  std::uint64_t position() const;  // Events dispatched.
  bool at_end() const;             // The trace has no more events.
  absl::Status status() const;     // The replay's error, if it stopped on one.
  const std::string& policy() const { return policy_; }
  const std::string& trace() const { return trace_; }
  // The subject's arena (nullptr for system allocators).
  const core::Arena* arena() const { return subject_->arena(); }
  std::size_t footprint() const { return subject_->Footprint(); }
  // Footprint and live bytes so far, about 1000 points (event, live,
  // footprint) from the engine's own samples.
  struct Point {
    std::uint64_t event, live, footprint;
  };
  std::vector<Point> Chart() const;
  // The collections so far (empty for manual policies).
  const CollectionTimeline& timeline() const { return timeline_; }

 private:
  class GatedSource;
  ReplaySession(std::string trace, std::string policy);
  void Run();

  std::string trace_, policy_;
  CollectionTimeline timeline_;  // Before the subject: its arena reports here.
  std::unique_ptr<replay::Subject> subject_;
  std::unique_ptr<replay::TraceReader> reader_;
  std::unique_ptr<GatedSource> source_;
  replay::ReplayResult result_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t target_ = 0;
  std::uint64_t dispatched_ = 0;
  bool at_end_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  absl::Status status_;
  std::vector<Point> chart_;
  std::thread thread_;
};

}  // namespace viz

#endif  // VIZ_MODEL_REPLAY_SESSION_H_
