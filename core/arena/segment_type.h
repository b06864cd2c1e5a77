// What each grain of an arena is used for. These follow MLWorks' space and
// block types and MPS's segment kinds; they are what the visualizer colours,
// so a new type is added here and nowhere else.
#ifndef CORE_ARENA_SEGMENT_TYPE_H_
#define CORE_ARENA_SEGMENT_TYPE_H_

#include <cstdint>
#include <ostream>

namespace core {

enum class SegmentType : std::uint8_t {
  kFree,             // Not allocated to any pool (committed or not).
  kArenaControl,     // The arena's own tables: grain map, land nodes.
  kManualFixed,      // MFS: fixed-size units.
  kManualVariable,   // MVFF: variable-size blocks.
  kManualNodeSlice,  // NodeSlice: nodes carved into slices.
  kNursery,          // GC: the youngest generation, being allocated into.
  kGeneration,       // GC: an older generation.
  kFromSpace,        // GC: condemned memory being evacuated.
  kToSpace,          // GC: survivors copied during a collection.
  kCopyReserve,      // GC: idle to-space kept warm for the next collection.
  kLargeObject,      // GC: non-moving large-object segments.
  kMarkSweep,        // GC: non-moving mark-sweep segments.
  kStatic,           // Static data never collected (MLWorks' static space).
  kStack,            // Stack or root area.
};

inline constexpr int kSegmentTypeCount = static_cast<int>(SegmentType::kStack) + 1;

// A short lower-case name ("manual-fixed"), stable for CSV/JSON output.
const char* SegmentTypeName(SegmentType type);

std::ostream& operator<<(std::ostream& os, SegmentType type);

}  // namespace core

#endif  // CORE_ARENA_SEGMENT_TYPE_H_
