// Follows an arena's committed bytes exactly through its commit events:
// footprint now and at its peak, with no sampling and no locking. Every
// report is also passed on to a second observer if one is attached (the
// visualizer's), so one arena can feed both.
#ifndef REPLAY_FOOTPRINT_OBSERVER_H_
#define REPLAY_FOOTPRINT_OBSERVER_H_

#include <algorithm>
#include <cstddef>

#include "core/observe/observer.h"

namespace replay {

class FootprintObserver : public core::Observer {
 public:
  explicit FootprintObserver(std::size_t committed = 0) : committed_(committed), peak_(committed) {}

  void OnCommit(core::Range range, bool committed) override {
    committed_ = committed ? committed_ + range.size() : committed_ - range.size();
    peak_ = std::max(peak_, committed_);
    if (next_ != nullptr) next_->OnCommit(range, committed);
  }
  void OnSegmentAcquired(core::Range range, const core::Pool* pool,
                         core::SegmentType type) override {
    if (next_ != nullptr) next_->OnSegmentAcquired(range, pool, type);
  }
  void OnSegmentReleased(core::Range range, const core::Pool* pool) override {
    if (next_ != nullptr) next_->OnSegmentReleased(range, pool);
  }
  void OnSegmentRetyped(core::Range range, const core::Pool* pool, core::SegmentType from,
                        core::SegmentType to) override {
    if (next_ != nullptr) next_->OnSegmentRetyped(range, pool, from, to);
  }
  void OnReserve(core::Range range, bool reserved) override {
    if (next_ != nullptr) next_->OnReserve(range, reserved);
  }
  void OnCollectionPhase(const core::Pool* pool, std::uint64_t collection,
                         core::gc::Phase phase) override {
    if (next_ != nullptr) next_->OnCollectionPhase(pool, collection, phase);
  }

  std::size_t committed() const { return committed_; }
  std::size_t peak() const { return peak_; }
  // Attaches the observer every report is passed on to (nullptr: none).
  void set_next(core::Observer* next) { next_ = next; }

 private:
  std::size_t committed_;
  std::size_t peak_;
  core::Observer* next_ = nullptr;
};

}  // namespace replay

#endif  // REPLAY_FOOTPRINT_OBSERVER_H_
