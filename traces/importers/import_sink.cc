#include "traces/importers/import_sink.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "replay/trace_format.h"

namespace traces {
namespace {

constexpr std::size_t kMaxReportedErrors = 10;  // As ImportTextTrace.

}  // namespace

ImportSink::ImportSink(std::string in_path, std::string out_path, bool lenient, ImportStats* stats)
    : in_path_(std::move(in_path)),
      out_path_(std::move(out_path)),
      lenient_(lenient),
      stats_(stats != nullptr ? stats : &local_stats_) {
  *stats_ = ImportStats();
  header_.set_format_version(replay::internal::kFormatVersion);
}

ImportSink::~ImportSink() {
  if (writer_ != nullptr) {  // Finish was not called: leave no half file.
    writer_.reset();
    std::remove(out_path_.c_str());
  }
}

absl::Status ImportSink::Bad(std::uint64_t line, absl::string_view what) {
  const std::string message = absl::StrCat(in_path_, ": line ", line, ": ", what);
  if (!lenient_) return absl::InvalidArgumentError(message);
  ++stats_->skipped_lines;
  if (stats_->first_errors.size() < kMaxReportedErrors) stats_->first_errors.push_back(message);
  return absl::OkStatus();
}

absl::Status ImportSink::Write(std::uint64_t line, const replay::Event& event) {
  if (std::string problem = replay::internal::EventProblem(event); !problem.empty()) {
    return Bad(line, problem);
  }
  if (absl::Status s = OpenWriter(); !s.ok()) return s;
  if (absl::Status s = writer_->Write(event); !s.ok()) return s;
  ++stats_->events;
  return absl::OkStatus();
}

absl::Status ImportSink::OpenWriter() {
  if (writer_ != nullptr) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<replay::TraceWriter>> writer =
      replay::TraceWriter::Open(out_path_, header_);
  if (!writer.ok()) return writer.status();
  writer_ = *std::move(writer);
  return absl::OkStatus();
}

absl::Status ImportSink::Finish(absl::Status status) {
  if (status.ok()) status = OpenWriter();  // No events: still a valid, empty trace.
  if (status.ok()) status = writer_->Close();
  if (!status.ok()) {
    writer_.reset();
    std::remove(out_path_.c_str());
    return status;
  }
  writer_.reset();
  return status;
}

}  // namespace traces
