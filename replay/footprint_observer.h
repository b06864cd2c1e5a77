// Follows an arena's committed bytes exactly through its commit events:
// footprint now and at its peak, with no sampling and no locking.
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
  }
  std::size_t committed() const { return committed_; }
  std::size_t peak() const { return peak_; }

 private:
  std::size_t committed_;
  std::size_t peak_;
};

}  // namespace replay

#endif  // REPLAY_FOOTPRINT_OBSERVER_H_
