// One trace event as the replay engine sees it: a small fixed struct that a
// reader fills from a trace chunk and the engine dispatches. The on-disk
// form is traces/trace.proto (columnar chunks); this is the decoded row.
#ifndef REPLAY_EVENT_H_
#define REPLAY_EVENT_H_

#include <cstdint>
#include <ostream>

namespace replay {

enum class EventKind : std::uint8_t {
  kAlloc = 0,    // id, size, alignment (0: the flavour's default), flavour.
  kFree = 1,     // id.
  kRealloc = 2,  // id (old), new_id, size (new).
  // Reserved for the garbage-collector traces (see traces/trace.proto).
  kStore = 3,       // id (source), size (slot), new_id (target, 0: null).
  kRootAdd = 4,     // id.
  kRootRemove = 5,  // id.
  kDeath = 6,       // id: an oracle's note that the object died; never frees.
  kCollect = 7,     // The program asked for a collection.
};
inline constexpr int kEventKindCount = 8;

// How a block was asked for, for faithful replay (calloc zeroes, memalign
// aligns) and for statistics.
enum class Flavour : std::uint8_t {
  kMalloc = 0,
  kCalloc = 1,
  kNew = 2,
  kNewArray = 3,
  kMemalign = 4,
  kAlignedAlloc = 5,
  kPosixMemalign = 6,
  kValloc = 7,
  kPvalloc = 8,
  kRealloc = 9,  // Recorded on the ALLOC that a realloc of null became.
};
inline constexpr int kFlavourCount = 10;

struct Event {
  EventKind kind = EventKind::kAlloc;
  Flavour flavour = Flavour::kMalloc;
  std::uint32_t thread = 0;
  std::uint64_t id = 0;
  std::uint64_t new_id = 0;     // REALLOC: the new id; STORE: the target.
  std::uint64_t size = 0;       // ALLOC, REALLOC: bytes; STORE: slot index.
  std::uint64_t alignment = 0;  // ALLOC: 0 or a power of two.
  std::uint64_t time_ns = 0;    // Since the start of the trace (absolute, decoded).
  std::uint32_t site = 0;       // Call-site index (0: unknown).
  std::uint32_t pool_hint = 0;  // Optional pool hint from the recorder (0: none).
  std::uint32_t slots = 0;      // ALLOC in GC traces: reference slots (see FORMAT.md).

  friend bool operator==(const Event&, const Event&) = default;
};

const char* EventKindName(EventKind kind);  // "alloc", "free", ...
const char* FlavourName(Flavour flavour);   // "malloc", "calloc", ...
std::ostream& operator<<(std::ostream& os, const Event& event);

}  // namespace replay

#endif  // REPLAY_EVENT_H_
