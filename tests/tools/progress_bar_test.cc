#include "tools/cli/progress_bar.h"

#include "gtest/gtest.h"

namespace cli {
namespace {

TEST(ProgressBarTest, RendersFractionCountAndUnit) {
  EXPECT_EQ(ProgressBar::Render("compare mvff", 0.5, 5'200'000, "events"),
            "compare mvff  [##########----------]  50%  5.2M events");
  EXPECT_EQ(ProgressBar::Render("x", 0, 12, "events"), "x  [--------------------]   0%  12 events");
  // Out-of-range fractions are clamped, not drawn past the bar.
  EXPECT_EQ(ProgressBar::Render("x", 1.7, 45'000, "lines"),
            "x  [####################] 100%  45k lines");
}

TEST(ProgressBarTest, DisabledBarDrawsNothing) {
  testing::internal::CaptureStderr();
  {
    ProgressBar bar("quiet", /*enabled=*/false);
    bar.Update(0.5, 10);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace cli
