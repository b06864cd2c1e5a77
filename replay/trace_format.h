// Constants and helpers shared by the trace reader, writer and text form
// (internal to //replay:trace_io). The format is described in
// traces/FORMAT.md.
#ifndef REPLAY_TRACE_FORMAT_H_
#define REPLAY_TRACE_FORMAT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "replay/event.h"
#include "replay/trace_io.h"
#include "traces/trace.pb.h"

namespace replay::internal {

// "WBTRACE" then the format version byte.
inline constexpr char kMagic[7] = {'W', 'B', 'T', 'R', 'A', 'C', 'E'};
inline constexpr std::size_t kMagicSize = 8;
inline constexpr std::uint32_t kFormatVersion = 1;

enum RecordType : std::uint8_t {
  kHeaderRecord = 1,
  kChunkRecord = 2,
  kFooterRecord = 3,
};
const char* RecordTypeName(int type);  // "header", "chunk", "footer", "unknown".

// Sizes, slots and alignments above this are rejected: no real allocation is
// larger than 256 TiB (x86-64 and AArch64 user space are at most 2^47 bytes).
inline constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 48;
// Record payloads above this are rejected before any allocation.
inline constexpr std::uint64_t kMaxRecordPayload = std::uint64_t{256} << 20;
// Writers cap chunks at this many events, so a chunk stays below
// kMaxRecordPayload (at most ~70 bytes per event).
inline constexpr std::size_t kMaxEventsPerChunk = std::size_t{1} << 20;

// What is wrong with `event` (without file or index), or "" if nothing is:
// unknown kind or flavour, a field the kind does not use set, an alignment
// that is not a power of two, a size above kMaxSize.
std::string EventProblem(const Event& event);

// The totals a footer carries, accumulated event by event.
struct Totals {
  std::uint64_t event_count = 0;
  std::uint64_t chunk_count = 0;
  std::array<std::uint64_t, kEventKindCount> per_kind{};
  std::uint64_t bytes_allocated = 0;

  void Add(const Event& event);
  traces::TraceFooter ToFooter() const;
};

void AppendVarint(std::string* out, std::uint64_t value);

// A reader over bytes in memory (`name` stands for the path in messages):
// for fuzzing and tests.
absl::StatusOr<std::unique_ptr<TraceReader>> OpenTraceReaderFromMemory(const std::string& name,
                                                                       std::string bytes);

}  // namespace replay::internal

#endif  // REPLAY_TRACE_FORMAT_H_
