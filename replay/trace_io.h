// Streaming, versioned, validated trace files (format: traces/trace.proto
// and traces/FORMAT.md). A reader holds one chunk at a time, so a trace of
// any length replays in bounded memory. Every error names the file, the
// event index (or byte offset) and what was expected.
#ifndef REPLAY_TRACE_IO_H_
#define REPLAY_TRACE_IO_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay/event.h"
#include "replay/event_batch.h"
#include "traces/trace.pb.h"

namespace replay {

struct TraceWriterOptions {
  std::size_t events_per_chunk = 65536;
  bool compress = false;  // zstd over the whole stream (".trace.zst").
};

class TraceWriter {
 public:
  // Creates `path` and writes the header. `compress` defaults to true when
  // the path ends in ".zst".
  static absl::StatusOr<std::unique_ptr<TraceWriter>> Open(const std::string& path,
                                                           const traces::TraceHeader& header,
                                                           TraceWriterOptions options = {});
  virtual ~TraceWriter() = default;
  virtual absl::Status Write(const Event& event) = 0;
  // Flushes the last chunk, writes the footer with the totals, closes.
  virtual absl::Status Close() = 0;
};

class TraceReader {
 public:
  // Opens `path` (plain or zstd, detected from the content), reads and
  // checks the header.
  static absl::StatusOr<std::unique_ptr<TraceReader>> Open(const std::string& path);
  virtual ~TraceReader() = default;

  virtual const traces::TraceHeader& header() const = 0;
  // Replaces *batch with the next events (a few thousand, from one chunk);
  // an empty batch means the end, after the footer has been checked against
  // what was read.
  virtual absl::Status NextBatch(EventBatch* batch) = 0;
  // The same as rows.
  virtual absl::Status Next(std::vector<Event>* batch) = 0;
  // From the next batch on, leaves event times out (they read as 0): the
  // replay engine has no use for them, and decoding them costs.
  virtual void SkipTimes() = 0;
  // Index of the next event to be returned (events before it were read).
  virtual std::uint64_t events_read() const = 0;
  // How far through the file reading is, in [0, 1] (0 if unknown).
  virtual double fraction_read() const { return 0; }
  virtual const std::string& path() const = 0;
};

// The text form: one event per line, '#' comments, lossless both ways.
absl::Status WriteTextTrace(const std::string& in_path, const std::string& out_path);
// The same onto a stream (e.g. standard output).
absl::Status WriteTextTrace(const std::string& in_path, std::ostream& out);
// With `lenient`, lines that do not parse are skipped and counted, and a
// summary goes to stderr; otherwise the first one is the error. On error the
// output file is removed.
absl::Status ImportTextTrace(const std::string& in_path, const std::string& out_path, bool lenient);

// What ImportTextTrace did (added for callers that report it themselves).
struct TextImportStats {
  std::uint64_t lines = 0;                // Lines read.
  std::uint64_t events = 0;               // Events written.
  std::uint64_t skipped_lines = 0;        // Bad lines skipped (lenient only).
  std::vector<std::string> first_errors;  // The first (up to 10) skipped lines' errors.
};
// As above, but fills *stats (if not null) and prints nothing.
absl::Status ImportTextTrace(const std::string& in_path, const std::string& out_path, bool lenient,
                             TextImportStats* stats);

}  // namespace replay

#endif  // REPLAY_TRACE_IO_H_
