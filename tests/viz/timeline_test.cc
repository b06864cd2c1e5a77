// The collection timeline's model: phases become spans of events, a span
// ends where the next phase begins, and idle ends a collection.
#include "viz/model/timeline.h"

#include "gtest/gtest.h"

namespace viz {
namespace {

using core::gc::Phase;

TEST(TimelineTest, PhasesBecomeSpansOfEvents) {
  CollectionTimeline t;
  t.SetEvent(100);
  t.OnCollectionPhase(nullptr, 1, Phase::kCondemn);
  t.OnCollectionPhase(nullptr, 1, Phase::kScanRoots);
  t.SetEvent(105);
  t.OnCollectionPhase(nullptr, 1, Phase::kScanGrey);
  t.SetEvent(140);
  t.OnCollectionPhase(nullptr, 1, Phase::kReclaim);
  t.SetEvent(150);
  t.OnCollectionPhase(nullptr, 1, Phase::kIdle);
  t.SetEvent(900);  // A long mutator stretch: no span grows over it.
  t.OnCollectionPhase(nullptr, 2, Phase::kCondemn);
  const std::vector<PhaseSpan> spans = t.Spans();
  ASSERT_EQ(spans.size(), 5u);
  EXPECT_EQ(spans[0].phase, Phase::kCondemn);
  EXPECT_EQ(spans[2].begin_event, 105u);
  EXPECT_EQ(spans[2].end_event, 140u);
  EXPECT_EQ(spans[3].phase, Phase::kReclaim);
  EXPECT_EQ(spans[3].end_event, 150u);
  EXPECT_EQ(spans[4].collection, 2u);
  EXPECT_EQ(spans[4].begin_event, 900u);
  EXPECT_EQ(t.finished(), 1u);
}

TEST(TimelineTest, EveryPhaseHasItsOwnColour) {
  for (int a = 0; a < core::gc::kPhaseCount; ++a) {
    for (int b = a + 1; b < core::gc::kPhaseCount; ++b) {
      EXPECT_NE(ColorOf(static_cast<Phase>(a)), ColorOf(static_cast<Phase>(b)));
    }
  }
}

}  // namespace
}  // namespace viz
