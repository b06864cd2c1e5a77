// The recorder's address -> id map against a std::unordered_map model under
// random operations, and under threads that share shards.
#include "traces/capture/id_map.h"

#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gtest/gtest.h"
#include "tests/util/seed.h"

namespace capture {
namespace {

IdMap map;  // Static, as in the recorder (its top level is 32 KiB).

TEST(IdMapTest, MatchesAModelUnderRandomOperations) {
  std::mt19937_64 rng(testing_util::TestSeed());
  std::unordered_map<std::uintptr_t, std::uint64_t> model;
  std::uint64_t next_id = 1;
  for (int op = 0; op < 400000; ++op) {
    // Addresses from a small range, 16-byte aligned, so they repeat.
    const std::uintptr_t address = 0x10000 + 16 * (rng() % 50000);
    switch (rng() % 3) {
      case 0:
        ASSERT_TRUE(map.Insert(address, next_id));
        model[address] = next_id++;
        break;
      case 1: {
        auto it = model.find(address);
        ASSERT_EQ(map.Remove(address), it == model.end() ? 0 : it->second) << "op " << op;
        if (it != model.end()) model.erase(it);
        break;
      }
      default: {
        auto it = model.find(address);
        ASSERT_EQ(map.Find(address), it == model.end() ? 0 : it->second) << "op " << op;
      }
    }
  }
  EXPECT_EQ(map.Size(), model.size());
  for (const auto& [address, id] : model) ASSERT_EQ(map.Remove(address), id);
  EXPECT_EQ(map.Size(), 0u);
  map.Clear();
}

TEST(IdMapTest, AddressesBeyond48BitsAreRefused) {
  EXPECT_FALSE(map.Insert(std::uintptr_t{1} << 48, 7));
  EXPECT_EQ(map.Find(std::uintptr_t{1} << 48), 0u);
  EXPECT_EQ(map.Remove(std::uintptr_t{1} << 48), 0u);
  // The top of the range works, and is a different slot from its neighbour.
  const std::uintptr_t top = (std::uintptr_t{1} << 48) - 16;
  ASSERT_TRUE(map.Insert(top, 8));
  ASSERT_TRUE(map.Insert(top - 16, 9));
  EXPECT_EQ(map.Remove(top), 8u);
  EXPECT_EQ(map.Remove(top - 16), 9u);
  map.Clear();
}

// Every thread starts in the same (empty) middle node and neighbouring
// leaves, so node creation races; no insert may be lost.
TEST(IdMapTest, ThreadsInsertAndRemoveTheirOwnAddresses) {
  constexpr int kThreads = 4;
  constexpr std::uintptr_t kPerThread = 100000;
  std::vector<std::thread> threads;
  std::vector<int> errors(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &errors] {
      const std::uintptr_t base = 0x100000 + t * kPerThread * 16;
      for (std::uintptr_t i = 0; i < kPerThread; ++i) {
        if (!map.Insert(base + 16 * i, i + 1)) ++errors[t];
      }
      for (std::uintptr_t i = 0; i < kPerThread; ++i) {
        if (map.Remove(base + 16 * i) != i + 1) ++errors[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], 0) << "thread " << t;
  EXPECT_EQ(map.Size(), 0u);
  map.Clear();
}

}  // namespace
}  // namespace capture
