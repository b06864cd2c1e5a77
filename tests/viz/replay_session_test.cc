// The visualizer's replay session, without a window: it stops where it is
// told, keeps its heap for the map, and ends cleanly wherever it is.
#include "viz/model/replay_session.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "traces/generators/generators.h"
#include "viz/model/arena_map.h"

namespace viz {
namespace {

std::string Trace() {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/session.trace";
  traces::GeneratorOptions options;
  options.events = 20000;
  options.live = 300;
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

}  // namespace
}  // namespace viz
