// Seeds for randomised tests: every randomised test prints the seed it uses
// and accepts one back, so a failure found once can be replayed exactly:
//   bazel test //tests/... --test_env=TEST_SEED=1234
#ifndef TESTS_UTIL_SEED_H_
#define TESTS_UTIL_SEED_H_

#include <cstdint>

namespace testing_util {

// The seed from the TEST_SEED environment variable, or a fresh one. Prints
// "seed=N" to stderr and records it as a test property either way.
std::uint64_t TestSeed();

}  // namespace testing_util

#endif  // TESTS_UTIL_SEED_H_
