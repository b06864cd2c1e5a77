// The visualizer's replay session, without a window: it stops where it is
// told, keeps its heap for the map, and ends cleanly wherever it is.
#include "viz/model/replay_session.h"

#include <cstdlib>
#include <string>
#include <thread>

#include "core/gc/object_format.h"
#include "gtest/gtest.h"
#include "traces/generators/generators.h"
#include "viz/model/arena_map.h"

namespace viz {
namespace {

std::string Trace(traces::GeneratorOptions options = {.events = 20000, .live = 300}) {
  const std::string path =
      std::string(std::getenv("TEST_TMPDIR")) + "/" + options.workload + ".trace";
  traces::TraceHeader header;
  auto writer = replay::TraceWriter::Open(path, header, {.events_per_chunk = 1000});
  EXPECT_TRUE(writer.ok());
  EXPECT_TRUE(traces::Generate(options, **writer).ok());
  EXPECT_TRUE((*writer)->Close().ok());
  return path;
}

TEST(ReplaySessionTest, StopsWhereToldAndKeepsTheHeapForTheMap) {
  const std::string trace = Trace();
  absl::StatusOr<std::unique_ptr<ReplaySession>> session = ReplaySession::Start(trace, "mvff");
  ASSERT_TRUE(session.ok()) << session.status();
  ReplaySession& s = **session;
  EXPECT_EQ(s.position(), 0u);
  s.AdvanceTo(1234);
  ASSERT_TRUE(s.WaitUntil(1234, std::chrono::seconds(20)));
  EXPECT_EQ(s.position(), 1234u);  // Not one event further.
  ASSERT_NE(s.arena(), nullptr);
  const ArenaMap map = BuildArenaMap(*s.arena(), 64, 4096);
  EXPECT_GT(map.count[static_cast<int>(core::SegmentType::kManualVariable)], 0u);
  EXPECT_GT(s.footprint(), 0u);
  // The chart has the engine's samples so far, in event order.
  const std::vector<ReplaySession::Point> chart = s.Chart();
  ASSERT_GT(chart.size(), 10u);
  for (std::size_t i = 1; i < chart.size(); ++i) EXPECT_GT(chart[i].event, chart[i - 1].event);
  EXPECT_LE(chart.back().event, 1234u);
  EXPECT_GT(chart.back().footprint, 0u);
  s.AdvanceTo(1u << 30);
  EXPECT_FALSE(s.WaitUntil(1u << 30, std::chrono::seconds(20)));  // The trace ends first.
  EXPECT_TRUE(s.at_end());
  EXPECT_GE(s.position(), 20000u);  // The generator writes about `events`.
  EXPECT_TRUE(s.status().ok()) << s.status();
}

TEST(ReplaySessionTest, EndsCleanlyMidwayAndReportsBadPolicies) {
  const std::string trace = Trace();
  {
    auto session = ReplaySession::Start(trace, "mfs-classes");
    ASSERT_TRUE(session.ok());
    (*session)->AdvanceTo(10);
    (*session)->WaitUntil(10, std::chrono::seconds(20));
  }  // Destroyed while the replay waits for more.
  EXPECT_FALSE(ReplaySession::Start(trace, "mvff(colour=red)").ok());
  EXPECT_FALSE(ReplaySession::Start("/no/such.trace", "mvff").ok());
}

// A GC trace: cons cells, long and short lived.
std::string GcTrace() { return Trace({.workload = "cons", .events = 60000}); }

// Small generations, and incremental steps that take many events.
constexpr char kIncrementalAmc[] =
    "amc(chain=64k;256k,segment=16k,large=8k,incremental=true,budget=1k,rate=0.05,share=1)";

TEST(ReplaySessionTest, FindsTheObjectAtAnAddressWhenStopped) {
  const std::string trace = GcTrace();
  auto session = ReplaySession::Start(trace, "amc");
  ASSERT_TRUE(session.ok()) << session.status();
  ReplaySession& s = **session;
  s.AdvanceTo(3);
  ASSERT_TRUE(s.WaitUntil(3, std::chrono::seconds(20)));
  std::optional<ReplaySession::HeapView> view = s.Inspect();
  ASSERT_TRUE(view.has_value()) << "stopped at its target, the heap can be looked at";
  EXPECT_EQ(view->position, 3u);
  EXPECT_GT(view->live, 0u);
  EXPECT_EQ(view->phase, core::gc::Phase::kIdle);
  EXPECT_TRUE(view->colors.empty()) << "no collection yet";
  ASSERT_FALSE(view->generations.empty());
  EXPECT_GT(view->generations[0], 0u);
  // The first object is at the base of the first nursery segment, the next
  // right after it.
  core::Addr nursery = 0;
  s.arena()->WalkChunks([&](core::Range chunk, const core::GrainInfo* info) {
    for (std::size_t g = 0; nursery == 0 && g < chunk.size() / s.arena()->grain_size(); ++g) {
      if (info[g].type == core::SegmentType::kNursery) {
        nursery = chunk.base + g * s.arena()->grain_size();
      }
    }
  });
  ASSERT_NE(nursery, 0u);
  const std::optional<ReplaySession::ObjectInfo> first = s.FindObject(nursery);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->base, nursery);
  EXPECT_EQ(first->generation, 0);
  EXPECT_EQ(s.FindObject(nursery + 8)->id, first->id) << "an address inside it finds it too";
  const core::Addr past = nursery + core::gc::ObjectFormat().Size(nursery);
  const std::optional<ReplaySession::ObjectInfo> second = s.FindObject(past);
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(second->id, first->id);
  EXPECT_FALSE(s.FindObject(1).has_value());
}

TEST(ReplaySessionTest, FindsManualBlocksFromTheIdTable) {
  const std::string trace = Trace();
  auto session = ReplaySession::Start(trace, "mvff");
  ASSERT_TRUE(session.ok()) << session.status();
  ReplaySession& s = **session;
  s.AdvanceTo(5000);
  ASSERT_TRUE(s.WaitUntil(5000, std::chrono::seconds(20)));
  while (!s.Inspect()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Every object found in an MVFF grain holds the address asked about.
  std::size_t found = 0, probed = 0;
  for (const Tile& tile : BuildArenaMap(*s.arena(), 64, 1 << 20).tiles) {
    if (tile.type != core::SegmentType::kManualVariable) continue;
    for (core::Addr a = tile.range.base; a < tile.range.limit; a += 16) {
      ++probed;
      if (const auto o = s.FindObject(a)) {
        ++found;
        EXPECT_LE(o->base, a);
        EXPECT_LT(a, o->base + std::max<std::uint64_t>(o->size, 1));
        EXPECT_EQ(o->generation, -1);
      }
    }
    if (probed > 4096) break;
  }
  EXPECT_GT(found, probed / 4) << "most of a manual segment is blocks";
}

// Behind a segregated cache, the heap view has the cached blocks apart
// from the free ones and the live ones, and the map tints their tiles.
TEST(ReplaySessionTest, ShowsTheBlocksASegregatedCacheHolds) {
  const std::string trace = Trace();
  auto session = ReplaySession::Start(trace, "mvff(sac_count=16)");
  ASSERT_TRUE(session.ok()) << session.status();
  ReplaySession& s = **session;
  s.AdvanceTo(5000);
  ASSERT_TRUE(s.WaitUntil(5000, std::chrono::seconds(20)));
  std::optional<ReplaySession::HeapView> view;
  while (!(view = s.Inspect())) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_FALSE(view->cached_blocks.empty());
  for (std::size_t i = 0; i < view->cached_blocks.size(); ++i) {
    const core::Range block = view->cached_blocks[i];
    if (i > 0) {
      EXPECT_LE(view->cached_blocks[i - 1].limit, block.base) << "sorted, disjoint";
    }
    EXPECT_FALSE(s.FindObject(block.base).has_value()) << "a cached block is not live";
    for (const core::Range& free : view->free_blocks) {
      EXPECT_FALSE(free.base < block.limit && block.base < free.limit) << "cached is not free";
    }
  }
  ArenaMap map = BuildArenaMap(*s.arena(), 64, 1 << 20);
  ApplyFreeBlocks(view->free_blocks, &map);
  ApplyCachedBlocks(view->cached_blocks, &map);
  EXPECT_GT(map.cached_tiles, 0u);
}

TEST(ReplaySessionTest, StepsToTheEndOfTheNextCollection) {
  const std::string trace = GcTrace();
  auto session = ReplaySession::Start(trace, "amc(chain=64k;256k,segment=16k,large=8k)");
  ASSERT_TRUE(session.ok()) << session.status();
  ReplaySession& s = **session;
  s.StepUntil(ReplaySession::StepGoal::kCollectionEnd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (s.stepping() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_FALSE(s.stepping());
  ASSERT_TRUE(s.Inspect().has_value());
  EXPECT_EQ(s.timeline().finished(), 1u);
  const std::uint64_t at = s.position();
  // It stopped at the first event after the collection: one event less
  // and a fresh replay has not collected yet.
  auto fresh = ReplaySession::Start(trace, "amc(chain=64k;256k,segment=16k,large=8k)");
  ASSERT_TRUE(fresh.ok());
  (*fresh)->AdvanceTo(at - 1);
  ASSERT_TRUE((*fresh)->WaitUntil(at - 1, std::chrono::seconds(30)));
  EXPECT_EQ((*fresh)->timeline().finished(), 0u);
  EXPECT_FALSE(s.Pauses().empty());
}

TEST(ReplaySessionTest, StopsMidCollectionAndShowsItsColours) {
  const std::string trace = GcTrace();
  auto session = ReplaySession::Start(trace, kIncrementalAmc);
  ASSERT_TRUE(session.ok()) << session.status();
  ReplaySession& s = **session;
  // Phase changes until one leaves the collection scanning.
  std::optional<ReplaySession::HeapView> view;
  for (int step = 0; step < 20; ++step) {
    s.StepUntil(ReplaySession::StepGoal::kPhaseChange);
    while (s.stepping()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    view = s.Inspect();
    ASSERT_TRUE(view.has_value());
    if (view->phase == core::gc::Phase::kScanGrey) break;
  }
  ASSERT_EQ(view->phase, core::gc::Phase::kScanGrey);
  ASSERT_FALSE(view->colors.empty());
  std::size_t bytes[core::gc::kTraceColorCount] = {};
  for (std::size_t i = 0; i < view->colors.size(); ++i) {
    const ColorRun& run = view->colors[i];
    if (i > 0) {
      EXPECT_LE(view->colors[i - 1].range.limit, run.range.base);
    }
    bytes[static_cast<int>(run.color)] += run.range.size();
  }
  EXPECT_GT(bytes[static_cast<int>(core::gc::TraceColor::kCondemned)], 0u);
  // The map shows them.
  ArenaMap map = BuildArenaMap(*s.arena(), 64, 1 << 16);
  ApplyTraceColors(view->colors, &map);
  std::size_t coloured = 0;
  for (const Tile& tile : map.tiles) {
    if (tile.trace_color) {
      ++coloured;
      EXPECT_EQ(tile.color, ColorOf(*tile.trace_color));
    }
  }
  EXPECT_GT(coloured, 0u);
  EXPECT_EQ(map.color_count[static_cast<int>(core::gc::TraceColor::kCondemned)] > 0, true);
}

TEST(ReplaySessionTest, InspectIsRefusedWhileTheReplayRuns) {
  const std::string trace = Trace();
  auto session = ReplaySession::Start(trace, "mvff");
  ASSERT_TRUE(session.ok());
  // Before it has parked at all there is nothing safe to look at; once
  // parked there is. (The replay thread may park at once at target 0.)
  (*session)->AdvanceTo(500);
  ASSERT_TRUE((*session)->WaitUntil(500, std::chrono::seconds(20)));
  // WaitUntil returns when dispatched; the thread parks right after.
  std::optional<ReplaySession::HeapView> view;
  for (int i = 0; i < 1000 && !view; ++i) {
    view = (*session)->Inspect();
    if (!view) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->position, 500u);
  EXPECT_STRNE(view->last_kind, "");
}

}  // namespace
}  // namespace viz
