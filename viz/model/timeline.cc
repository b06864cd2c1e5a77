#include "viz/model/timeline.h"

namespace viz {

void CollectionTimeline::OnCollectionPhase(const core::Pool*, std::uint64_t collection,
                                           core::gc::Phase phase) {
  const std::uint64_t event = event_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mutex_);
  // The open phase ends where the next one (or idle) begins.
  if (open_) spans_.back().end_event = event;
  open_ = phase != core::gc::Phase::kIdle;
  if (!open_) {
    ++finished_;
    return;
  }
  spans_.push_back(PhaseSpan{collection, phase, event, event});
}

std::vector<PhaseSpan> CollectionTimeline::Spans() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return spans_;
}

std::uint64_t CollectionTimeline::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_;
}

std::uint64_t CollectionTimeline::changes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return spans_.size() + finished_;
}

core::gc::Phase CollectionTimeline::phase() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return open_ ? spans_.back().phase : core::gc::Phase::kIdle;
}

Rgb ColorOf(core::gc::Phase phase) {
  switch (phase) {
    case core::gc::Phase::kIdle:
      return {60, 60, 60};
    case core::gc::Phase::kCondemn:
      return {231, 76, 60};  // Red, as from-space.
    case core::gc::Phase::kScanRoots:
      return {241, 196, 15};
    case core::gc::Phase::kScanGrey:
      return {149, 165, 166};  // Grey.
    case core::gc::Phase::kReclaim:
      return {46, 204, 113};
  }
  return {255, 0, 255};
}

}  // namespace viz
