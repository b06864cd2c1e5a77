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
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay/engine.h"
#include "replay/subject.h"
#include "replay/trace_io.h"
#include "viz/model/arena_map.h"
#include "viz/model/timeline.h"

namespace viz {

class ReplaySession {
 public:
  static absl::StatusOr<std::unique_ptr<ReplaySession>> Start(const std::string& trace,
                                                              const std::string& policy);
  ~ReplaySession();

  // Lets events [0, event) through (it never goes back: seeking back means
  // another session; see TimeTravel).
  void AdvanceTo(std::uint64_t event);
  // The event it is let through to.
  std::uint64_t target() const;

  // Lets events through one at a time until the goal is met (or the trace
  // ends), and stops there: just after the event in which the next
  // collection ended, or in which a collection next changed phase (with
  // incremental collection, that is mid-collection).
  enum class StepGoal { kCollectionEnd, kPhaseChange };
  void StepUntil(StepGoal goal);
  // A StepUntil has not reached its goal yet.
  bool stepping() const;
  // Waits until the replay has dispatched `event` events, or stopped; true
  // if it got there.
  bool WaitUntil(std::uint64_t event, std::chrono::milliseconds timeout);

  std::uint64_t position() const;  // Events dispatched.
  bool at_end() const;             // The trace has no more events.
  absl::Status status() const;     // The replay's error, if it stopped on one.
  const std::string& policy() const { return policy_; }
  const std::string& trace() const { return trace_; }
  // Whether the policy collects garbage.
  bool collects() const { return subject_->AsGc() != nullptr; }
  // The subject's arena (nullptr for system allocators).
  const core::Arena* arena() const { return subject_->arena(); }
  std::size_t footprint() const { return subject_->Footprint(); }
  // Footprint and live bytes so far, about 1000 points (event, live,
  // footprint) from the engine's own samples.
  struct Point {
    std::uint64_t event, live, footprint;
    // Footprint / live - 1 (Johnstone & Wilson), 0 with nothing live.
    double fragmentation() const {
      return live == 0 ? 0 : static_cast<double>(footprint) / static_cast<double>(live) - 1;
    }
  };
  std::vector<Point> Chart() const;
  // The collections so far (empty for manual policies).
  const CollectionTimeline& timeline() const { return timeline_; }
  // Every collection pause so far: its event and length.
  struct Pause {
    std::uint64_t event;
    double seconds;
  };
  std::vector<Pause> Pauses() const;

  // What the heap holds now, when the replay is stopped between events (at
  // its target, at the end, or on an error): nullopt while it runs.
  struct HeapView {
    std::uint64_t position;
    const char* last_kind;  // Of the last event dispatched ("" before any).
    std::uint64_t live;     // Bytes, as the trace asked for them.
    core::gc::Phase phase;
    std::vector<core::Range> free_blocks;    // Inside pools' segments, by address.
    std::vector<core::Range> cached_blocks;  // Held by a cache in front of the pools, by address.
    std::vector<ColorRun> colors;            // Of the collection under way.
    std::vector<std::uint64_t> generations;  // Bytes per generation.
  };
  std::optional<HeapView> Inspect() const;
  // The object (block) at address `a`, when stopped as for Inspect: for a
  // collector as its heap has it, otherwise from the replay's id table.
  struct ObjectInfo {
    std::uint64_t id;
    core::Addr base;
    std::uint64_t size;       // Bytes it takes (a collector's) or asked for.
    core::Addr forwarded_to;  // Mid-collection, an old copy's new address.
    int generation;           // -1: none (manual policies).
  };
  std::optional<ObjectInfo> FindObject(core::Addr a) const;

 private:
  class GatedSource;
  ReplaySession(std::string trace, std::string policy);
  void Run();
  // Under mutex_, with a StepUntil goal set: stops at the event that met
  // it, or lets one more event through.
  void CheckGoal();

  std::string trace_, policy_;
  CollectionTimeline timeline_;  // Before the subject: its arena reports here.
  std::unique_ptr<replay::Subject> subject_;
  std::unique_ptr<replay::TraceReader> reader_;
  std::unique_ptr<GatedSource> source_;
  std::unique_ptr<replay::Engine> engine_;
  replay::ReplayResult result_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t target_ = 0;
  std::uint64_t dispatched_ = 0;
  bool at_end_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  bool parked_ = false;  // The replay thread waits between events.
  std::optional<StepGoal> goal_;
  std::uint64_t goal_mark_ = 0;  // The timeline's count when the step began.
  const char* last_kind_ = "";
  absl::Status status_;
  std::vector<Point> chart_;
  std::vector<Pause> pauses_;
  std::thread thread_;
};

}  // namespace viz

#endif  // VIZ_MODEL_REPLAY_SESSION_H_
