// What every line-based importer shares: the output writer (opened at the
// first event, so the header can be filled from the input's first lines),
// strict or lenient handling of bad lines, and removing the output on error.
#ifndef TRACES_IMPORTERS_IMPORT_SINK_H_
#define TRACES_IMPORTERS_IMPORT_SINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "replay/event.h"
#include "replay/trace_io.h"
#include "traces/importers/importer.h"
#include "traces/importers/line_reader.h"
#include "traces/trace.pb.h"

namespace traces {

class ImportSink {
 public:
  // `stats` may be null.
  ImportSink(std::string in_path, std::string out_path, bool lenient, ImportStats* stats);
  ~ImportSink();

  // Filled by the importer before the first Write.
  TraceHeader& header() { return header_; }
  // A bad line: strict, the error "IN: line N: what"; lenient, counted and OK.
  absl::Status Bad(std::uint64_t line, absl::string_view what);
  // Checks the event (a problem is Bad at `line`) and writes it.
  absl::Status Write(std::uint64_t line, const replay::Event& event);
  // Records that a line was read.
  void CountLine() { ++stats_->lines; }
  // Closes the output when `status` is OK (and returns the close status);
  // otherwise removes it and returns `status`.
  absl::Status Finish(absl::Status status);

 private:
  // Opens the output with the header (made valid UTF-8) if not yet open.
  absl::Status OpenWriter();

  std::string in_path_;
  std::string out_path_;
  bool lenient_;
  ImportStats local_stats_;
  ImportStats* stats_;
  TraceHeader header_;
  std::unique_ptr<replay::TraceWriter> writer_;
};

// An importer's read loop: each line of `reader` is counted, its number
// put in *line (for the importer's messages), and handed to `handle`,
// which returns a status; the first error ends the loop.
template <typename F>
absl::Status ForEachLine(LineReader& reader, ImportSink& sink, std::uint64_t* line, F handle) {
  std::string text;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&text);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    sink.CountLine();
    *line = reader.line_number();
    if (absl::Status s = handle(text); !s.ok()) return s;
  }
}

// The whole of a line-by-line importer: opens `in_path` (plain, gzip or
// zstd), names the capture tool and the input in the header, runs
// `Importer(reader, sink).Run()`, and closes or removes the output.
template <typename Importer>
absl::Status ImportLines(const std::string& in_path, const std::string& out_path, bool lenient,
                         ImportStats* stats, const std::string& capture_tool,
                         const std::vector<std::string>& notes = {}) {
  ImportSink sink(in_path, out_path, lenient, stats);
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(in_path);
  if (!reader.ok()) return sink.Finish(reader.status());
  sink.header().set_capture_tool(capture_tool);
  sink.header().add_notes("imported from " + in_path);
  for (const std::string& note : notes) sink.header().add_notes(note);
  Importer importer(**reader, sink);
  return sink.Finish(importer.Run());
}

}  // namespace traces

#endif  // TRACES_IMPORTERS_IMPORT_SINK_H_
