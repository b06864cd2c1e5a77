// The colours of the arena map: one per segment type (MLWorks' space and
// block types, MPS's segment kinds), shared by the map, its legend and the
// tests that check pixels.
#ifndef VIZ_MODEL_PALETTE_H_
#define VIZ_MODEL_PALETTE_H_

#include <cstdint>

#include "core/arena/segment_type.h"
#include "core/gc/phase.h"

namespace viz {

struct Rgb {
  std::uint8_t r, g, b;
  friend bool operator==(Rgb, Rgb) = default;
};

// The colour of a grain of `type`; free grains that are not committed
// (address space only) are darker than committed spare ones.
Rgb ColorOf(core::SegmentType type, bool committed);

// The colour of memory in a running collection: white, grey and black
// as in the tri-colour abstraction (white drawn a little warm, black a
// little lifted so that it shows on the dark background), forwarded red
// as evacuated from-space.
Rgb ColorOf(core::gc::TraceColor color);

// Blocks a segregated cache holds: allocated to the pool, free to the
// program. Tiles holding some are tinted towards it.
inline constexpr Rgb kCachedColor = {243, 156, 18};  // Amber.

// The window's background, between tiles.
inline constexpr Rgb kBackground = {24, 24, 28};

}  // namespace viz

#endif  // VIZ_MODEL_PALETTE_H_
