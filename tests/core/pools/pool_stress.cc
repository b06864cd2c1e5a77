#include "tests/core/pools/pool_stress.h"

#include <cmath>
#include <iterator>
#include <map>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/util/pattern.h"

namespace testing_util {
namespace {

struct LiveBlock {
  std::size_t size;
  std::uint64_t tag;
};

void ExpectChecksPass(const StressTarget& target, std::size_t step) {
  core::CheckResult check = target.check();
  ASSERT_TRUE(check.ok) << "step " << step << ": " << check.what;
  core::CheckResult arena_check = target.arena->Check();
  ASSERT_TRUE(arena_check.ok) << "step " << step << ": " << arena_check.what;
}

// Runs `body` on a target that allocates from `pool`.
void WithPoolTarget(core::Pool& pool, core::FunctionRef<void(const StressTarget&)> body) {
  body({[&pool](std::size_t size, void** p) { return pool.Alloc(size, p); },
        [&pool](void* p, std::size_t size) { return pool.Free(p, size); },
        [&pool] { return pool.Check(); }, pool.arena()});
}

}  // namespace

void RunPoolStress(core::Pool& pool, std::uint64_t seed, const PoolStressOptions& options) {
  WithPoolTarget(pool,
                 [&](const StressTarget& target) { RunAllocatorStress(target, seed, options); });
}

void RunCommitLimitRecovery(core::Pool& pool, std::uint64_t seed,
                            const ExhaustionOptions& options) {
  WithPoolTarget(pool, [&](const StressTarget& target) {
    RunCommitLimitRecovery(target, pool.arena(), seed, options, [] {});
  });
}

void RunAllocatorStress(const StressTarget& target, std::uint64_t seed,
                        const PoolStressOptions& options) {
  std::mt19937_64 random(seed);
  const double log_min = std::log(static_cast<double>(options.min_size));
  const double log_max = std::log(static_cast<double>(options.max_size));
  std::uniform_real_distribution<double> log_size(log_min, log_max);
  std::map<core::Addr, LiveBlock> live;
  std::vector<core::Addr> order;  // Live addresses, for picking at random.
  std::uint64_t next_tag = 1;

  auto free_one = [&](std::size_t step) {
    std::uniform_int_distribution<std::size_t> pick(0, order.size() - 1);
    const std::size_t index = pick(random);
    const core::Addr addr = order[index];
    order[index] = order.back();
    order.pop_back();
    auto it = live.find(addr);
    ASSERT_NE(it, live.end());
    const std::size_t mismatch =
        FirstPatternMismatch(core::ToPointer(addr), it->second.size, it->second.tag);
    ASSERT_EQ(mismatch, it->second.size)
        << "step " << step << ": block " << it->second.tag << " at 0x" << std::hex << addr
        << " was overwritten at offset " << std::dec << mismatch;
    ASSERT_EQ(target.free(core::ToPointer(addr), it->second.size), core::Res::kOk);
    live.erase(it);
  };

  for (std::size_t step = 0; step < options.steps; ++step) {
    const bool must_free = live.size() >= options.max_live;
    if (!live.empty() && (must_free || random() % 2 == 0)) {
      ASSERT_NO_FATAL_FAILURE(free_one(step));
    } else {
      const auto size = static_cast<std::size_t>(std::exp(log_size(random)));
      void* p = nullptr;
      ASSERT_EQ(target.alloc(size, &p), core::Res::kOk) << "step " << step << " size " << size;
      const core::Addr addr = core::ToAddr(p);
      ASSERT_TRUE(core::IsAligned(addr, options.alignment)) << "step " << step;
      // The new block must not overlap any live block.
      auto after = live.lower_bound(addr);
      ASSERT_TRUE(after == live.end() || addr + size <= after->first) << "step " << step;
      if (after != live.begin()) {
        auto before = std::prev(after);
        ASSERT_LE(before->first + before->second.size, addr) << "step " << step;
      }
      FillPattern(p, size, next_tag);
      live[addr] = {size, next_tag++};
      order.push_back(addr);
    }
    if (step % options.check_every == 0) {
      ASSERT_NO_FATAL_FAILURE(ExpectChecksPass(target, step));
    }
  }
  while (!live.empty()) ASSERT_NO_FATAL_FAILURE(free_one(options.steps));
  ASSERT_NO_FATAL_FAILURE(ExpectChecksPass(target, options.steps));
}

void RunCommitLimitRecovery(const StressTarget& target, core::Arena* arena, std::uint64_t seed,
                            const ExhaustionOptions& options, core::FunctionRef<void()> release) {
  const std::size_t limit = arena->stats().committed + options.room;
  ASSERT_EQ(arena->SetCommitLimit(limit), core::Res::kOk);
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<std::size_t> sizes(options.min_size, options.max_size);
  std::vector<std::pair<void*, std::size_t>> live;
  core::Res res = core::Res::kOk;
  while (res == core::Res::kOk) {
    const std::size_t size = sizes(random);
    void* p;
    res = target.alloc(size, &p);
    if (res == core::Res::kOk) {
      FillPattern(p, size, live.size());
      live.emplace_back(p, size);
    }
  }
  EXPECT_EQ(res, core::Res::kCommitLimit);
  EXPECT_LE(arena->stats().committed, limit);
  ASSERT_NO_FATAL_FAILURE(ExpectChecksPass(target, live.size()));
  // Free every other block: nothing is lost, and allocation works again.
  for (std::size_t i = 0; i < live.size(); i += 2) {
    ASSERT_TRUE(CheckPattern(live[i].first, live[i].second, i));
    ASSERT_EQ(target.free(live[i].first, live[i].second), core::Res::kOk);
  }
  release();
  ASSERT_NO_FATAL_FAILURE(ExpectChecksPass(target, live.size()));
  void* p;
  EXPECT_EQ(target.alloc(options.retry_size, &p), core::Res::kOk);
  for (std::size_t i = 1; i < live.size(); i += 2) {
    ASSERT_TRUE(CheckPattern(live[i].first, live[i].second, i));
  }
}

}  // namespace testing_util
