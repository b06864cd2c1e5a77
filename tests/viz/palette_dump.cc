// Prints the map colour of every segment type ("name R G B"), of every
// trace colour ("color:name R G B") and of cached blocks ("cached R G B"),
// so that the
// screenshot test compares pixels with the palette the visualizer uses.
#include <cstdio>

#include "viz/model/palette.h"

int main() {
  for (int t = 0; t < core::kSegmentTypeCount; ++t) {
    const auto type = static_cast<core::SegmentType>(t);
    const viz::Rgb c = viz::ColorOf(type, true);
    std::printf("%s %d %d %d\n", core::SegmentTypeName(type), c.r, c.g, c.b);
  }
  for (int t = 0; t < core::gc::kTraceColorCount; ++t) {
    const auto color = static_cast<core::gc::TraceColor>(t);
    const viz::Rgb c = viz::ColorOf(color);
    std::printf("color:%s %d %d %d\n", core::gc::TraceColorName(color), c.r, c.g, c.b);
  }
  std::printf("cached %d %d %d\n", viz::kCachedColor.r, viz::kCachedColor.g, viz::kCachedColor.b);
}
