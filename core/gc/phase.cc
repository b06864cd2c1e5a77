#include "core/gc/phase.h"

namespace core::gc {

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kIdle:
      return "idle";
    case Phase::kCondemn:
      return "condemn";
    case Phase::kScanRoots:
      return "scan-roots";
    case Phase::kScanGrey:
      return "scan-grey";
    case Phase::kReclaim:
      return "reclaim";
  }
  return "unknown";
}

const char* TraceColorName(TraceColor color) {
  switch (color) {
    case TraceColor::kCondemned:
      return "condemned";
    case TraceColor::kForwarded:
      return "forwarded";
    case TraceColor::kGrey:
      return "grey";
    case TraceColor::kBlack:
      return "black";
  }
  return "unknown";
}

}  // namespace core::gc
