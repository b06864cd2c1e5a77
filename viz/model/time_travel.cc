#include "viz/model/time_travel.h"

#include <algorithm>

namespace viz {

absl::StatusOr<std::unique_ptr<TimeTravel>> TimeTravel::Start(const std::string& trace,
                                                              const std::string& policy,
                                                              TimeTravelOptions options) {
  options.interval = std::max<std::uint64_t>(options.interval, 1);
  std::unique_ptr<TimeTravel> travel(new TimeTravel(trace, policy, options));
  absl::StatusOr<std::unique_ptr<ReplaySession>> live = ReplaySession::Start(trace, policy);
  if (!live.ok()) return live.status();
  travel->live_ = *std::move(live);
  return travel;
}

absl::StatusOr<std::uint64_t> TimeTravel::Seek(std::uint64_t event) {
  // A replay can only go forward: of those not headed past `event`, the
  // one furthest along.
  ReplaySession* best = live_->target() <= event ? live_.get() : nullptr;
  auto best_checkpoint = checkpoints_.end();
  for (auto it = checkpoints_.begin(); it != checkpoints_.end(); ++it) {
    if ((*it)->target() > event) continue;
    if (best == nullptr || (*it)->position() > best->position()) {
      best = it->get();
      best_checkpoint = it;
    }
  }
  if (best_checkpoint != checkpoints_.end()) {
    live_ = std::move(*best_checkpoint);
    checkpoints_.erase(best_checkpoint);
  } else if (best == nullptr) {
    absl::StatusOr<std::unique_ptr<ReplaySession>> fresh = ReplaySession::Start(trace_, policy_);
    if (!fresh.ok()) return fresh.status();
    live_ = *std::move(fresh);
  }
  const std::uint64_t from = live_->position();
  live_->AdvanceTo(event);
  return from;
}

absl::Status TimeTravel::Maintain() {
  const std::uint64_t at = live_->position();
  // The latest multiples of the interval at or behind the replay shown.
  std::vector<std::uint64_t> wanted;
  for (std::uint64_t c = at / options_.interval * options_.interval;
       c > 0 && wanted.size() < options_.max_checkpoints; c -= options_.interval) {
    wanted.push_back(c);
  }
  std::erase_if(checkpoints_, [&](const std::unique_ptr<ReplaySession>& s) {
    return std::find(wanted.begin(), wanted.end(), s->target()) == wanted.end();
  });
  for (const auto& s : checkpoints_) {
    if (!IsBuilt(s->target())) return absl::OkStatus();  // One at a time.
  }
  for (std::uint64_t c : wanted) {
    const bool have = std::any_of(checkpoints_.begin(), checkpoints_.end(),
                                  [c](const auto& s) { return s->target() == c; });
    if (have) continue;
    absl::StatusOr<std::unique_ptr<ReplaySession>> s = ReplaySession::Start(trace_, policy_);
    if (!s.ok()) return s.status();
    (*s)->AdvanceTo(c);
    checkpoints_.push_back(*std::move(s));
    break;
  }
  return absl::OkStatus();
}

std::vector<std::uint64_t> TimeTravel::checkpoints() const {
  std::vector<std::uint64_t> events;
  for (const auto& s : checkpoints_) events.push_back(s->target());
  std::sort(events.begin(), events.end());
  return events;
}

bool TimeTravel::IsBuilt(std::uint64_t event) const {
  for (const auto& s : checkpoints_) {
    if (s->target() == event) return s->position() >= event || s->at_end();
  }
  return false;
}

}  // namespace viz
