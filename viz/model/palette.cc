#include "viz/model/palette.h"

namespace viz {

Rgb ColorOf(core::SegmentType type, bool committed) {
  using core::SegmentType;
  switch (type) {
    case SegmentType::kFree:
      return committed ? Rgb{70, 70, 78} : Rgb{40, 40, 46};
    case SegmentType::kArenaControl:
      return {96, 112, 134};  // Slate: apart from the collector's grey.
    case SegmentType::kManualFixed:
      return {66, 135, 245};  // Blue.
    case SegmentType::kManualVariable:
      return {46, 204, 113};  // Green.
    case SegmentType::kManualNodeSlice:
      return {26, 188, 156};  // Teal.
    case SegmentType::kNursery:
      return {241, 196, 15};  // Yellow.
    case SegmentType::kGeneration:
      return {230, 126, 34};  // Orange.
    case SegmentType::kFromSpace:
      return {231, 76, 60};  // Red.
    case SegmentType::kToSpace:
      return {155, 89, 182};  // Purple.
    case SegmentType::kCopyReserve:
      return {96, 62, 116};  // Dim purple: to-space waiting.
    case SegmentType::kLargeObject:
      return {236, 112, 160};  // Pink.
    case SegmentType::kMarkSweep:
      return {52, 152, 219};  // Light blue.
    case SegmentType::kStatic:
      return {189, 195, 199};
    case SegmentType::kStack:
      return {127, 140, 141};
  }
  return {255, 0, 255};
}

Rgb ColorOf(core::gc::TraceColor color) {
  switch (color) {
    case core::gc::TraceColor::kCondemned:
      return {250, 246, 235};
    case core::gc::TraceColor::kForwarded:
      return {150, 30, 30};
    case core::gc::TraceColor::kGrey:
      return {150, 150, 150};
    case core::gc::TraceColor::kBlack:
      return {4, 4, 4};
  }
  return {255, 0, 255};
}

}  // namespace viz
