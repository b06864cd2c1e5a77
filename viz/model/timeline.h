// The collection timeline: every collection's phases (condemn, scan roots,
// scan grey, reclaim) as spans of event indices, heard from the arena's
// observer while the replay runs in its thread and read by the view. For
// incremental collections the spans interleave with mutator events.
#ifndef VIZ_MODEL_TIMELINE_H_
#define VIZ_MODEL_TIMELINE_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "core/observe/observer.h"
#include "viz/model/palette.h"

namespace viz {

struct PhaseSpan {
  std::uint64_t collection;
  core::gc::Phase phase;
  std::uint64_t begin_event;  // The phase began while this event ran...
  std::uint64_t end_event;    // ...and ended (or was last seen) by this one.
};

class CollectionTimeline final : public core::Observer {
 public:
  // The event the replay is at, set by the replay thread before it
  // dispatches each batch.
  void SetEvent(std::uint64_t event) { event_.store(event, std::memory_order_relaxed); }

  void OnCollectionPhase(const core::Pool* pool, std::uint64_t collection,
                         core::gc::Phase phase) override;

  // A copy of the spans so far, and how many collections finished.
  std::vector<PhaseSpan> Spans() const;
  std::uint64_t finished() const;
  // Phase changes so far (every phase entered, and every end).
  std::uint64_t changes() const;
  // The phase of the collection under way (kIdle: none).
  core::gc::Phase phase() const;

 private:
  mutable std::mutex mutex_;
  std::atomic<std::uint64_t> event_{0};
  std::vector<PhaseSpan> spans_;
  std::uint64_t finished_ = 0;
  bool open_ = false;  // The last span has not ended yet.
};

// The colour of a phase on the timeline.
Rgb ColorOf(core::gc::Phase phase);

}  // namespace viz

#endif  // VIZ_MODEL_TIMELINE_H_
