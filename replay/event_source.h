// Where the engine's events come from: a trace file read in this process,
// or (in a replay child) a pipe from the parent that decodes the file, so
// the child's heap holds nothing but what the allocator under test puts
// there.
#ifndef REPLAY_EVENT_SOURCE_H_
#define REPLAY_EVENT_SOURCE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "replay/event.h"
#include "replay/event_batch.h"
#include "replay/trace_io.h"

namespace replay {

class EventSource {
 public:
  virtual ~EventSource() = default;
  // The next batch of events, valid until the next call, and the index of
  // its first event in the trace. An empty batch means the end.
  virtual absl::Status Next(absl::Span<const Event>* batch, std::uint64_t* first) = 0;
  // The same as columns, which is what the engine reads: sources that
  // decode columns hand them over; by default the rows are transposed.
  virtual absl::Status NextBatch(const EventBatch** batch) {
    absl::Span<const Event> rows;
    std::uint64_t first = 0;
    absl::Status status = Next(&rows, &first);
    columns_.AssignRows(first, rows);
    *batch = &columns_;
    return status;
  }
  // The trace's file name, for messages.
  virtual const std::string& name() const = 0;
  // Says that event times will not be read, so a source that decodes them
  // may stop (TraceReader::SkipTimes).
  virtual void SkipTimes() {}

 private:
  EventBatch columns_;  // The default NextBatch's.
};

// Told, after each batch read, how far through the file reading is and how
// many events have been read (for a progress bar).
using ProgressFn = std::function<void(double fraction, std::uint64_t events)>;

// Events straight from a trace file.
class TraceReaderSource final : public EventSource {
 public:
  explicit TraceReaderSource(TraceReader& reader, ProgressFn progress = {})
      : reader_(reader), progress_(std::move(progress)) {}
  absl::Status Next(absl::Span<const Event>* batch, std::uint64_t* first) override {
    absl::Status status = reader_.Next(&batch_);
    *first = reader_.events_read() - batch_.size();
    *batch = batch_;
    if (progress_) progress_(reader_.fraction_read(), reader_.events_read());
    return status;
  }
  absl::Status NextBatch(const EventBatch** batch) override {
    absl::Status status = reader_.NextBatch(&columns_);
    *batch = &columns_;
    if (progress_) progress_(reader_.fraction_read(), reader_.events_read());
    return status;
  }
  const std::string& name() const override { return reader_.path(); }
  void SkipTimes() override { reader_.SkipTimes(); }

 private:
  TraceReader& reader_;
  ProgressFn progress_;
  std::vector<Event> batch_;
  EventBatch columns_;
};

}  // namespace replay

#endif  // REPLAY_EVENT_SOURCE_H_
