// Decoded events over a pipe, from the parent (which reads the trace file)
// to a replay child (which only dispatches them), so that decoding buffers
// never land in the heap of the allocator under test. Both ends are the same
// build, so events travel as raw structs in frames:
//   batch: header{kBatch, first index, count} + count Events
//   error: header{kError, status code, message length} + message
//   end:   header{kEnd, 0, 0}
// A stream that stops without an end frame was cut short (the parent died).
#ifndef REPLAY_EVENT_PIPE_H_
#define REPLAY_EVENT_PIPE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "replay/event_source.h"
#include "replay/mmap_allocator.h"
#include "replay/trace_io.h"

namespace replay {

// Sends every event of `reader` to `fd`, then the end frame, or an error
// frame carrying the reader's error (which is also returned). Stops quietly
// with kCancelled if the other end closed (the child stopped early).
absl::Status SendEvents(TraceReader& reader, int fd, const ProgressFn& progress = {});

// Receives what SendEvents sent; the batch buffer comes from mmap.
class PipeEventSource final : public EventSource {
 public:
  PipeEventSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  absl::Status Next(absl::Span<const Event>* batch, std::uint64_t* first) override;
  const std::string& name() const override { return name_; }

 private:
  int fd_;
  std::string name_;
  bool ended_ = false;
  std::vector<Event, MmapAllocator<Event>> batch_;
};

}  // namespace replay

#endif  // REPLAY_EVENT_PIPE_H_
