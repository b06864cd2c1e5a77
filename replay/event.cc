#include "replay/event.h"

namespace replay {

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kAlloc:
      return "alloc";
    case EventKind::kFree:
      return "free";
    case EventKind::kRealloc:
      return "realloc";
    case EventKind::kStore:
      return "store";
    case EventKind::kRootAdd:
      return "root-add";
    case EventKind::kRootRemove:
      return "root-remove";
    case EventKind::kDeath:
      return "death";
    case EventKind::kCollect:
      return "collect";
  }
  return "unknown-kind";
}

const char* FlavourName(Flavour flavour) {
  switch (flavour) {
    case Flavour::kMalloc:
      return "malloc";
    case Flavour::kCalloc:
      return "calloc";
    case Flavour::kNew:
      return "new";
    case Flavour::kNewArray:
      return "new[]";
    case Flavour::kMemalign:
      return "memalign";
    case Flavour::kAlignedAlloc:
      return "aligned_alloc";
    case Flavour::kPosixMemalign:
      return "posix_memalign";
    case Flavour::kValloc:
      return "valloc";
    case Flavour::kPvalloc:
      return "pvalloc";
    case Flavour::kRealloc:
      return "realloc";
  }
  return "unknown-flavour";
}

// The text-trace line for the event (traces/FORMAT.md), e.g.
// "alloc 17 64 align=16 flavour=calloc thread=2 t=1200".
std::ostream& operator<<(std::ostream& os, const Event& event) {
  const int kind = static_cast<int>(event.kind);
  if (kind >= kEventKindCount) return os << "unknown-kind(" << kind << ")";
  os << EventKindName(event.kind);
  switch (event.kind) {
    case EventKind::kAlloc:
      os << ' ' << event.id << ' ' << event.size;
      if (event.slots != 0) os << " slots=" << event.slots;
      break;
    case EventKind::kRealloc:
    case EventKind::kStore:
      os << ' ' << event.id << ' '
         << (event.kind == EventKind::kRealloc ? event.new_id : event.size) << ' '
         << (event.kind == EventKind::kRealloc ? event.size : event.new_id);
      break;
    case EventKind::kFree:
    case EventKind::kRootAdd:
    case EventKind::kRootRemove:
    case EventKind::kDeath:
      os << ' ' << event.id;
      break;
    case EventKind::kCollect:
      break;
  }
  if (event.alignment != 0) os << " align=" << event.alignment;
  if (event.flavour != Flavour::kMalloc) {
    if (static_cast<int>(event.flavour) < kFlavourCount) {
      os << " flavour=" << FlavourName(event.flavour);
    } else {
      os << " flavour=" << static_cast<int>(event.flavour);
    }
  }
  if (event.thread != 0) os << " thread=" << event.thread;
  if (event.time_ns != 0) os << " t=" << event.time_ns;
  if (event.site != 0) os << " site=" << event.site;
  if (event.pool_hint != 0) os << " hint=" << event.pool_hint;
  // Only alloc has slots; shown anyway so that a defective event is visible.
  if (event.slots != 0 && event.kind != EventKind::kAlloc) os << " slots=" << event.slots;
  return os;
}

}  // namespace replay
