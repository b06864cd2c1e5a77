// The GC trace check against a brute-force reference that marks the whole
// heap before every event, on random small graphs (seeded: TEST_SEED), with
// and without planted violations; and hand-written cases for each message.
#include "replay/gc_trace_check.h"

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/replay/trace_test_util.h"
#include "tests/util/seed.h"

namespace replay_test {
namespace {

using replay::Event;
using replay::EventKind;
using ::testing::HasSubstr;

Event Ev(EventKind kind, std::uint64_t id = 0, std::uint64_t size = 0, std::uint64_t new_id = 0,
         std::uint32_t slots = 0) {
  Event e;
  e.kind = kind;
  e.id = id;
  e.size = size;
  e.new_id = new_id;
  e.slots = slots;
  return e;
}
Event Alloc(std::uint64_t id, std::uint32_t slots, std::uint64_t size = 0) {
  return Ev(EventKind::kAlloc, id, size != 0 ? size : 8 * slots + 8, 0, slots);
}
Event Store(std::uint64_t source, std::uint64_t slot, std::uint64_t target) {
  return Ev(EventKind::kStore, source, slot, target);
}
Event RootAdd(std::uint64_t id) { return Ev(EventKind::kRootAdd, id); }
Event RootRemove(std::uint64_t id) { return Ev(EventKind::kRootRemove, id); }

// The definition, executed literally: a full mark before every event.
class Reference {
 public:
  // Applies event j; false (and the event is skipped) on a violation.
  bool Apply(const Event& e) {
    const std::set<std::uint64_t> reach = Reachable();
    auto ok = [&](std::uint64_t id) { return reach.count(id) != 0; };
    bool valid = true;
    switch (e.kind) {
      case EventKind::kAlloc:
        if (e.id == 0 || objects_.count(e.id) != 0) return false;
        objects_[e.id] = {e.size, std::vector<std::uint64_t>(e.slots, 0), 0};
        register_ = e.id;
        break;
      case EventKind::kStore:
        valid = ok(e.id) && e.size < objects_[e.id].slots.size() && (e.new_id == 0 || ok(e.new_id));
        if (valid) objects_[e.id].slots[e.size] = e.new_id;
        break;
      case EventKind::kRootAdd:
        valid = ok(e.id);
        if (valid) ++objects_[e.id].roots;
        break;
      case EventKind::kRootRemove:
        valid = objects_.count(e.id) != 0 && objects_[e.id].roots > 0;
        if (valid) --objects_[e.id].roots;
        break;
      case EventKind::kDeath:
        valid = objects_.count(e.id) != 0;
        break;
      default:
        break;
    }
    if (valid) Census();
    return valid;
  }

  std::set<std::uint64_t> Reachable() const {
    std::set<std::uint64_t> seen;
    std::vector<std::uint64_t> stack;
    for (const auto& [id, o] : objects_) {
      if (o.roots > 0) stack.push_back(id);
    }
    if (register_ != 0) stack.push_back(register_);
    while (!stack.empty()) {
      const std::uint64_t id = stack.back();
      stack.pop_back();
      if (id == 0 || !seen.insert(id).second) continue;
      for (std::uint64_t t : objects_.at(id).slots) stack.push_back(t);
    }
    return seen;
  }
  std::vector<std::uint64_t> Roots() const {
    std::vector<std::uint64_t> roots;
    for (const auto& [id, o] : objects_) {
      if (o.roots > 0) roots.push_back(id);
    }
    return roots;
  }
  std::uint32_t SlotsOf(std::uint64_t id) const {
    return static_cast<std::uint32_t>(objects_.at(id).slots.size());
  }
  std::uint64_t objects() const { return objects_.size(); }
  std::uint64_t peak_objects = 0, peak_bytes = 0, objects_now = 0, bytes_now = 0;

 private:
  void Census() {
    objects_now = bytes_now = 0;
    for (std::uint64_t id : Reachable()) {
      ++objects_now;
      bytes_now += objects_.at(id).size;
    }
    peak_objects = std::max(peak_objects, objects_now);
    peak_bytes = std::max(peak_bytes, bytes_now);
  }

  struct Object {
    std::uint64_t size;
    std::vector<std::uint64_t> slots;
    std::uint32_t roots;
  };
  std::map<std::uint64_t, Object> objects_;
  std::uint64_t register_ = 0;
};

// A random GC trace over a small heap: mostly valid events chosen from the
// reference's reachable set, with an invalid one planted at `plant` (if
// any) and rarely a random one anywhere.
std::vector<Event> RandomGcTrace(std::mt19937_64& rng, std::size_t count,
                                 std::optional<std::size_t> plant) {
  Reference ref;
  std::vector<Event> events;
  std::uint64_t next_id = 1;
  auto pick = [&](std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng);
  };
  while (events.size() < count) {
    const std::set<std::uint64_t> reach = ref.Reachable();
    const std::vector<std::uint64_t> live(reach.begin(), reach.end());
    std::vector<std::uint64_t> dead;
    for (std::uint64_t id = 1; id < next_id; ++id) {
      if (reach.count(id) == 0) dead.push_back(id);
    }
    const bool bad = (plant && events.size() == *plant) || pick(200) == 0;
    Event e;
    const std::uint64_t r = pick(100);
    if (bad) {
      const std::uint64_t any = next_id > 1 ? pick(next_id - 1) + 1 : 1;
      const std::uint64_t gone = dead.empty() ? next_id + 5 : dead[pick(dead.size())];
      switch (pick(7)) {
        case 0:
          e = Store(gone, 0, live.empty() ? 0 : live[pick(live.size())]);
          break;
        case 1:
          e = Store(live.empty() ? gone : live[pick(live.size())], 0, gone);
          break;
        case 2:
          e = RootAdd(gone);
          break;
        case 3:
          e = RootRemove(any);
          break;
        case 4:
          e = Store(any, 7, 0);
          break;
        case 5:
          e = Alloc(any, 1);
          break;
        default:
          e = RootAdd(next_id + 100);
          break;
      }
    } else if (live.empty() || r < 30) {
      e = Alloc(next_id++, static_cast<std::uint32_t>(pick(4)));
    } else if (r < 70) {
      std::vector<std::uint64_t> sources;
      for (std::uint64_t id : live) {
        if (ref.SlotsOf(id) > 0) sources.push_back(id);
      }
      if (sources.empty()) continue;
      const std::uint64_t s = sources[pick(sources.size())];
      e = Store(s, pick(ref.SlotsOf(s)), pick(4) == 0 ? 0 : live[pick(live.size())]);
    } else if (r < 82) {
      e = RootAdd(live[pick(live.size())]);
    } else if (r < 96) {
      const std::vector<std::uint64_t> roots = ref.Roots();
      if (roots.empty()) continue;
      e = RootRemove(roots[pick(roots.size())]);
    } else if (r < 98) {
      e = Ev(EventKind::kDeath, pick(next_id - 1) + 1);
    } else {
      e = Ev(EventKind::kCollect);
    }
    ref.Apply(e);
    events.push_back(e);
  }
  return events;
}

struct Outcome {
  std::optional<std::uint64_t> first_violation;
  std::string message;
  replay::GcCheckStats stats;
};

Outcome RunChecker(const std::vector<Event>& events, replay::GcCheckOptions options) {
  replay::GcTraceChecker checker("t.trace", options);
  Outcome out;
  for (std::size_t j = 0; j < events.size(); ++j) {
    absl::Status s = checker.Apply(events[j]);
    if (!s.ok()) {
      out.first_violation = j;
      out.message = std::string(s.message());
      return out;
    }
  }
  EXPECT_TRUE(checker.Finish().ok());
  out.stats = checker.stats();
  return out;
}

TEST(GcTraceCheckTest, AgreesWithMarkingBeforeEveryEvent) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  int violations_found = 0;
  for (int round = 0; round < 300; ++round) {
    const std::size_t count = 50 + rng() % 400;
    std::optional<std::size_t> plant;
    if (rng() % 3 != 0) plant = rng() % count;
    const std::vector<Event> events = RandomGcTrace(rng, count, plant);
    Reference ref;
    std::optional<std::uint64_t> first;
    std::uint64_t bad = 0;
    for (std::size_t j = 0; j < events.size(); ++j) {
      if (!ref.Apply(events[j])) {
        if (!first) first = j;
        ++bad;
      }
    }
    replay::GcCheckOptions options;
    options.peak_tolerance = 0;
    options.walk_limit = static_cast<int>(rng() % 4 == 0 ? 64 : rng() % 3);
    SCOPED_TRACE(absl::StrCat("seed=", seed, " round=", round, " events=", count,
                              " walk_limit=", options.walk_limit));
    const Outcome strict = RunChecker(events, options);
    ASSERT_EQ(strict.first_violation, first) << strict.message;
    if (first) {
      ++violations_found;
      EXPECT_THAT(strict.message, HasSubstr(absl::StrCat("t.trace: event ", *first, ": ")));
    } else {
      EXPECT_EQ(strict.stats.peak_reachable_objects, ref.peak_objects);
      EXPECT_EQ(strict.stats.peak_reachable_bytes, ref.peak_bytes);
      EXPECT_EQ(strict.stats.final_reachable_objects, ref.objects_now);
      EXPECT_EQ(strict.stats.final_reachable_bytes, ref.bytes_now);
      EXPECT_EQ(strict.stats.objects, ref.objects());
    }
    options.lenient = true;
    const Outcome lenient = RunChecker(events, options);
    ASSERT_FALSE(lenient.first_violation) << lenient.message;
    EXPECT_EQ(lenient.stats.violations, bad);
    EXPECT_EQ(lenient.stats.peak_reachable_objects, ref.peak_objects);
    EXPECT_EQ(lenient.stats.final_reachable_bytes, ref.bytes_now);
  }
  EXPECT_GT(violations_found, 100);
}

std::string FirstError(const std::vector<Event>& events) { return RunChecker(events, {}).message; }

TEST(GcTraceCheckTest, MessagesNameTheEventAndWhatWasExpected) {
  // 2 dies when the register moves on at event 2 (it was never rooted).
  EXPECT_EQ(FirstError({Alloc(1, 1), RootAdd(1), Alloc(2, 1), Alloc(3, 0), Store(1, 0, 2)}),
            "t.trace: event 4: STORE of id 2, which is unreachable (it became unreachable at "
            "event 3)");
  // Resurrection: the root goes and comes back.
  EXPECT_EQ(FirstError({Alloc(1, 1), RootAdd(1), Alloc(2, 0), RootRemove(1), RootAdd(1)}),
            "t.trace: event 4: ROOT_ADD of id 1, which is unreachable (it became unreachable at "
            "event 3)");
  EXPECT_EQ(FirstError({Alloc(1, 2), RootAdd(1), Store(1, 2, 0)}),
            "t.trace: event 2: STORE into slot 2 of id 1, which has 2 slots (expected 0..1)");
  EXPECT_THAT(FirstError({Alloc(1, 2), RootRemove(1)}),
              HasSubstr("event 1: ROOT_REMOVE of id 1, which is not a root"));
  EXPECT_THAT(FirstError({Alloc(1, 2), Store(1, 0, 5)}),
              HasSubstr("event 1: STORE of id 5, which was never allocated"));
  EXPECT_THAT(FirstError({Alloc(1, 2), Alloc(1, 1), Ev(EventKind::kCollect)}),
              HasSubstr("event 1: alloc of id 1, which was allocated before"));
  EXPECT_THAT(FirstError({Alloc(1, 2), RootAdd(1), Ev(EventKind::kFree, 1)}),
              HasSubstr("event 2: free in a GC trace (GC events since event 0)"));
  EXPECT_THAT(FirstError({Alloc(1, 0), Ev(EventKind::kFree, 1), RootAdd(1)}),
              HasSubstr("event 2: root-add in a trace with free events (the first at event 1)"));
  EXPECT_THAT(FirstError({Alloc(1, 0), Ev(EventKind::kDeath, 2)}),
              HasSubstr("event 1: DEATH of id 2, which was never allocated"));
}

TEST(GcTraceCheckTest, ManualTracesAreNotGcTraces) {
  const Outcome out = RunChecker({Alloc(1, 0), Alloc(1, 0), Ev(EventKind::kFree, 1)}, {});
  EXPECT_FALSE(out.first_violation) << out.message;
  EXPECT_FALSE(out.stats.gc_trace);
  EXPECT_TRUE(RunChecker({Alloc(1, 1)}, {}).stats.gc_trace);
}

// A deep list whose head is dropped and whose tail is then named: the walk
// cannot prove it (too deep), so a mark decides, and it is dead.
TEST(GcTraceCheckTest, LongChainsFallBackToMarks) {
  std::vector<Event> events = {Alloc(1, 1), RootAdd(1)};
  for (std::uint64_t id = 2; id <= 500; ++id) {
    events.push_back(Alloc(id, 1));
    events.push_back(Store(id - 1, 0, id));
  }
  events.push_back(Alloc(1000, 0));
  events.push_back(Store(499, 0, 0));  // Alive: the walk fails, a mark proves it.
  events.push_back(RootRemove(1));
  events.push_back(RootAdd(250));
  const Outcome out = RunChecker(events, {.walk_limit = 8});
  ASSERT_TRUE(out.first_violation);
  EXPECT_EQ(*out.first_violation, events.size() - 1);
  EXPECT_THAT(out.message, HasSubstr("ROOT_ADD of id 250, which is unreachable"));
}

TEST(GcTraceCheckTest, ReadsTraceFiles) {
  const std::string path = TempPath("gc.trace");
  ASSERT_TRUE(
      WriteTrace(path, FullHeader(),
                 {Alloc(1, 2), RootAdd(1), Alloc(2, 0), Store(1, 1, 2), Ev(EventKind::kCollect)})
          .ok());
  absl::StatusOr<replay::GcCheckStats> stats = replay::CheckGcTrace(path);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_TRUE(stats->gc_trace);
  EXPECT_EQ(stats->objects, 2u);
  EXPECT_EQ(stats->stores, 1u);
  EXPECT_EQ(stats->root_adds, 1u);
  EXPECT_EQ(stats->collections, 1u);
  EXPECT_EQ(stats->final_reachable_objects, 2u);
  EXPECT_EQ(stats->final_reachable_bytes, 32u);
  EXPECT_FALSE(replay::CheckGcTrace(TempPath("missing.trace")).ok());
}

}  // namespace
}  // namespace replay_test
