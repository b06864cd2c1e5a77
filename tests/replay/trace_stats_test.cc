// workbench stats (replay/trace_stats.h): a hand-checked trace, the
// semantic errors the replay engine reports, and generated traces compared
// with a simple reference model that keeps every block in a std::map.
#include "replay/trace_stats.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/replay/trace_test_util.h"
#include "tests/util/seed.h"
#include "traces/generators/generators.h"

namespace replay_test {
namespace {

using replay::Event;
using replay::EventKind;
using replay::TraceStats;
using ::testing::HasSubstr;

std::string Write(const std::string& name, const std::vector<Event>& events) {
  const std::string path = TempPath(name);
  absl::Status s = WriteTrace(path, traces::TraceHeader(), events);
  EXPECT_TRUE(s.ok()) << s;
  return path;
}

TEST(TraceStatsTest, HistogramBucketsArePowersOfTwo) {
  EXPECT_EQ(replay::HistogramBucket(0), 0);
  EXPECT_EQ(replay::HistogramBucket(1), 1);
  EXPECT_EQ(replay::HistogramBucket(2), 2);
  EXPECT_EQ(replay::HistogramBucket(3), 2);
  EXPECT_EQ(replay::HistogramBucket(64), 7);
  EXPECT_EQ(replay::HistogramBucket(~std::uint64_t{0}), 64);
  EXPECT_EQ(replay::HistogramLabel(0), "0");
  EXPECT_EQ(replay::HistogramLabel(1), "1");
  EXPECT_EQ(replay::HistogramLabel(7), "64-127");
  EXPECT_EQ(replay::HistogramLabel(64), "9223372036854775808-18446744073709551615");
}

TEST(TraceStatsTest, HandCheckedTrace) {
  std::vector<Event> events = {
      AllocEvent(1, 100),                              // 0
      AllocEvent(2, 50, 0, replay::Flavour::kCalloc),  // 1
      ReallocEvent(1, 3, 200),                         // 2: live 250, peak
      FreeEvent(2),                                    // 3
      AllocEvent(4, 8),                                // 4: live 208
      FreeEvent(3),                                    // 5
      ReallocEvent(4, 4, 16),                          // 6: in place
  };
  events[0].thread = 1;
  events[0].time_ns = 500;
  events[6].thread = 2;
  events[6].time_ns = 2500;
  absl::StatusOr<TraceStats> s = replay::ComputeTraceStats(Write("hand.trace", events));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->Check(), "");
  EXPECT_EQ(s->events, 7u);
  EXPECT_EQ(s->per_kind[0], 3u);
  EXPECT_EQ(s->per_kind[1], 2u);
  EXPECT_EQ(s->per_kind[2], 2u);
  EXPECT_EQ(s->per_flavour[0], 2u);
  EXPECT_EQ(s->per_flavour[1], 1u);
  EXPECT_EQ(s->allocation_calls, 5u);
  EXPECT_EQ(s->bytes_allocated, 100u + 50 + 200 + 8 + 16);
  EXPECT_EQ(s->peak_live_bytes, 250u);
  EXPECT_EQ(s->peak_live_event, 2u);
  EXPECT_EQ(s->peak_live_blocks, 2u);
  EXPECT_EQ(s->live_blocks_at_end, 1u);
  EXPECT_EQ(s->live_bytes_at_end, 16u);
  // Sizes 100 (64-127), 50 (32-63), 200 (128-255), 8 (8-15), 16 (16-31).
  EXPECT_EQ(s->sizes[7], 1u);
  EXPECT_EQ(s->sizes[6], 1u);
  EXPECT_EQ(s->sizes[8], 1u);
  EXPECT_EQ(s->sizes[4], 1u);
  EXPECT_EQ(s->sizes[5], 1u);
  // Lifetimes: id 1 0->2 (2), id 2 1->3 (2), id 3 2->5 (3), id 4 4->6 (2).
  EXPECT_EQ(s->lifetimes[2], 4u);
  EXPECT_EQ(s->blocks_ended, 4u);
  EXPECT_EQ(s->threads, 3u);  // 1, 2 and the default 0.
  EXPECT_EQ(s->first_time_ns, 0u);
  EXPECT_EQ(s->last_time_ns, 2500u);
}

TEST(TraceStatsTest, SemanticErrorsAsTheEngineReportsThem) {
  const std::string path =
      Write("bad.trace", {AllocEvent(1, 16), FreeEvent(1), FreeEvent(1), FreeEvent(9),
                          ReallocEvent(7, 8, 4), AllocEvent(2, 8), AllocEvent(2, 8)});
  absl::StatusOr<TraceStats> strict = replay::ComputeTraceStats(path);
  ASSERT_FALSE(strict.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(strict.status()));
  EXPECT_THAT(strict.status().message(),
              HasSubstr(absl::StrCat(path,
                                     ": event 2: free of id 1 is not live: it was freed at "
                                     "event 1 (a double free)")));
  absl::StatusOr<TraceStats> lenient = replay::ComputeTraceStats(path, {.lenient = true});
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  EXPECT_EQ(lenient->Check(), "");
  EXPECT_EQ(lenient->skipped, 4u);
  ASSERT_EQ(lenient->skipped_examples.size(), 4u);
  EXPECT_THAT(lenient->skipped_examples[1],
              HasSubstr("event 3: free of id 9 is not live: no allocation with this id is "
                        "outstanding"));
  EXPECT_THAT(lenient->skipped_examples[2], HasSubstr("event 4: realloc of id 7 is not live"));
  EXPECT_THAT(lenient->skipped_examples[3],
              HasSubstr("event 6: allocation of id 2, which is already live"));
  EXPECT_EQ(lenient->live_blocks_at_end, 1u);
  EXPECT_EQ(lenient->peak_live_bytes, 16u);
}

TEST(TraceStatsTest, ReaderErrorsPassThrough) {
  absl::StatusOr<TraceStats> s = replay::ComputeTraceStats(TempPath("missing.trace"));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("missing.trace"));
}

// The reference model: every block in a std::map, every statistic computed
// the obvious way after reading the whole trace into memory.
TraceStats Model(const std::vector<Event>& events) {
  TraceStats m;
  struct Block {
    std::uint64_t size, born;
  };
  std::map<std::uint64_t, Block> live;
  std::set<std::uint32_t> threads;
  std::uint64_t bytes = 0;
  for (std::uint64_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    ++m.events;
    ++m.per_kind[static_cast<int>(e.kind)];
    threads.insert(e.thread);
    if (i == 0 || e.time_ns < m.first_time_ns) m.first_time_ns = e.time_ns;
    if (i == 0 || e.time_ns > m.last_time_ns) m.last_time_ns = e.time_ns;
    auto end = [&](std::uint64_t id) {
      const Block b = live.at(id);
      int bucket = 0;
      while (bucket < 64 && (std::uint64_t{1} << bucket) <= i - b.born) ++bucket;
      ++m.lifetimes[bucket];
      ++m.blocks_ended;
      bytes -= b.size;
      live.erase(id);
    };
    auto start = [&](std::uint64_t id, std::uint64_t size) {
      live[id] = Block{size, i};
      bytes += size;
      ++m.blocks_started;
      ++m.allocation_calls;
      m.bytes_allocated += size;
      int bucket = 0;
      while (bucket < 64 && (std::uint64_t{1} << bucket) <= size) ++bucket;
      ++m.sizes[bucket];
      if (bytes > m.peak_live_bytes) {
        m.peak_live_bytes = bytes;
        m.peak_live_event = i;
        m.peak_live_blocks = live.size();
      }
    };
    if (e.kind == EventKind::kAlloc) {
      ++m.per_flavour[static_cast<int>(e.flavour)];
      start(e.id, e.size);
    } else if (e.kind == EventKind::kFree) {
      end(e.id);
    } else if (e.kind == EventKind::kRealloc) {
      end(e.id);
      start(e.new_id, e.size);
    }
  }
  m.threads = threads.size();
  m.live_blocks_at_end = live.size();
  m.live_bytes_at_end = bytes;
  return m;
}

void ExpectSame(const TraceStats& a, const TraceStats& m, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(a.events, m.events);
  for (int k = 0; k < replay::kEventKindCount; ++k) EXPECT_EQ(a.per_kind[k], m.per_kind[k]);
  for (int f = 0; f < replay::kFlavourCount; ++f) EXPECT_EQ(a.per_flavour[f], m.per_flavour[f]);
  EXPECT_EQ(a.allocation_calls, m.allocation_calls);
  EXPECT_EQ(a.bytes_allocated, m.bytes_allocated);
  EXPECT_EQ(a.sizes, m.sizes);
  EXPECT_EQ(a.lifetimes, m.lifetimes);
  EXPECT_EQ(a.blocks_started, m.blocks_started);
  EXPECT_EQ(a.blocks_ended, m.blocks_ended);
  EXPECT_EQ(a.live_blocks_at_end, m.live_blocks_at_end);
  EXPECT_EQ(a.live_bytes_at_end, m.live_bytes_at_end);
  EXPECT_EQ(a.peak_live_bytes, m.peak_live_bytes);
  EXPECT_EQ(a.peak_live_event, m.peak_live_event);
  EXPECT_EQ(a.peak_live_blocks, m.peak_live_blocks);
  EXPECT_EQ(a.threads, m.threads);
  EXPECT_EQ(a.first_time_ns, m.first_time_ns);
  EXPECT_EQ(a.last_time_ns, m.last_time_ns);
  EXPECT_EQ(a.skipped, 0u);
}

TEST(TraceStatsTest, GeneratedTracesAgreeWithTheReferenceModel) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  for (const char* workload : {"random", "larson", "phases"}) {
    for (int round = 0; round < 3; ++round) {
      traces::GeneratorOptions o;
      o.workload = workload;
      o.seed = rng();
      o.events = 2000 + rng() % 20000;
      o.live = 1 + rng() % 300;
      o.max_size = 16 + rng() % 100000;
      o.threads = 1 + rng() % 4;
      o.phases = 1 + rng() % 5;
      const std::string what = absl::StrCat("seed=", seed, " workload=", workload,
                                            " generator seed=", o.seed, " events=", o.events);
      const std::string path = TempPath(absl::StrCat(workload, round, ".trace"));
      {
        absl::StatusOr<std::unique_ptr<replay::TraceWriter>> writer =
            replay::TraceWriter::Open(path, traces::TraceHeader(), {.events_per_chunk = 777});
        ASSERT_TRUE(writer.ok()) << writer.status();
        ASSERT_TRUE(traces::Generate(o, **writer).ok()) << what;
        ASSERT_TRUE((*writer)->Close().ok()) << what;
      }
      absl::StatusOr<std::vector<Event>> events = ReadTrace(path);
      ASSERT_TRUE(events.ok()) << events.status();
      absl::StatusOr<TraceStats> stats = replay::ComputeTraceStats(path);
      ASSERT_TRUE(stats.ok()) << stats.status() << " " << what;
      EXPECT_EQ(stats->Check(), "") << what;
      ExpectSame(*stats, Model(*events), what);
    }
  }
}

}  // namespace
}  // namespace replay_test
