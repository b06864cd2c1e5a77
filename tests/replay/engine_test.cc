#include "replay/engine.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "replay/isolated_replay.h"
#include "replay/policy_spec.h"
#include "replay/pool_subjects.h"
#include "tests/replay/trace_test_util.h"

namespace replay {
namespace {

using replay_test::AllocEvent;
using replay_test::FreeEvent;
using replay_test::ReallocEvent;

std::string WriteTrace(const std::string& name, const std::vector<Event>& events) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name + ".trace";
  traces::TraceHeader header;
  header.set_program("engine_test");
  auto writer = TraceWriter::Open(path, header, TraceWriterOptions{.events_per_chunk = 7});
  EXPECT_TRUE(writer.ok()) << writer.status();
  std::uint64_t t = 0;
  for (Event e : events) {
    e.time_ns = t += 10;
    EXPECT_TRUE((*writer)->Write(e).ok());
  }
  EXPECT_TRUE((*writer)->Close().ok());
  return path;
}

PolicyRun Replay(const std::string& path, const std::string& policy, EngineOptions options = {}) {
  return ReplayHere(path, policy, options);
}

TEST(EngineTest, CountsPeaksAndVerifiedContents) {
  const std::string path = WriteTrace(
      "basic", {AllocEvent(1, 100), AllocEvent(2, 5000, 64), AllocEvent(3, 0),
                AllocEvent(4, 48, 0, Flavour::kCalloc), ReallocEvent(1, 5, 300), FreeEvent(2),
                ReallocEvent(5, 5, 20), FreeEvent(3), FreeEvent(4), FreeEvent(5)});
  for (const char* policy : {"mvff", "mfs-classes", "node-slice-classes"}) {
    PolicyRun run = Replay(path, policy, EngineOptions{.verify = true});
    ASSERT_TRUE(run.status.ok()) << policy << ": " << run.status;
    const ReplayResult& r = run.result;
    EXPECT_EQ(r.events, 10u);
    EXPECT_EQ(r.per_kind[static_cast<int>(EventKind::kAlloc)], 4u);
    EXPECT_EQ(r.per_kind[static_cast<int>(EventKind::kRealloc)], 2u);
    EXPECT_EQ(r.peak_live, 100u + 5000 + 0 + 48 + 300 - 100);
    EXPECT_EQ(r.live, 0u);
    EXPECT_GE(r.peak_footprint, r.peak_live);
    EXPECT_FALSE(r.series.empty());
    EXPECT_GE(r.fragmentation_at_peak(), 0.0);
  }
}

TEST(EngineTest, SemanticErrorsNameTheFileTheEventAndWhatWasExpected) {
  struct Case {
    const char* name;
    std::vector<Event> events;
    const char* says;
    std::uint64_t index;
  };
  const std::vector<Case> cases = {
      {"unknown", {AllocEvent(1, 8), FreeEvent(9)}, "id 9 is not live", 1},
      {"double",
       {AllocEvent(1, 8), FreeEvent(1), FreeEvent(1)},
       "freed at event 1 (a double free)",
       2},
      {"duplicate", {AllocEvent(1, 8), AllocEvent(1, 8)}, "already live", 1},
      {"absurd", {AllocEvent(1, std::uint64_t{1} << 44)}, "exceeds the sane bound", 0},
      {"realloc_unknown", {ReallocEvent(4, 5, 10)}, "realloc of id 4 is not live", 0},
      {"realloc_onto_live",
       {AllocEvent(1, 8), AllocEvent(2, 8), ReallocEvent(1, 2, 16)},
       "already live",
       2},
  };
  for (const Case& c : cases) {
    const std::string path = WriteTrace(c.name, c.events);
    PolicyRun run = Replay(path, "mvff");
    ASSERT_FALSE(run.status.ok()) << c.name;
    const std::string message(run.status.message());
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(absl::StrCat("event ", c.index, ":")), std::string::npos) << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << message;
  }
}

TEST(EngineTest, LenientModeCountsSkipsAndReports) {
  const std::string path = WriteTrace("lenient", {AllocEvent(1, 8), FreeEvent(7), FreeEvent(1),
                                                  FreeEvent(1), AllocEvent(2, 16), FreeEvent(2)});
  PolicyRun run = Replay(path, "mvff", EngineOptions{.lenient = true});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.result.skipped, 2u);
  ASSERT_EQ(run.result.skipped_examples.size(), 2u);
  EXPECT_NE(run.result.skipped_examples[1].find("double free"), std::string::npos);
  EXPECT_EQ(run.result.events, 6u);
}

TEST(EngineTest, ExhaustionIsThePolicysFailureWithItsReason) {
  std::vector<Event> events;
  for (std::uint64_t id = 1; id <= 400; ++id) events.push_back(AllocEvent(id, 10000));
  const std::string path = WriteTrace("exhaust", events);
  PolicyRun run = Replay(path, "mvff(arena=client,client_size=16m,commit_limit=1m)");
  ASSERT_EQ(run.status.code(), absl::StatusCode::kResourceExhausted) << run.status;
  EXPECT_NE(run.status.message().find("commit limit"), std::string::npos) << run.status;
  EXPECT_GT(run.result.events, 50u);
}

// An allocator with a bug: every other block overlaps the previous one.
class OverlappingSubject : public Subject {
 public:
  OverlappingSubject() : Subject("overlapping") {}
  void* Allocate(std::size_t size, std::size_t) override {
    if (size > sizeof(arena_) / 2) return nullptr;
    return arena_ + (count_++ % 2) * 16;
  }
  void Free(void*, std::size_t, std::size_t) override {}
  std::string FailureReason() const override { return "too large"; }
  std::size_t Footprint() const override { return sizeof(arena_); }
  std::size_t PeakFootprint() const override { return sizeof(arena_); }

 private:
  alignas(16) unsigned char arena_[1 << 12];
  int count_ = 0;
};

TEST(EngineTest, VerifyReportsOverlappingBlocksWithTheEventIndex) {
  const std::string path =
      WriteTrace("overlap", {AllocEvent(1, 64), AllocEvent(2, 64), FreeEvent(1)});
  OverlappingSubject subject;
  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ReplayResult result;
  absl::Status status = Engine(&subject, EngineOptions{.verify = true}).Replay(**reader, &result);
  ASSERT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("event 2: block of id 1"), std::string::npos) << status;
  EXPECT_NE(status.message().find("overwritten at offset 16"), std::string::npos) << status;
}

TEST(EngineTest, ChildProcessGivesTheSameResultAsInProcess) {
  std::vector<Event> events;
  for (std::uint64_t id = 1; id <= 3000; ++id) {
    events.push_back(AllocEvent(id, 16 + (id * 37) % 900));
    if (id % 3 == 0) events.push_back(FreeEvent(id - 1));
  }
  const std::string path = WriteTrace("child", events);
  const std::string policy = "mfs-classes(arena=client,client_size=32m)";
  PolicyRun here = ReplayHere(path, policy, {});
  PolicyRun child = ReplayInChild(path, policy, {});
  ASSERT_TRUE(here.status.ok()) << here.status;
  ASSERT_TRUE(child.status.ok()) << child.status;
  EXPECT_EQ(child.result.events, here.result.events);
  EXPECT_EQ(child.result.peak_live, here.result.peak_live);
  EXPECT_EQ(child.result.peak_footprint, here.result.peak_footprint);
  EXPECT_EQ(child.result.series.size(), here.result.series.size());
  EXPECT_LE(here.result.series.size(), 2000u);
  // A failing policy in a child is reported, not fatal.
  PolicyRun bad = ReplayInChild(path, "mvff(colour=red)", {});
  EXPECT_NE(bad.status.message().find("unknown argument 'colour'"), std::string::npos)
      << bad.status;
}

TEST(EngineTest, ChildReportsTheReadersErrorWithFileAndEvent) {
  std::vector<Event> events;
  for (std::uint64_t id = 1; id <= 100; ++id) events.push_back(AllocEvent(id, 24));
  const std::string path = WriteTrace("cut", events);
  // Cut the file inside a later chunk: the first chunks replay, then the
  // reader's error (in the parent) becomes the child's result.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string cut = path + ".cut";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() * 2 / 3);
  PolicyRun child = ReplayInChild(cut, "mvff", {});
  EXPECT_FALSE(child.status.ok());
  EXPECT_NE(child.status.message().find(cut), std::string::npos) << child.status;
  EXPECT_GT(child.result.events, 0u);
  EXPECT_LT(child.result.events, 100u);
  PolicyRun here = ReplayHere(cut, "mvff", {});
  EXPECT_EQ(here.status, child.status);
  EXPECT_EQ(here.result.events, child.result.events);
}

TEST(EngineTest, ResultEncodingRoundTrips) {
  ReplayResult r;
  r.subject = "mvff(spare=0.5)";
  r.events = 12;
  r.per_kind[2] = 3;
  r.seconds = 0.25;
  r.peak_live = 99;
  r.skipped_examples = {"a.trace: event 3: line\nbreak \\ here"};
  r.counters = {{"arena commit calls", 4}};
  r.series = {{1, 2, 3}, {4, 5, 6}};
  ReplayResult back;
  absl::Status status;
  ASSERT_TRUE(DecodeResult(EncodeResult(r, absl::NotFoundError("gone")), &back, &status).ok());
  EXPECT_EQ(back.subject, r.subject);
  EXPECT_EQ(back.per_kind[2], 3u);
  EXPECT_EQ(back.skipped_examples, r.skipped_examples);
  EXPECT_EQ(back.counters, r.counters);
  EXPECT_EQ(back.series.size(), 2u);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(DecodeResult("events 3\n", &back, &status).ok());  // No "end": truncated.
}

}  // namespace
}  // namespace replay
