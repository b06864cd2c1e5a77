// Helpers shared by the land tests.
#ifndef TESTS_CORE_LAND_LAND_TEST_UTIL_H_
#define TESTS_CORE_LAND_LAND_TEST_UTIL_H_

#include <vector>

#include "core/land/land.h"

namespace core {

// The land's blocks in address order.
inline std::vector<Range> BlocksOf(const Land& land) {
  std::vector<Range> blocks;
  land.Iterate([&blocks](Range r) {
    blocks.push_back(r);
    return true;
  });
  return blocks;
}

}  // namespace core

#endif  // TESTS_CORE_LAND_LAND_TEST_UTIL_H_
