#include "tests/util/seed.h"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace testing_util {

std::uint64_t TestSeed() {
  std::uint64_t seed;
  if (const char* text = std::getenv("TEST_SEED"); text != nullptr && *text != '\0') {
    seed = std::strtoull(text, nullptr, 0);
  } else {
    std::random_device device;
    seed = (std::uint64_t{device()} << 32) | device();
  }
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::fprintf(stderr, "%s.%s: seed=%llu (rerun with --test_env=TEST_SEED=%llu)\n",
               info ? info->test_suite_name() : "?", info ? info->name() : "?",
               static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

}  // namespace testing_util
