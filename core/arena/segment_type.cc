#include "core/arena/segment_type.h"

namespace core {

const char* SegmentTypeName(SegmentType type) {
  switch (type) {
    case SegmentType::kFree:
      return "free";
    case SegmentType::kArenaControl:
      return "arena-control";
    case SegmentType::kManualFixed:
      return "manual-fixed";
    case SegmentType::kManualVariable:
      return "manual-variable";
    case SegmentType::kManualNodeSlice:
      return "manual-node-slice";
    case SegmentType::kNursery:
      return "nursery";
    case SegmentType::kGeneration:
      return "generation";
    case SegmentType::kFromSpace:
      return "from-space";
    case SegmentType::kToSpace:
      return "to-space";
    case SegmentType::kCopyReserve:
      return "copy-reserve";
    case SegmentType::kLargeObject:
      return "large-object";
    case SegmentType::kMarkSweep:
      return "mark-sweep";
    case SegmentType::kStatic:
      return "static";
    case SegmentType::kStack:
      return "stack";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, SegmentType type) { return os << SegmentTypeName(type); }

}  // namespace core
