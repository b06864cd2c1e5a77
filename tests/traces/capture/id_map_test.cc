// The recorder's address -> word map against a std::unordered_map model
// under random operations, and under threads that race to make its nodes.
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

// The word at `address`, 0 if its slot does not exist.
std::uint64_t Load(std::uintptr_t address) {
  std::atomic<std::uint64_t>* slot = map.Slot(address, /*create=*/false);
  return slot == nullptr ? 0 : slot->load();
}

bool Store(std::uintptr_t address, std::uint64_t value) {
  std::atomic<std::uint64_t>* slot = map.Slot(address, /*create=*/true);
  if (slot == nullptr) return false;
  slot->store(value);
  return true;
}

TEST(IdMapTest, MatchesAModelUnderRandomOperations) {
  std::mt19937_64 rng(testing_util::TestSeed());
  std::unordered_map<std::uintptr_t, std::uint64_t> model;
  std::uint64_t next_id = 1;
  for (int op = 0; op < 400000; ++op) {
    // Addresses from a small range, 16-byte aligned, so they repeat.
    const std::uintptr_t address = 0x10000 + 16 * (rng() % 50000);
    switch (rng() % 3) {
      case 0:
        ASSERT_TRUE(Store(address, next_id));
        model[address] = next_id++;
        break;
      case 1:
        ASSERT_TRUE(Store(address, 0));
        model.erase(address);
        break;
      default: {
        auto it = model.find(address);
        ASSERT_EQ(Load(address), it == model.end() ? 0 : it->second) << "op " << op;
      }
    }
  }
  EXPECT_EQ(map.Size(), model.size());
  for (const auto& [address, id] : model) ASSERT_EQ(Load(address), id);
  map.Clear();
  EXPECT_EQ(map.Size(), 0u);
}

TEST(IdMapTest, AddressesBeyond48BitsAreRefused) {
  EXPECT_EQ(map.Slot(std::uintptr_t{1} << 48, /*create=*/true), nullptr);
  EXPECT_EQ(map.Slot(std::uintptr_t{1} << 48, /*create=*/false), nullptr);
  // The top of the range works, and is a different slot from its neighbour.
  const std::uintptr_t top = (std::uintptr_t{1} << 48) - 16;
  ASSERT_TRUE(Store(top, 8));
  ASSERT_TRUE(Store(top - 16, 9));
  EXPECT_EQ(Load(top), 8u);
  EXPECT_EQ(Load(top - 16), 9u);
  // A slot that was never made is not made by looking.
  EXPECT_EQ(map.Slot(0x7000000000, /*create=*/false), nullptr);
  map.Clear();
}

// A dense leaf (a huge page where the system has them) holds words as any
// other, beside a sparse one.
TEST(IdMapTest, DenseLeavesHoldWords) {
  const std::uintptr_t base = std::uintptr_t{1} << 40;
  std::atomic<std::uint64_t>* slot = map.Slot(base + 16, /*create=*/true, /*dense=*/true);
  ASSERT_NE(slot, nullptr);
  slot->store(5);
  ASSERT_TRUE(Store(base + (std::uintptr_t{64} << 20), 6));  // Another, sparse leaf.
  for (std::uintptr_t a = base; a < base + (std::uintptr_t{4} << 20); a += 4096) {
    ASSERT_TRUE(Store(a + 32, a));
  }
  EXPECT_EQ(Load(base + 16), 5u);
  EXPECT_EQ(Load(base + (std::uintptr_t{64} << 20)), 6u);
  EXPECT_EQ(Load(base + 4096 + 32), base + 4096);
  EXPECT_EQ(map.Size(), 2u + 1024u);
  map.Clear();
}

// Every thread starts in the same (empty) middle node and neighbouring
// leaves, so node creation races; no store may be lost.
TEST(IdMapTest, ThreadsStoreAndLoadTheirOwnAddresses) {
  constexpr int kThreads = 4;
  constexpr std::uintptr_t kPerThread = 100000;
  std::vector<std::thread> threads;
  std::vector<int> errors(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &errors] {
      const std::uintptr_t base = 0x100000 + t * kPerThread * 16;
      for (std::uintptr_t i = 0; i < kPerThread; ++i) {
        if (!Store(base + 16 * i, i + 1)) ++errors[t];
      }
      for (std::uintptr_t i = 0; i < kPerThread; ++i) {
        if (Load(base + 16 * i) != i + 1 || !Store(base + 16 * i, 0)) ++errors[t];
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
