// A seeded random stress test for any pool (or anything allocating from
// one, such as a segregated cache), after MPS's mpmss: random sizes
// and lifetimes, a pattern written into every block and verified when it is
// freed (catching overlapping blocks), a reference model of live blocks
// that also rejects overlaps at allocation, and Check() every few steps.
#ifndef TESTS_CORE_POOLS_POOL_STRESS_H_
#define TESTS_CORE_POOLS_POOL_STRESS_H_

#include <cstddef>
#include <cstdint>

#include "core/arena/arena.h"
#include "core/base/function_ref.h"
#include "core/pool/pool.h"

namespace testing_util {

struct PoolStressOptions {
  std::size_t steps = 20000;
  std::size_t max_live = 1000;  // Live blocks are freed at random beyond this.
  std::size_t min_size = 1;
  std::size_t max_size = 2048;    // Sizes are log-uniform in [min, max].
  std::size_t check_every = 257;  // Steps between pool and arena checks.
  std::size_t alignment = 1;      // Every block address must be aligned so.
};

// What the test drives: an allocator's alloc and free, its Check(), and
// the arena under it (checked too).
struct StressTarget {
  core::FunctionRef<core::Res(std::size_t, void**)> alloc;
  core::FunctionRef<core::Res(void*, std::size_t)> free;
  core::FunctionRef<core::CheckResult()> check;
  const core::Arena* arena;
};

// Runs the stress test with gtest assertions; frees everything at the end.
void RunAllocatorStress(const StressTarget& target, std::uint64_t seed,
                        const PoolStressOptions& options);
// The same on a pool.
void RunPoolStress(core::Pool& pool, std::uint64_t seed, const PoolStressOptions& options);

struct ExhaustionOptions {
  std::size_t room = 256 << 10;  // The commit limit, above what is committed.
  std::size_t min_size = 16;     // Sizes are uniform in [min, max].
  std::size_t max_size = 3000;
  std::size_t retry_size = 100;  // Must fit once half the blocks are freed.
};

// Allocates patterned blocks until `arena`'s commit limit (set `room`
// above its committed bytes) stops the target: the failure must be
// kCommitLimit, with the limit kept and checks passing. Then frees every
// other block, calls `release` (a cache's flush; nothing for a pool), and
// expects `retry_size` bytes to be had, every remaining block intact.
void RunCommitLimitRecovery(const StressTarget& target, core::Arena* arena, std::uint64_t seed,
                            const ExhaustionOptions& options, core::FunctionRef<void()> release);
// The same on a pool.
void RunCommitLimitRecovery(core::Pool& pool, std::uint64_t seed, const ExhaustionOptions& options);

}  // namespace testing_util

#endif  // TESTS_CORE_POOLS_POOL_STRESS_H_
