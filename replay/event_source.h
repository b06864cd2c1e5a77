// Where the engine's events come from: a trace file read in this process,
// or (in a replay child) a pipe from the parent that decodes the file, so
// the child's heap holds nothing but what the allocator under test puts
// there.
#ifndef REPLAY_EVENT_SOURCE_H_
#define REPLAY_EVENT_SOURCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "replay/event.h"
#include "replay/trace_io.h"

namespace replay {

class EventSource {
 public:
  virtual ~EventSource() = default;
  // The next batch of events, valid until the next call, and the index of
  // its first event in the trace. An empty batch means the end.
  virtual absl::Status Next(absl::Span<const Event>* batch, std::uint64_t* first) = 0;
  // The trace's file name, for messages.
  virtual const std::string& name() const = 0;
};

// Events straight from a trace file.
class TraceReaderSource final : public EventSource {
 public:
  explicit TraceReaderSource(TraceReader& reader) : reader_(reader) {}
  absl::Status Next(absl::Span<const Event>* batch, std::uint64_t* first) override {
    absl::Status status = reader_.Next(&batch_);
    *first = reader_.events_read() - batch_.size();
    *batch = batch_;
    return status;
  }
  const std::string& name() const override { return reader_.path(); }

 private:
  TraceReader& reader_;
  std::vector<Event> batch_;
};

}  // namespace replay

#endif  // REPLAY_EVENT_SOURCE_H_
