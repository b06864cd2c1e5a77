// Time travel: seeking back takes over the nearest checkpoint, and the heap
// it shows is the heap a replay from the start shows at that event.
#include "viz/model/time_travel.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "traces/generators/generators.h"
#include "viz/model/arena_map.h"

namespace viz {
namespace {

std::string Trace() {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/travel.trace";
  traces::TraceHeader header;
  auto writer = replay::TraceWriter::Open(path, header, {.events_per_chunk = 1000});
  EXPECT_TRUE(writer.ok());
  EXPECT_TRUE(traces::Generate({.events = 20000, .live = 300}, **writer).ok());
  EXPECT_TRUE((*writer)->Close().ok());
  return path;
}

// The segment types of the map, tile by tile: the same heap layout gives
// the same sequence wherever the arena was mapped.
std::vector<core::SegmentType> Layout(const ReplaySession& s) {
  std::vector<core::SegmentType> types;
  for (const Tile& tile : BuildArenaMap(*s.arena(), 64, 1 << 16).tiles) types.push_back(tile.type);
  return types;
}

TEST(TimeTravelTest, SeeksBackFromTheNearestCheckpoint) {
  const std::string trace = Trace();
  auto travel = TimeTravel::Start(trace, "mvff", {.interval = 2000, .max_checkpoints = 3});
  ASSERT_TRUE(travel.ok()) << travel.status();
  TimeTravel& t = **travel;
  ASSERT_EQ(*t.Seek(7000), 0u);
  ASSERT_TRUE(t.live().WaitUntil(7000, std::chrono::seconds(30)));
  // Checkpoints are built one at a time, the latest three behind 7000.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    ASSERT_TRUE(t.Maintain().ok());
    if (t.checkpoints() == std::vector<std::uint64_t>{2000, 4000, 6000} && t.IsBuilt(2000) &&
        t.IsBuilt(4000) && t.IsBuilt(6000)) {
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "checkpoints never built";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  // Back to 5000: from the checkpoint at 4000, which it takes over.
  ASSERT_EQ(*t.Seek(5000), 4000u);
  ASSERT_TRUE(t.live().WaitUntil(5000, std::chrono::seconds(30)));
  EXPECT_EQ(t.checkpoints(), (std::vector<std::uint64_t>{2000, 6000}));
  // The same heap as a replay from the start.
  auto fresh = ReplaySession::Start(trace, "mvff");
  ASSERT_TRUE(fresh.ok());
  (*fresh)->AdvanceTo(5000);
  ASSERT_TRUE((*fresh)->WaitUntil(5000, std::chrono::seconds(30)));
  EXPECT_EQ(t.live().footprint(), (*fresh)->footprint());
  EXPECT_EQ(Layout(t.live()), Layout(**fresh));

  // Forward again: the replay on screen goes on.
  EXPECT_EQ(*t.Seek(5500), 5000u);
  // Forward past a checkpoint: it takes over the checkpoint at 6000.
  EXPECT_EQ(*t.Seek(6500), 6000u);
  // Behind every checkpoint: a fresh replay from the start.
  EXPECT_EQ(*t.Seek(100), 0u);
  ASSERT_TRUE(t.live().WaitUntil(100, std::chrono::seconds(30)));
  // Behind the replay shown, the checkpoints it no longer needs go.
  ASSERT_TRUE(t.Maintain().ok());
  EXPECT_TRUE(t.checkpoints().empty());
}

TEST(TimeTravelTest, ReportsABadPolicy) {
  EXPECT_FALSE(TimeTravel::Start(Trace(), "mvff(colour=red)", {}).ok());
}

}  // namespace
}  // namespace viz
