#include "viz/model/replay_session.h"

#include <algorithm>

#include "core/pool/pool.h"
#include "replay/event_source.h"
#include "replay/gc_subject.h"
#include "replay/policy_spec.h"
#include "replay/subjects.h"

namespace viz {

// Hands the engine batches of at most target - delivered events, waiting
// while there are none to give.
class ReplaySession::GatedSource final : public replay::EventSource {
 public:
  explicit GatedSource(ReplaySession* session) : session_(*session) {}

  absl::Status Next(absl::Span<const replay::Event>* batch, std::uint64_t* first) override {
    *batch = {};
    std::unique_lock<std::mutex> lock(session_.mutex_);
    // Everything handed out before has been dispatched by now.
    session_.dispatched_ = delivered_;
    if (session_.goal_) session_.CheckGoal();
    session_.changed_.notify_all();
    if (offset_ == events_.size()) {
      lock.unlock();
      absl::Status s = session_.reader_->Next(&events_);
      lock.lock();
      offset_ = 0;
      if (!s.ok()) return s;
      if (events_.empty()) {
        session_.at_end_ = true;
        session_.goal_.reset();
        session_.changed_.notify_all();
        // Keep the heap for the map until the session ends.
        session_.parked_ = true;
        session_.changed_.wait(lock, [&] { return session_.stopping_; });
        session_.parked_ = false;
        return absl::OkStatus();
      }
    }
    session_.parked_ = true;
    session_.changed_.wait(lock,
                           [&] { return session_.stopping_ || session_.target_ > delivered_; });
    session_.parked_ = false;
    if (session_.stopping_) return absl::CancelledError("the session ended");
    const std::size_t n = static_cast<std::size_t>(
        std::min<std::uint64_t>(events_.size() - offset_, session_.target_ - delivered_));
    *batch = absl::MakeConstSpan(events_).subspan(offset_, n);
    *first = delivered_;
    session_.timeline_.SetEvent(delivered_);
    session_.last_kind_ = replay::EventKindName(events_[offset_ + n - 1].kind);
    offset_ += n;
    delivered_ += n;
    return absl::OkStatus();
  }
  const std::string& name() const override { return session_.trace_; }

 private:
  ReplaySession& session_;
  std::vector<replay::Event> events_;
  std::size_t offset_ = 0;
  std::uint64_t delivered_ = 0;
};

ReplaySession::ReplaySession(std::string trace, std::string policy)
    : trace_(std::move(trace)), policy_(std::move(policy)) {}

absl::StatusOr<std::unique_ptr<ReplaySession>> ReplaySession::Start(const std::string& trace,
                                                                    const std::string& policy) {
  absl::StatusOr<replay::PolicySpec> spec = replay::PolicySpec::Parse(policy);
  if (!spec.ok()) return spec.status();
  std::unique_ptr<ReplaySession> session(new ReplaySession(trace, policy));
  absl::StatusOr<std::unique_ptr<replay::Subject>> subject = replay::MakeSubject(*spec);
  if (!subject.ok()) return subject.status();
  session->subject_ = *std::move(subject);
  session->subject_->AttachObserver(&session->timeline_);
  absl::StatusOr<std::unique_ptr<replay::TraceReader>> reader = replay::TraceReader::Open(trace);
  if (!reader.ok()) return reader.status();
  session->reader_ = *std::move(reader);
  session->source_ = std::make_unique<GatedSource>(session.get());
  session->thread_ = std::thread([s = session.get()] { s->Run(); });
  return session;
}

void ReplaySession::CheckGoal() {
  const std::uint64_t now =
      *goal_ == StepGoal::kCollectionEnd ? timeline_.finished() : timeline_.changes();
  if (now > goal_mark_) {
    target_ = dispatched_;  // Met: stop here.
    goal_.reset();
  } else {
    target_ = std::max(target_, dispatched_ + 1);  // One more event.
  }
}

void ReplaySession::Run() {
  replay::EngineOptions options;
  options.on_pause = [this](std::uint64_t event, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    pauses_.push_back(Pause{event, seconds});
  };
  options.on_sample = [this](std::uint64_t event, std::uint64_t live, std::uint64_t footprint) {
    std::lock_guard<std::mutex> lock(mutex_);
    chart_.push_back(Point{event, live, footprint});
    if (chart_.size() >= 2000) {
      // The engine samples half as often now; keep every other point.
      std::size_t kept = 0;
      for (std::size_t i = 0; i < chart_.size(); i += 2) chart_[kept++] = chart_[i];
      chart_.resize(kept);
    }
  };
  {
    std::lock_guard<std::mutex> lock(mutex_);
    engine_ = std::make_unique<replay::Engine>(subject_.get(), options);
  }
  absl::Status status = engine_->Replay(*source_, &result_);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!stopping_) status_ = status;
  stopped_ = true;
  parked_ = true;  // Nothing runs in the heap any more.
  goal_.reset();
  changed_.notify_all();
}

ReplaySession::~ReplaySession() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void ReplaySession::AdvanceTo(std::uint64_t event) {
  std::lock_guard<std::mutex> lock(mutex_);
  target_ = std::max(target_, event);
  changed_.notify_all();
}

std::uint64_t ReplaySession::target() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return target_;
}

void ReplaySession::StepUntil(StepGoal goal) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (at_end_ || stopped_) return;
  goal_ = goal;
  goal_mark_ = goal == StepGoal::kCollectionEnd ? timeline_.finished() : timeline_.changes();
  target_ = dispatched_ + 1;  // Then one event at a time (CheckGoal).
  changed_.notify_all();
}

bool ReplaySession::stepping() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return goal_.has_value();
}

std::vector<ReplaySession::Pause> ReplaySession::Pauses() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pauses_;
}

std::optional<ReplaySession::HeapView> ReplaySession::Inspect() const {
  std::lock_guard<std::mutex> lock(mutex_);
  // Parked, the replay thread cannot go on without this lock.
  if (!parked_ || engine_ == nullptr) return std::nullopt;
  HeapView view{dispatched_, last_kind_, engine_->LiveBytes(), timeline_.phase(), {}, {}, {}, {}};
  if (const core::Arena* arena = subject_->arena()) {
    std::vector<const core::Pool*> pools;
    arena->WalkSegments([&](const core::Segment& segment) {
      if (segment.pool != nullptr &&
          std::find(pools.begin(), pools.end(), segment.pool) == pools.end()) {
        pools.push_back(segment.pool);
      }
      return true;
    });
    for (const core::Pool* pool : pools) {
      pool->WalkBlocks([&](core::Range run, bool allocated) {
        if (!allocated) view.free_blocks.push_back(run);
        return true;
      });
    }
    subject_->WalkCachedBlocks([&](core::Range block) {
      view.cached_blocks.push_back(block);
      return true;
    });
    for (std::vector<core::Range>* blocks : {&view.free_blocks, &view.cached_blocks}) {
      std::sort(blocks->begin(), blocks->end(),
                [](core::Range a, core::Range b) { return a.base < b.base; });
    }
  }
  if (const replay::GcSubject* gc = subject_->AsGc()) {
    gc->WalkTraceColors([&](core::Range run, core::gc::TraceColor color) {
      view.colors.push_back({run, color});
    });
    view.generations = gc->GenerationSizes();
  }
  return view;
}

std::optional<ReplaySession::ObjectInfo> ReplaySession::FindObject(core::Addr a) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!parked_ || engine_ == nullptr) return std::nullopt;
  if (const replay::GcSubject* gc = subject_->AsGc()) {
    const std::optional<replay::GcSubject::HeapObject> o = gc->ObjectAt(a);
    if (!o) return std::nullopt;
    return ObjectInfo{o->id, o->base, o->bytes, o->forwarded_to, o->generation};
  }
  const std::optional<replay::LiveBlock> block = engine_->FindBlock(a);
  if (!block) return std::nullopt;
  return ObjectInfo{block->id, reinterpret_cast<core::Addr>(block->p), block->size, 0, -1};
}

bool ReplaySession::WaitUntil(std::uint64_t event, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return dispatched_ >= event || at_end_ || stopped_;
  }) && dispatched_ >= event;
}

std::uint64_t ReplaySession::position() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dispatched_;
}

bool ReplaySession::at_end() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return at_end_ || stopped_;
}

std::vector<ReplaySession::Point> ReplaySession::Chart() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return chart_;
}

absl::Status ReplaySession::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

}  // namespace viz
