// GC traces replayed through collecting subjects: a seeded random mutator
// that keeps the trace rules (only reachable objects are named; the newest
// object is held until the next ALLOC) is replayed with --verify, which
// checks the heap against the trace's own graph after every collection;
// and traces that break the rules get errors that say which event and why.
#include <random>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "replay/engine.h"
#include "replay/event_source.h"
#include "replay/policy_spec.h"
#include "replay/subjects.h"
#include "tests/util/seed.h"

namespace replay {
namespace {

class VectorSource final : public EventSource {
 public:
  explicit VectorSource(std::vector<Event> events) : events_(std::move(events)) {}
  absl::Status Next(absl::Span<const Event>* batch, std::uint64_t* first) override {
    const std::size_t n = std::min<std::size_t>(1000, events_.size() - at_);
    *batch = absl::MakeConstSpan(events_).subspan(at_, n);
    *first = at_;
    at_ += n;
    return absl::OkStatus();
  }
  const std::string& name() const override { return name_; }

 private:
  std::vector<Event> events_;
  std::size_t at_ = 0;
  std::string name_ = "gc.trace";
};

Event Ev(EventKind kind, std::uint64_t id, std::uint64_t size = 0, std::uint64_t new_id = 0,
         std::uint32_t slots = 0) {
  Event e;
  e.kind = kind;
  e.id = id;
  e.size = size;
  e.new_id = new_id;
  e.slots = slots;
  return e;
}

// A random GC trace that keeps the rules, by simulating its own graph.
std::vector<Event> RandomGcTrace(std::uint64_t seed, int steps) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::uint64_t>> slots(1);
  std::vector<std::uint64_t> roots;
  std::uint64_t reg = 0;
  std::vector<Event> out;
  const auto reachable = [&] {
    std::vector<bool> seen(slots.size());
    std::vector<std::uint64_t> stack = roots, live;
    if (reg != 0) stack.push_back(reg);
    while (!stack.empty()) {
      const std::uint64_t id = stack.back();
      stack.pop_back();
      if (seen[id]) continue;
      seen[id] = true;
      live.push_back(id);
      for (std::uint64_t t : slots[id]) {
        if (t != 0) stack.push_back(t);
      }
    }
    return live;
  };
  for (int i = 0; i < steps; ++i) {
    const int what = static_cast<int>(rng() % 100);
    const std::vector<std::uint64_t> live = reachable();
    if (what < 40 || live.empty()) {
      const std::uint64_t id = slots.size();
      const std::uint32_t n = static_cast<std::uint32_t>(rng() % 4);
      const std::uint64_t size = n * 8 + (rng() % 50 == 0 ? 50000 : rng() % 100);
      out.push_back(Ev(EventKind::kAlloc, id, size, 0, n));
      slots.emplace_back(n, 0);
      reg = id;
      if (rng() % 3 == 0) {
        out.push_back(Ev(EventKind::kRootAdd, id));
        roots.push_back(id);
      }
    } else if (what < 80) {
      const std::uint64_t src = live[rng() % live.size()];
      if (slots[src].empty()) continue;
      const std::uint64_t slot = rng() % slots[src].size();
      const std::uint64_t target = rng() % 4 == 0 ? 0 : live[rng() % live.size()];
      out.push_back(Ev(EventKind::kStore, src, slot, target));
      slots[src][slot] = target;
    } else if (what < 97) {
      if (roots.empty()) continue;
      const std::size_t r = rng() % roots.size();
      out.push_back(Ev(EventKind::kRootRemove, roots[r]));
      roots.erase(roots.begin() + static_cast<std::ptrdiff_t>(r));
    } else if (what < 99) {
      out.push_back(Ev(EventKind::kDeath, live[rng() % live.size()]));
    } else {
      out.push_back(Ev(EventKind::kCollect, 0));
    }
  }
  return out;
}

absl::Status Replay(const std::string& policy, std::vector<Event> events, ReplayResult* result,
                    bool verify = true, bool lenient = false) {
  absl::StatusOr<PolicySpec> spec = PolicySpec::Parse(policy);
  EXPECT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<std::unique_ptr<Subject>> subject = MakeSubject(*spec);
  EXPECT_TRUE(subject.ok()) << subject.status();
  if (!subject.ok()) return subject.status();
  EngineOptions options;
  options.verify = verify;
  options.lenient = lenient;
  VectorSource source(std::move(events));
  Engine engine(subject->get(), options);
  return engine.Replay(source, result);
}

// Boehm is refused in sanitizer builds.
bool Unavailable(const std::string& policy) {
#if defined(__SANITIZE_ADDRESS__)
  return policy == "boehm";
#else
  (void)policy;
  return false;
#endif
}

TEST(GcReplayTest, RandomTracesVerifyAfterEveryCollection) {
  const std::uint64_t seed = testing_util::TestSeed();
  const std::vector<Event> trace = RandomGcTrace(seed, 30000);
  for (const char* policy :
       {"amc(chain=64k,256k;segment=16k;large=8k)",
        "amc(chain=64k,256k;segment=16k;large=8k;incremental=true;budget=64)",
        "amc(chain=32k;segment=16k;large=4k;arena=client;client_size=64m)",
        "amc(chain=64k,256k;segment=16k;large=8k;copy_reserve=false)",
        "ams(collect_after=64k;segment=16k;max_class=1024)",
        "ams(collect_after=64k;segment=16k;max_class=1024;incremental=true;budget=64)", "boehm"}) {
    SCOPED_TRACE(policy);
    if (Unavailable(policy)) continue;
    ReplayResult r;
    absl::Status s = Replay(policy, trace, &r);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(r.events, trace.size());
    EXPECT_GT(r.collections, 5u);
    EXPECT_GT(r.peak_footprint, 0u);
    EXPECT_GT(r.gc_seconds, 0.0);
    EXPECT_LE(r.mmu_50ms, 1.0);
  }
}

std::uint64_t Counter(const ReplayResult& r, const std::string& name) {
  for (const auto& [counter, value] : r.counters) {
    if (counter == name) return value;
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

// Replays `trace` (with --verify) through each stop-the-world collector
// this build has, and hands each outcome to `check`.
template <typename F>
void ForEachStopTheWorldCollector(const std::vector<Event>& trace, F check) {
  for (const char* policy : {"amc", "ams", "boehm"}) {
    SCOPED_TRACE(policy);
    if (Unavailable(policy)) continue;
    ReplayResult r;
    const absl::Status s = Replay(policy, trace, &r);
    check(s, r);
  }
}

TEST(GcReplayTest, ExplicitCollectionsCountOnce) {
  // Too little allocation for a collection of its own: the two COLLECTs
  // are all. (Boehm used to report each one twice: once timed by the
  // engine, once by its own collection callback. And, run after another
  // Boehm replay in this process, it crashed clearing that replay's
  // disappearing links in an id table since unmapped.)
  const std::vector<Event> trace = {
      Ev(EventKind::kAlloc, 1, 16, 0, 1), Ev(EventKind::kRootAdd, 1),  Ev(EventKind::kAlloc, 2, 16),
      Ev(EventKind::kStore, 1, 0, 2),     Ev(EventKind::kCollect, 0),  Ev(EventKind::kAlloc, 3, 16),
      Ev(EventKind::kCollect, 0),         Ev(EventKind::kAlloc, 4, 16)};
  ForEachStopTheWorldCollector(trace, [](const absl::Status& s, const ReplayResult& r) {
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(r.collections, 2u);
    // The collector's own count, too: this replay's, even where an earlier
    // test replayed through Boehm in this process.
    EXPECT_EQ(Counter(r, "collections"), 2u);
    EXPECT_GT(r.gc_seconds, 0.0);
    (void)Counter(r, "pause faults");
  });
}

TEST(GcReplayTest, RootsAreAMultiset) {
  // 1000 objects, each rooted twice; one ROOT_REMOVE each keeps them all,
  // the second lets the odd ones go. --verify checks after each COLLECT
  // that exactly the rooted objects survive, and the STOREs at the end
  // need the even ones alive (Boehm keeps its roots in an array that grows
  // past 64 cells here).
  std::vector<Event> trace;
  for (std::uint64_t id = 1; id <= 1000; ++id) {
    trace.push_back(Ev(EventKind::kAlloc, id, 64, 0, 1));
    trace.push_back(Ev(EventKind::kRootAdd, id));
    trace.push_back(Ev(EventKind::kRootAdd, id));
  }
  trace.push_back(Ev(EventKind::kCollect, 0));
  for (std::uint64_t id = 1; id <= 1000; ++id) trace.push_back(Ev(EventKind::kRootRemove, id));
  trace.push_back(Ev(EventKind::kCollect, 0));
  for (std::uint64_t id = 1; id <= 1000; id += 2) trace.push_back(Ev(EventKind::kRootRemove, id));
  trace.push_back(Ev(EventKind::kCollect, 0));
  for (std::uint64_t id = 2; id <= 1000; id += 2) trace.push_back(Ev(EventKind::kStore, id, 0, 0));
  ForEachStopTheWorldCollector(trace, [](const absl::Status& s, const ReplayResult& r) {
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(r.collections, 3u);
  });
}

TEST(GcReplayTest, PauseFaultsCountFreshToSpace) {
  // 512 KiB of rooted objects: the COLLECT copies them all into to-space
  // that nothing has touched, unless the arena touched it beforehand.
  std::vector<Event> trace;
  for (std::uint64_t id = 1; id <= 512; ++id) {
    trace.push_back(Ev(EventKind::kAlloc, id, 1024));
    trace.push_back(Ev(EventKind::kRootAdd, id));
  }
  trace.push_back(Ev(EventKind::kCollect, 0));
  ReplayResult fresh, touched;
  ASSERT_TRUE(Replay("amc", trace, &fresh).ok());
  ASSERT_TRUE(Replay("amc(arena_precommit=4m)", trace, &touched).ok());
  // 128 pages of to-space at least; nearly none when precommitted.
  EXPECT_GE(Counter(fresh, "pause faults"), 128u);
  EXPECT_LT(Counter(touched, "pause faults"), Counter(fresh, "pause faults") / 4);
}

TEST(GcReplayTest, CopyReserveTakesTrueOrFalse) {
  absl::StatusOr<PolicySpec> spec = PolicySpec::Parse("amc(copy_reserve=maybe)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<std::unique_ptr<Subject>> subject = MakeSubject(*spec);
  ASSERT_FALSE(subject.ok());
  EXPECT_NE(subject.status().message().find("copy_reserve=maybe: expected true or false"),
            std::string::npos)
      << subject.status();
}

TEST(GcReplayTest, NamingAReclaimedObjectIsReportedWithTheCollection) {
  // 1 is released by the register at the ALLOC of 2 and never rooted: the
  // COLLECT at event 2 reclaims it, so the ROOT_ADD at event 3 is wrong.
  const std::vector<Event> trace = {Ev(EventKind::kAlloc, 1, 16), Ev(EventKind::kAlloc, 2, 16),
                                    Ev(EventKind::kCollect, 0), Ev(EventKind::kRootAdd, 1)};
  for (const char* policy : {"amc", "ams"}) {
    ReplayResult r;
    absl::Status s = Replay(policy, trace, &r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("gc.trace: event 3: ROOT_ADD of id 1 was reclaimed by the "
                               "collection that ended at event 2"),
              std::string::npos)
        << s;
  }
}

TEST(GcReplayTest, TraceRuleBreakersAreSemanticErrors) {
  struct Case {
    std::vector<Event> events;
    const char* message;
  };
  const Case cases[] = {
      {{Ev(EventKind::kAlloc, 1, 16, 0, 1), Ev(EventKind::kStore, 1, 1, 0)},
       "event 1: STORE into slot 1 of id 1, which has 1 slots"},
      {{Ev(EventKind::kAlloc, 1, 8, 0, 2)}, "event 0: ALLOC of id 1 with 2 slots needs 16 bytes"},
      {{Ev(EventKind::kRootRemove, 4)}, "event 0: ROOT_REMOVE of id 4, which is not a root"},
      {{Ev(EventKind::kAlloc, 1, 16), Ev(EventKind::kFree, 1)},
       "event 1: free of id 1 in a replay through am"},
      {{Ev(EventKind::kStore, 9, 0, 0)}, "event 0: STORE into id 9 was never allocated"},
  };
  for (const Case& c : cases) {
    ReplayResult r;
    absl::Status s = Replay("amc", c.events, &r);
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s << "\nexpected: " << c.message;
    s = Replay("ams", c.events, &r);
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s << "\nexpected: " << c.message;
    // Lenient: counted and skipped.
    ReplayResult lenient;
    EXPECT_TRUE(Replay("amc", c.events, &lenient, true, true).ok());
    EXPECT_EQ(lenient.skipped, 1u);
  }
}

}  // namespace
}  // namespace replay
