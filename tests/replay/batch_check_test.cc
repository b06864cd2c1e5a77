// The reader's one-pass batch check (replay/batch_check.h) against the
// event-at-a-time reference: FindEventDefect and Totals::Add over the same
// rows, on random batches with planted defects and random absent columns.
#include "replay/batch_check.h"

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "replay/event.h"
#include "replay/event_batch.h"
#include "replay/trace_format.h"
#include "tests/replay/trace_test_util.h"
#include "tests/util/seed.h"

namespace replay_test {
namespace {

using replay::Event;
using replay::EventKind;
using replay::internal::EventDefect;
using replay::internal::FindEventDefect;
using replay::internal::kMaxSize;
using replay::internal::ScanBatch;
using replay::internal::Totals;

// Breaks one rule in `e` (or, now and then, sets a valid extreme value).
void Plant(std::mt19937_64& rng, Event* e) {
  switch (rng() % 10) {
    case 0:
      e->kind = static_cast<EventKind>(8 + rng() % 4);
      break;
    case 1:
      e->flavour = static_cast<replay::Flavour>(replay::kFlavourCount + rng() % 3);
      break;
    case 2:
      e->new_id = 1 + rng() % 5;
      break;
    case 3:
      e->size = rng() % 2 ? kMaxSize : kMaxSize + 1 + rng() % 1000;  // Valid, then too large.
      break;
    case 4:
      e->alignment = rng() % 2 ? kMaxSize : 24;  // 2^48 is valid; 24 is no power of two.
      break;
    case 5:
      e->slots = 1 + static_cast<std::uint32_t>(rng() % 4);
      break;
    case 6:
      e->id = 1 + rng() % 7;
      break;
    case 7:
      e->size = 1 + rng() % 100;
      break;
    case 8:
      e->alignment = std::uint64_t{1} << (49 + rng() % 10);
      break;
    default:
      e->size = rng();
      break;
  }
}

void CheckRandomBatches(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 300; ++round) {
    const std::size_t n = 1 + rng() % 5000;
    std::vector<Event> rows = RandomEvents(rng, n);
    // Leave columns out now and then (AssignRows drops all-zero ones).
    const unsigned zeroed = static_cast<unsigned>(rng());
    for (Event& e : rows) {
      if (zeroed & 1) e.id = 0;
      if (zeroed & 2) e.new_id = 0;
      if (zeroed & 4) e.size = 0, e.slots = 0;
      if (zeroed & 8) e.alignment = 0;
      if (zeroed & 16) e.flavour = replay::Flavour::kMalloc;
      if (zeroed & 32) e.slots = 0;
    }
    const int planted = static_cast<int>(rng() % 3);
    for (int k = 0; k < planted; ++k) Plant(rng, &rows[rng() % n]);

    bool defect = false, benign_alarm = false;
    Totals want;
    for (const Event& e : rows) {
      defect |= FindEventDefect(e) != EventDefect::kNone;
      benign_alarm |= e.alignment == kMaxSize;  // Valid, but flagged for a closer look.
      if (static_cast<unsigned>(e.kind) < replay::kEventKindCount) want.Add(e);
    }
    replay::EventBatch batch;
    batch.AssignRows(0, rows);
    Totals got;
    const bool flagged = ScanBatch(batch, &got);
    SCOPED_TRACE(absl::StrCat("round ", round, " events ", n, " planted ", planted));
    if (defect) {
      EXPECT_TRUE(flagged) << "a defect went unseen";
      continue;
    }
    if (!benign_alarm) {
      EXPECT_FALSE(flagged) << "a valid batch was flagged";
    }
    EXPECT_EQ(got.event_count, n);
    EXPECT_EQ(got.chunk_count, 0u);
    EXPECT_EQ(got.per_kind, want.per_kind);
    EXPECT_EQ(got.bytes_allocated, want.bytes_allocated);
  }
}

// Runs `body` with the scalar pass, and with AVX2 where the CPU has it.
template <typename F>
void ForEachScan(F body) {
  const bool saved = replay::internal::UseAvx2Scan();
  for (bool avx2 : {false, true}) {
    if (avx2 && !replay::internal::Avx2Available()) continue;
    SCOPED_TRACE(avx2 ? "AVX2 scan" : "scalar scan");
    replay::internal::UseAvx2Scan() = avx2;
    body();
  }
  replay::internal::UseAvx2Scan() = saved;
}

TEST(BatchCheckTest, AgreesWithTheEventAtATimeCheck) {
  const std::uint64_t seed = testing_util::TestSeed();
  SCOPED_TRACE(absl::StrCat("seed=", seed));
  ForEachScan([&] { CheckRandomBatches(seed); });
}

// Kind counts past the 255 a lane of the AVX2 pass holds.
TEST(BatchCheckTest, CountsLongRunsOfOneKind) {
  ForEachScan([] {
    std::vector<Event> rows(4099, FreeEvent(7));
    for (std::size_t i = 0; i < 2100; ++i) rows[i] = ReallocEvent(3, 4, 100);
    rows[4098] = AllocEvent(1, 5);
    replay::EventBatch batch;
    batch.AssignRows(0, rows);
    Totals totals;
    EXPECT_FALSE(ScanBatch(batch, &totals));
    EXPECT_EQ(totals.per_kind[static_cast<int>(EventKind::kRealloc)], 2100u);
    EXPECT_EQ(totals.per_kind[static_cast<int>(EventKind::kFree)], 1998u);
    EXPECT_EQ(totals.per_kind[static_cast<int>(EventKind::kAlloc)], 1u);
    EXPECT_EQ(totals.bytes_allocated, 2100u * 100 + 5);
  });
}

// Each rule on its own, in a batch of otherwise valid events.
void FlagsEachRule() {
  const auto flagged = [](Event bad) {
    std::vector<Event> rows(100, AllocEvent(1, 64));
    rows[57] = bad;
    replay::EventBatch batch;
    batch.AssignRows(0, rows);
    Totals totals;
    return ScanBatch(batch, &totals);
  };
  // A FREE may carry nothing but its id: each other field set is flagged.
  const std::function<void(Event&)> free_fields[] = {
      [](Event& f) { f.new_id = 4; },
      [](Event& f) { f.size = 8; },
      [](Event& f) { f.alignment = 16; },
      [](Event& f) { f.slots = 1; },
      [](Event& f) { f.flavour = replay::Flavour::kCalloc; },
  };
  for (const auto& set_field : free_fields) {
    Event f = FreeEvent(3);
    set_field(f);
    EXPECT_TRUE(flagged(f));
  }
  Event e{};
  e.kind = EventKind::kCollect;
  e.id = 5;
  EXPECT_TRUE(flagged(e));
  e.kind = static_cast<EventKind>(8);
  e.id = 0;
  EXPECT_TRUE(flagged(e));
  EXPECT_TRUE(flagged(AllocEvent(2, kMaxSize + 1)));
  EXPECT_FALSE(flagged(AllocEvent(2, kMaxSize)));
  EXPECT_TRUE(flagged(AllocEvent(2, 64, 24)));
  EXPECT_TRUE(flagged(AllocEvent(2, 64, kMaxSize << 1)));
  e = AllocEvent(2, 15);
  e.slots = 2;
  EXPECT_TRUE(flagged(e));
  e.size = 16;
  EXPECT_FALSE(flagged(e));
  e = AllocEvent(2, 16);
  e.flavour = static_cast<replay::Flavour>(replay::kFlavourCount);
  EXPECT_TRUE(flagged(e));
  EXPECT_FALSE(flagged(ReallocEvent(2, 3, 99)));
}

TEST(BatchCheckTest, FlagsEachRule) { ForEachScan(FlagsEachRule); }

}  // namespace
}  // namespace replay_test
