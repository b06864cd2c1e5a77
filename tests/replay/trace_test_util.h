// Helpers for the trace I/O tests: temporary paths, random valid events, and
// hand-built (possibly broken) trace files record by record.
#ifndef TESTS_REPLAY_TRACE_TEST_UTIL_H_
#define TESTS_REPLAY_TRACE_TEST_UTIL_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay/event.h"
#include "replay/trace_io.h"
#include "traces/trace.pb.h"

namespace replay_test {

// A fresh path under $TEST_TMPDIR (or /tmp).
std::string TempPath(const std::string& name);
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);

// A header with every field set.
traces::TraceHeader FullHeader();

// Single events, for tests that write small traces by hand.
replay::Event AllocEvent(std::uint64_t id, std::uint64_t size, std::uint64_t alignment = 0,
                         replay::Flavour flavour = replay::Flavour::kMalloc);
replay::Event FreeEvent(std::uint64_t id);
replay::Event ReallocEvent(std::uint64_t id, std::uint64_t new_id, std::uint64_t size);

// `count` random valid events of every kind, with random (also huge) fields.
std::vector<replay::Event> RandomEvents(std::mt19937_64& rng, std::size_t count);

absl::Status WriteTrace(const std::string& path, const traces::TraceHeader& header,
                        const std::vector<replay::Event>& events,
                        replay::TraceWriterOptions options = {});
// Every event of the trace at `path`, or the first error.
absl::StatusOr<std::vector<replay::Event>> ReadTrace(const std::string& path,
                                                     traces::TraceHeader* header = nullptr);

// Builds a trace file byte by byte: magic, then records with correct
// checksums around whatever payload the test wants.
class RawTrace {
 public:
  explicit RawTrace(int version = 1);
  RawTrace& Record(int type, const std::string& payload);
  RawTrace& Header(const traces::TraceHeader& header);
  RawTrace& Chunk(const traces::EventChunk& chunk);
  RawTrace& Footer(const traces::TraceFooter& footer);
  RawTrace& Raw(const std::string& bytes);
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// A full-column chunk holding `events`, starting at `first_event`.
traces::EventChunk MakeChunk(std::uint64_t first_event, const std::vector<replay::Event>& events);
// The footer a writer would write for these chunks.
traces::TraceFooter MakeFooter(const std::vector<replay::Event>& events, std::uint64_t chunks);

}  // namespace replay_test

#endif  // TESTS_REPLAY_TRACE_TEST_UTIL_H_
