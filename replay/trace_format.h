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
// A reference slot of a GC object is one 64-bit word.
inline constexpr std::uint64_t kSlotBytes = 8;
// Record payloads above this are rejected before any allocation.
inline constexpr std::uint64_t kMaxRecordPayload = std::uint64_t{256} << 20;
// Writers cap chunks at this many events, so a chunk stays below
// kMaxRecordPayload (at most ~70 bytes per event).
inline constexpr std::size_t kMaxEventsPerChunk = std::size_t{1} << 20;

// Protobuf strings must be UTF-8, but command lines and paths are bytes:
// the writer writes invalid bytes in header strings as "\xNN".
void MakeHeaderUtf8(traces::TraceHeader* header);

// What can be wrong with one event on its own.
enum class EventDefect : std::uint8_t {
  kNone,
  kUnknownKind,
  kUnknownFlavour,
  kUnusedId,  // A field the kind does not use is set...
  kUnusedNewId,
  kUnusedSize,
  kUnusedAlignment,
  kUnusedFlavour,  // ...or a flavour on a kind that is not an ALLOC.
  kSizeTooLarge,   // Above kMaxSize.
  kAlignmentNotPowerOfTwo,
  kAlignmentTooLarge,
  kUnusedSlots,      // Reference slots on a kind that is not an ALLOC.
  kSlotsExceedSize,  // An ALLOC whose slots * 8 bytes do not fit in its size.
};

// The check, cheap enough for every event a reader decodes.
inline EventDefect FindEventDefect(const Event& event) {
  const auto kind = static_cast<unsigned>(event.kind);
  if (kind >= kEventKindCount) return EventDefect::kUnknownKind;
  if (static_cast<unsigned>(event.flavour) >= kFlavourCount) return EventDefect::kUnknownFlavour;
  const bool alloc = event.kind == EventKind::kAlloc;
  const bool realloc_or_store =
      event.kind == EventKind::kRealloc || event.kind == EventKind::kStore;
  if (event.kind == EventKind::kCollect && event.id != 0) return EventDefect::kUnusedId;
  if (!realloc_or_store && event.new_id != 0) return EventDefect::kUnusedNewId;
  if (!alloc && !realloc_or_store && event.size != 0) return EventDefect::kUnusedSize;
  if (!alloc && event.alignment != 0) return EventDefect::kUnusedAlignment;
  if (!alloc && event.flavour != Flavour::kMalloc) return EventDefect::kUnusedFlavour;
  if (!alloc && event.slots != 0) return EventDefect::kUnusedSlots;
  if (event.size > kMaxSize) return EventDefect::kSizeTooLarge;
  if ((event.alignment & (event.alignment - 1)) != 0) return EventDefect::kAlignmentNotPowerOfTwo;
  if (event.alignment > kMaxSize) return EventDefect::kAlignmentTooLarge;
  // Slots are 8-byte words at the start of the object.
  if (std::uint64_t{event.slots} * kSlotBytes > event.size) return EventDefect::kSlotsExceedSize;
  return EventDefect::kNone;
}

// The defect of `event` in words (without file or index).
std::string DescribeEventDefect(EventDefect defect, const Event& event);

// What is wrong with `event` (without file or index), or "" if nothing is:
// unknown kind or flavour, a field the kind does not use set, an alignment
// that is not a power of two, a size above kMaxSize.
inline std::string EventProblem(const Event& event) {
  const EventDefect defect = FindEventDefect(event);
  return defect == EventDefect::kNone ? std::string() : DescribeEventDefect(defect, event);
}

// The totals a footer carries, accumulated event by event.
struct Totals {
  std::uint64_t event_count = 0;
  std::uint64_t chunk_count = 0;
  std::array<std::uint64_t, kEventKindCount> per_kind{};
  std::uint64_t bytes_allocated = 0;

  void Merge(const Totals& other) {
    event_count += other.event_count;
    chunk_count += other.chunk_count;
    for (int k = 0; k < kEventKindCount; ++k) per_kind[k] += other.per_kind[k];
    bytes_allocated += other.bytes_allocated;
  }
  // Inline: the reader adds every event it decodes.
  void Add(const Event& event) {
    ++event_count;
    ++per_kind[static_cast<int>(event.kind)];
    if (event.kind == EventKind::kAlloc || event.kind == EventKind::kRealloc) {
      bytes_allocated += event.size;
    }
  }
  traces::TraceFooter ToFooter() const;
};

void AppendVarint(std::string* out, std::uint64_t value);

// Whether readers unpack varints with BMI2's pext (where it is fast), and
// whether this CPU has it at all: tests check both decoders.
bool& UsePext();
bool PextAvailable();

// A reader over bytes in memory (`name` stands for the path in messages):
// for fuzzing and tests.
absl::StatusOr<std::unique_ptr<TraceReader>> OpenTraceReaderFromMemory(const std::string& name,
                                                                       std::string bytes);

}  // namespace replay::internal

#endif  // REPLAY_TRACE_FORMAT_H_
