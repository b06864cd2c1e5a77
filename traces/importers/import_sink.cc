#include "traces/importers/import_sink.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "replay/trace_format.h"

namespace traces {
namespace {

constexpr std::size_t kMaxReportedErrors = 10;  // As ImportTextTrace.

// The length of the valid UTF-8 sequence at s[i], or 0 (overlong forms,
// surrogates and code points above U+10FFFF are invalid).
std::size_t Utf8Length(const std::string& s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // Bounds of the second byte.
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

// Protobuf strings must be UTF-8, but command lines and paths are bytes:
// invalid bytes are written as "\xNN".
void MakeUtf8(std::string* s) {
  std::string out;
  for (std::size_t i = 0; i < s->size();) {
    const std::size_t n = Utf8Length(*s, i);
    if (n == 0) {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>((*s)[i]), absl::kZeroPad2));
      ++i;
    } else {
      out.append(*s, i, n);
      i += n;
    }
  }
  *s = std::move(out);
}

void MakeUtf8(TraceHeader* header) {
  MakeUtf8(header->mutable_program());
  MakeUtf8(header->mutable_capture_tool());
  for (std::string& arg : *header->mutable_command_line()) MakeUtf8(&arg);
  for (std::string& note : *header->mutable_notes()) MakeUtf8(&note);
  for (ThreadInfo& thread : *header->mutable_threads()) MakeUtf8(thread.mutable_name());
}

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
  MakeUtf8(&header_);
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
