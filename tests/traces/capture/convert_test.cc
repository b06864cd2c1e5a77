// The raw-log converter on hand-made logs: the merge by sequence number,
// the consistency repairs, the header, and errors that name the file.
#include "traces/capture/convert.h"

#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/replay/trace_test_util.h"

namespace capture {
namespace {

using replay::EventKind;
using replay_test::ReadTrace;
using replay_test::TempPath;
using replay_test::WriteFile;

// A record; an ALLOC's id (and a moved REALLOC's new id) is its seq.
RawRecord Rec(std::uint64_t seq, RawKind kind, std::uint64_t id, bool moved, std::uint64_t size,
              std::uint32_t tid) {
  RawRecord r{};
  r.seq = seq;
  r.ticks = 1000 + seq * 20;
  r.kind = kind;
  r.id = id;
  r.moved = moved;
  r.size = size;
  r.tid = tid;
  return r;
}

RawRecord Clock(std::uint64_t mono_ns, std::uint64_t ticks) {
  RawRecord r{};
  r.kind = RawKind::kClock;
  r.ticks = mono_ns;
  r.size = ticks;
  return r;
}

// A log of pid 100 ("/bin/demo demo -x") holding `records` in file order.
std::string WriteLog(const std::string& dir, const std::vector<RawRecord>& records,
                     const std::string& tail = "") {
  std::filesystem::create_directories(dir);
  RawLogHeader header;
  header.pid = 100;
  header.ppid = 1;
  header.init_mono_ns = 1000;
  header.init_real_ns = 1700000000000000000;
  header.page_size = 4096;
  header.init_ticks = 1000;
  const std::string exe = "/bin/demo";
  const std::string cmdline("demo\0-x\0", 8);
  header.exe_bytes = exe.size();
  header.cmdline_bytes = cmdline.size();
  std::string bytes(reinterpret_cast<const char*>(&header), sizeof(header));
  bytes += exe + cmdline;
  bytes.append(reinterpret_cast<const char*>(records.data()), records.size() * sizeof(RawRecord));
  bytes += tail;
  const std::string path = dir + "/raw.100.1000.log";
  WriteFile(path, bytes);
  return path;
}

TEST(ConvertTest, MergesThreadsBySequenceAndRepairsUnknownBlocks) {
  const std::string dir = TempPath("merge");
  // Thread 101 flushed first although thread 100 allocated first.
  WriteLog(dir,
           {
               Rec(3, RawKind::kFree, 1, false, 0, 101),         // Cross-thread free.
               Rec(4, RawKind::kRealloc, 9, true, 48, 101),      // Realloc of an unknown block.
               Rec(5, RawKind::kUsableSize, 4, false, 56, 101),  // Information only.
               Rec(1, RawKind::kAlloc, 0, false, 32, 100),
               Rec(2, RawKind::kFree, 77, false, 0, 100),     // Free of an unknown block.
               Rec(6, RawKind::kRealloc, 4, false, 64, 100),  // In place.
               Rec(7, RawKind::kFree, 4, false, 0, 100),
               Clock(/*mono_ns=*/2000, /*ticks=*/3000),  // Two ticks a ns.
           },
           std::string(10, 'x'));  // A torn last record.
  absl::StatusOr<std::vector<RawLogInfo>> logs = ListRawLogs(dir);
  ASSERT_TRUE(logs.ok()) << logs.status();
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].exe, "/bin/demo");
  EXPECT_THAT((*logs)[0].argv, testing::ElementsAre("demo", "-x"));
  const std::string out = TempPath("merge.trace");
  absl::StatusOr<TraceSummary> summary = ConvertRawLog((*logs)[0], out, {});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->events, 5u);
  EXPECT_EQ(summary->allocs, 2u);
  EXPECT_EQ(summary->frees, 2u);
  EXPECT_EQ(summary->reallocs, 1u);
  EXPECT_EQ(summary->threads, 2u);
  EXPECT_EQ(summary->unknown_blocks, 2u);
  EXPECT_EQ(summary->usable_size_calls, 1u);
  EXPECT_EQ(summary->peak_live_bytes, 64u);

  traces::TraceHeader header;
  absl::StatusOr<std::vector<replay::Event>> events = ReadTrace(out, &header);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(header.program(), "/bin/demo");
  EXPECT_THAT(header.command_line(), testing::ElementsAre("demo", "-x"));
  EXPECT_EQ(header.capture_tool(), "workbench record");
  EXPECT_EQ(header.page_size(), 4096u);
  ASSERT_EQ(header.threads_size(), 2);
  EXPECT_EQ(header.threads(0).name(), "main");
  EXPECT_THAT(header.notes(), testing::Contains(testing::HasSubstr("ended inside a record")));
  ASSERT_EQ(events->size(), 5u);
  EXPECT_EQ((*events)[0].kind, EventKind::kAlloc);
  EXPECT_EQ((*events)[0].thread, 1u);
  EXPECT_EQ((*events)[0].time_ns, 10u);
  EXPECT_EQ((*events)[1].kind, EventKind::kFree);
  EXPECT_EQ((*events)[1].id, 1u);
  EXPECT_EQ((*events)[1].thread, 2u);
  EXPECT_EQ((*events)[2].kind, EventKind::kAlloc);  // The unknown block's realloc.
  EXPECT_EQ((*events)[2].flavour, replay::Flavour::kRealloc);
  EXPECT_EQ((*events)[2].id, 4u);
  EXPECT_EQ((*events)[3].kind, EventKind::kRealloc);
  EXPECT_EQ((*events)[3].new_id, 4u);
  EXPECT_EQ((*events)[4].kind, EventKind::kFree);
}

TEST(ConvertTest, ErrorsNameTheFile) {
  const std::string dir = TempPath("bad");
  std::filesystem::create_directories(dir);
  WriteFile(dir + "/raw.1.2.log", std::string(100, 'x'));
  absl::StatusOr<std::vector<RawLogInfo>> logs = ListRawLogs(dir);
  EXPECT_TRUE(absl::IsInvalidArgument(logs.status())) << logs.status();
  EXPECT_THAT(logs.status().message(), testing::HasSubstr("raw.1.2.log: not a librecord raw log"));

  WriteFile(dir + "/raw.1.2.log", "short");
  logs = ListRawLogs(dir);
  EXPECT_TRUE(absl::IsDataLoss(logs.status())) << logs.status();

  EXPECT_FALSE(ListRawLogs(TempPath("missing")).ok());
}

}  // namespace
}  // namespace capture
