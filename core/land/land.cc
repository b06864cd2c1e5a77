#include "core/land/land.h"

namespace core {

Range FindDeletePart(Range block, std::size_t size, FindDelete mode) {
  switch (mode) {
    case FindDelete::kNone:
    case FindDelete::kEntire:
      return block;
    case FindDelete::kLow:
      return {block.base, block.base + size};
    case FindDelete::kHigh:
      return {block.limit - size, block.limit};
  }
  return block;
}

}  // namespace core
