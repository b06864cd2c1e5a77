// The phases a collection passes through, for the observer and the
// visualizer's timeline (MPS's trace states, MLWorks' collector stages).
#ifndef CORE_GC_PHASE_H_
#define CORE_GC_PHASE_H_

#include <cstdint>

namespace core::gc {

enum class Phase : std::uint8_t {
  kIdle,       // No collection.
  kCondemn,    // Choosing what to collect; condemned segments become from-space.
  kScanRoots,  // Fixing the roots and the remembered set.
  kScanGrey,   // Scanning copied (grey) objects until none is left.
  kReclaim,    // Weak references, then from-space back to the arena.
};
inline constexpr int kPhaseCount = 5;

const char* PhaseName(Phase phase);  // "condemn", "scan-roots", ...

// How a running collection sees a piece of memory (the tri-colour
// abstraction, plus the evacuated state of a copying collector), for the
// visualizer. Memory the collection does not concern has no colour.
enum class TraceColor : std::uint8_t {
  kCondemned,  // White: condemned and not (yet) reached.
  kForwarded,  // Condemned, reached and copied: holds a forwarding pointer.
  kGrey,       // Reached, its references not yet scanned.
  kBlack,      // Reached and scanned.
};
inline constexpr int kTraceColorCount = 4;

const char* TraceColorName(TraceColor color);  // "condemned", "forwarded", ...

}  // namespace core::gc

#endif  // CORE_GC_PHASE_H_
