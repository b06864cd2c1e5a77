#include "tests/replay/fuzz/trace_reader_fuzz.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "replay/trace_format.h"
#include "replay/trace_io.h"

namespace replay_fuzz {
namespace {

void Check(bool ok, const char* what, const absl::Status& status) {
  if (ok) return;
  std::fprintf(stderr, "trace reader fuzz: %s: %s\n", what, status.ToString().c_str());
  std::abort();
}

void CheckError(const absl::Status& status) {
  Check(absl::StartsWith(status.message(), "fuzz.trace: "), "error does not name the file", status);
  Check(status.code() == absl::StatusCode::kInvalidArgument ||
            status.code() == absl::StatusCode::kDataLoss,
        "unexpected status code", status);
}

}  // namespace

long ReadTraceForFuzzing(const std::uint8_t* data, std::size_t size) {
  auto reader = replay::internal::OpenTraceReaderFromMemory(
      "fuzz.trace", std::string(reinterpret_cast<const char*>(data), size));
  if (!reader.ok()) {
    CheckError(reader.status());
    return -1;
  }
  std::vector<replay::Event> batch;
  std::uint64_t count = 0;
  while (true) {
    const absl::Status status = (*reader)->Next(&batch);
    if (!status.ok()) {
      CheckError(status);
      Check(batch.empty(), "a failed Next() left events in the batch", status);
      return -1;
    }
    if (batch.empty()) break;
    for (const replay::Event& event : batch) {
      Check(replay::internal::EventProblem(event).empty(), "an invalid event got through",
            absl::OkStatus());
    }
    count += batch.size();
    Check((*reader)->events_read() == count, "events_read() is off", absl::OkStatus());
  }
  return static_cast<long>(count);
}

}  // namespace replay_fuzz
