// The engine's id table (replay/id_table.h) against a reference model (a
// map from id to live block or freeing event) under random inserts, frees,
// collector clears and drains, with Check() after every step; dense and
// sparse ids, and freeing events past the handles' 31 bits.
#include "replay/id_table.h"

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/util/seed.h"

namespace replay_test {
namespace {

using replay::Block;
using replay::IdTable;

struct ModelEntry {
  bool live = false;
  std::uint64_t size = 0;
  std::uintptr_t p = 0;
  std::optional<std::uint64_t> freed_at;
};

class IdTableModelTest : public ::testing::Test {
 protected:
  // A live block of `id` in both; its address is derived from the step.
  void Insert(std::uint64_t id, std::uint64_t step) {
    Block* b = table_.Insert(id);
    ModelEntry& m = model_[id];
    ASSERT_EQ(b == nullptr, m.live) << "insert of id " << id;
    if (b == nullptr) return;
    m = ModelEntry{true, step % 1000, 0x10000 + 1024 * step, std::nullopt};  // Apart.
    *b = Block(reinterpret_cast<void*>(m.p), m.size, 16);
  }

  void Free(std::uint64_t id, std::uint64_t event) {
    Block* b = table_.FindLive(id);
    ModelEntry& m = model_[id];
    ASSERT_EQ(b != nullptr, m.live) << "find of id " << id;
    if (b == nullptr) return;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b->p()), m.p);
    EXPECT_EQ(b->size(), m.size);
    table_.Bury(id, b, event);
    m.live = false;
    m.freed_at = event;
  }

  // A collector clears the block (weakly held) without freeing its id;
  // the table buries it later, as GcMutator's weak scan does.
  void Clear(std::uint64_t id, std::uint64_t event) {
    Block* b = table_.FindLive(id);
    if (b == nullptr) return;
    *b->address() = 0;
    ModelEntry& m = model_[id];
    m.live = false;
    EXPECT_EQ(table_.FindLive(id), nullptr);
    EXPECT_EQ(table_.FreedAt(id), std::nullopt);  // Not buried yet.
    table_.Bury(id, b, event);
    m.freed_at = event;
  }

  void ExpectAgrees() {
    ASSERT_TRUE(table_.Check());
    std::uint64_t live = 0;
    for (const auto& [id, m] : model_) {
      const Block* b = table_.FindLive(id);
      ASSERT_EQ(b != nullptr, m.live) << "id " << id;
      if (m.live) {
        ++live;
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b->p()), m.p) << "id " << id;
      } else {
        EXPECT_EQ(table_.FreedAt(id), m.freed_at) << "id " << id;
      }
    }
    std::uint64_t seen = 0;
    table_.ForEachLive([&](std::uint64_t id, const Block& b) {
      ++seen;
      EXPECT_TRUE(model_[id].live) << "id " << id;
      EXPECT_EQ(table_.FindContaining(reinterpret_cast<std::uintptr_t>(b.p()))->first, id);
    });
    EXPECT_EQ(seen, live);
  }

  IdTable table_;
  std::map<std::uint64_t, ModelEntry> model_;
};

TEST_F(IdTableModelTest, AgreesWithTheModel) {
  const std::uint64_t seed = testing_util::TestSeed();
  SCOPED_TRACE(absl::StrCat("seed=", seed));
  std::mt19937_64 rng(seed);
  std::uint64_t next_id = 1, event = 0;
  std::vector<std::uint64_t> ids;
  for (int step = 0; step < 20000; ++step) {
    // Events jump past 2^31 now and then: such frees are kept apart.
    event += rng() % 500 == 0 ? std::uint64_t{1} << 31 : 1 + rng() % 3;
    const std::uint64_t pick = ids.empty() ? 0 : ids[rng() % ids.size()];
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2:
      case 3: {
        // Mostly new dense ids, some sparse, some ids used before.
        std::uint64_t id = next_id++;
        if (rng() % 20 == 0) id = (std::uint64_t{1} << 40) + rng() % 1000;
        if (rng() % 20 == 0 && !ids.empty()) id = pick;
        Insert(id, static_cast<std::uint64_t>(step));
        ids.push_back(id);
        break;
      }
      case 4:
        Clear(pick, event);
        break;
      default:
        Free(pick, event);
        break;
    }
    if (HasFatalFailure()) return;
    if (step % 500 == 0) ExpectAgrees();
  }
  ExpectAgrees();
  // Draining hands out every live block once and leaves an empty table.
  std::uint64_t drained = 0;
  table_.DrainLive([&](std::uint64_t id, const Block&) {
    EXPECT_TRUE(model_[id].live);
    ++drained;
  });
  std::uint64_t live = 0;
  for (const auto& [id, m] : model_) live += m.live;
  EXPECT_EQ(drained, live);
  EXPECT_TRUE(table_.Check());
  for (const auto& [id, m] : model_) EXPECT_EQ(table_.FindLive(id), nullptr);
}

// Slots of freed blocks are handed out again: a table whose live set stays
// small uses a small slab, however many ids go by.
TEST(IdTableTest, ReusesTheSlotsOfFreedBlocks) {
  IdTable table;
  const Block* first = nullptr;
  for (std::uint64_t id = 1; id < 100000; ++id) {
    Block* b = table.Insert(id);
    ASSERT_NE(b, nullptr);
    *b = Block(reinterpret_cast<void*>(16 * id), 8, 16);
    if (first == nullptr) first = b;
    ASSERT_EQ(b, first) << "id " << id;  // The one slot, again and again.
    table.Bury(id, b, id);
  }
  EXPECT_TRUE(table.Check());
  EXPECT_EQ(table.FreedAt(5), 5u);
  EXPECT_EQ(table.FreedAt(100000), std::nullopt);
}

}  // namespace
}  // namespace replay_test
