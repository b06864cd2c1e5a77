// The shipped sample traces (traces/samples/) read and replay cleanly, and
// say how they were recorded.
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "replay/isolated_replay.h"
#include "replay/trace_io.h"

namespace {

TEST(SamplesTest, EverySampleReplaysWithoutSemanticErrors) {
  const std::string dir = absl::StrCat(std::getenv("TEST_SRCDIR"), "/workbench/traces/samples");
  int samples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string path = entry.path().string();
    SCOPED_TRACE(path);
    absl::StatusOr<std::unique_ptr<replay::TraceReader>> reader = replay::TraceReader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ((*reader)->header().capture_tool(), "workbench record");
    EXPECT_FALSE((*reader)->header().program().empty());
    replay::PolicyRun run = replay::ReplayHere(path, "mvff", replay::EngineOptions{});
    EXPECT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.result.skipped, 0u);
    EXPECT_GT(run.result.events, 0u);
    ++samples;
  }
  EXPECT_GE(samples, 5);
}

}  // namespace
