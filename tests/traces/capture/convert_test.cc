// The raw-log converter on hand-made logs: the merge by order key, the
// consistency repairs, sites, the header, and errors that name the file.
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

RawEvent Alloc(std::uint64_t key, std::uint64_t size) {
  return RawEvent{.kind = RawKind::kAlloc, .key = key, .size = size};
}

RawEvent Free(std::uint64_t key, std::uint64_t block) {
  return RawEvent{.kind = RawKind::kFree, .key = key, .block = block};
}

RawEvent Realloc(std::uint64_t key, std::uint64_t block, std::uint64_t size, bool moved) {
  return RawEvent{
      .kind = RawKind::kRealloc, .key = key, .size = size, .block = block, .moved = moved};
}

// One flush of a thread's buffer: its events, and the clock at the flush.
struct Chunk {
  std::uint32_t tid, buffer;
  std::vector<RawEvent> events;
  std::uint64_t mono_ns = 1000, ticks = 1000;
  std::uint32_t missing_words = 0;  // Torn: words the header claims that are not there.
  bool sites = false;
};

// A log of pid 100 ("/bin/demo demo -x") holding `chunks` in file order,
// encoded as librecord does. Key k is at 1000 + 16k ticks; with a chunk's
// clock of (2000 ns, 3000 ticks), ticks are half a ns and key k is at 8k ns.
std::string WriteLog(const std::string& dir, const std::vector<Chunk>& chunks) {
  std::filesystem::create_directories(dir);
  RawLogHeader header;
  header.pid = 100;
  header.ppid = 1;
  header.init_mono_ns = 1000;
  header.init_real_ns = 1700000000000000000;
  header.page_size = 4096;
  header.init_ticks = 1000;
  header.key_base_ticks = 1000;
  const std::string exe = "/bin/demo";
  const std::string cmdline("demo\0-x\0", 8);
  header.exe_bytes = exe.size();
  header.cmdline_bytes = cmdline.size();
  std::string bytes(reinterpret_cast<const char*>(&header), sizeof(header));
  bytes += exe + cmdline;
  for (const Chunk& c : chunks) {
    std::vector<std::uint64_t> words(c.events.size() * kMaxEventWords);
    std::uint64_t* end = words.data();
    std::uint64_t last_key = 0;
    for (const RawEvent& e : c.events) {
      end = EncodeRawEvent(end, last_key, e, c.sites);
      last_key = e.key;
    }
    words.resize(end - words.data());
    RawChunk raw;
    raw.tid = c.tid;
    raw.buffer = c.buffer;
    raw.words = words.size() + c.missing_words;
    raw.mono_ns = c.mono_ns;
    raw.ticks = c.ticks;
    bytes.append(reinterpret_cast<const char*>(&raw), sizeof(raw));
    bytes.append(reinterpret_cast<const char*>(words.data()), words.size() * sizeof(words[0]));
  }
  const std::string path = dir + "/raw.100.1000.log";
  WriteFile(path, bytes);
  return path;
}

absl::StatusOr<TraceSummary> ConvertOnly(const std::string& dir, const std::string& out,
                                         ConvertOptions options = {}) {
  absl::StatusOr<std::vector<RawLogInfo>> logs = ListRawLogs(dir);
  if (!logs.ok()) return logs.status();
  EXPECT_EQ(logs->size(), 1u);
  return ConvertRawLog((*logs)[0], out, options);
}

TEST(ConvertTest, MergesThreadsByKeyAndRepairsUnknownBlocks) {
  const std::string dir = TempPath("merge");
  // Thread 101 (buffer 2) flushed first although thread 100 allocated first.
  const std::uint64_t first = RawId(1, 1), unknown = RawId(2, 3), made = RawId(4, 2);
  WriteLog(dir, {
                    {101,
                     2,
                     {
                         Free(3, first),                           // Cross-thread free.
                         Realloc(4, unknown, 48, /*moved=*/true),  // Of an unknown block.
                         {.kind = RawKind::kUsableSize, .key = 5, .block = made},  // Information.
                     }},
                    {100,
                     1,
                     {
                         Alloc(1, 32),
                         Free(2, RawId(1, 3)),  // Free of an unknown block.
                         Realloc(6, made, 64, /*moved=*/false),
                         Free(7, RawId(6, 1)),
                     },
                     /*mono_ns=*/2000,
                     /*ticks=*/3000},
                    {100, 1, {Alloc(8, 1)}, 2000, 3000, /*missing_words=*/1},  // Torn.
                });
  absl::StatusOr<std::vector<RawLogInfo>> logs = ListRawLogs(dir);
  ASSERT_TRUE(logs.ok()) << logs.status();
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].exe, "/bin/demo");
  EXPECT_THAT((*logs)[0].argv, testing::ElementsAre("demo", "-x"));
  const std::string out = TempPath("merge.trace");
  absl::StatusOr<TraceSummary> summary = ConvertRawLog((*logs)[0], out, {});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->events, 6u);
  EXPECT_EQ(summary->allocs, 3u);
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
  ASSERT_EQ(events->size(), 6u);
  EXPECT_EQ((*events)[0].kind, EventKind::kAlloc);
  EXPECT_EQ((*events)[0].id, 1u);
  EXPECT_EQ((*events)[0].size, 32u);
  EXPECT_EQ((*events)[0].thread, 1u);
  EXPECT_EQ((*events)[0].time_ns, 8u);
  EXPECT_EQ((*events)[1].kind, EventKind::kFree);
  EXPECT_EQ((*events)[1].id, 1u);
  EXPECT_EQ((*events)[1].thread, 2u);
  EXPECT_EQ((*events)[1].time_ns, 24u);
  EXPECT_EQ((*events)[2].kind, EventKind::kAlloc);  // The unknown block's realloc.
  EXPECT_EQ((*events)[2].flavour, replay::Flavour::kRealloc);
  EXPECT_EQ((*events)[2].id, 2u);
  EXPECT_EQ((*events)[2].size, 48u);
  EXPECT_EQ((*events)[3].kind, EventKind::kRealloc);
  EXPECT_EQ((*events)[3].id, 2u);
  EXPECT_EQ((*events)[3].new_id, 2u);
  EXPECT_EQ((*events)[3].size, 64u);
  EXPECT_EQ((*events)[4].kind, EventKind::kFree);
  EXPECT_EQ((*events)[4].id, 2u);
  EXPECT_EQ((*events)[5].kind, EventKind::kAlloc);  // The torn chunk's whole record.
  EXPECT_EQ((*events)[5].id, 3u);
}

TEST(ConvertTest, EqualKeysGoByBufferAndMovedReallocsGetNewIds) {
  const std::string dir = TempPath("ties");
  WriteLog(dir, {
                    {201, 2, {Alloc(5, 20)}},
                    {200,
                     1,
                     {
                         Alloc(5, 10),
                         Realloc(6, RawId(5, 2), 30, /*moved=*/true),
                         Free(7, RawId(6, 1)),
                     }},
                });
  const std::string out = TempPath("ties.trace");
  absl::StatusOr<TraceSummary> summary = ConvertOnly(dir, out);
  ASSERT_TRUE(summary.ok()) << summary.status();
  absl::StatusOr<std::vector<replay::Event>> events = ReadTrace(out);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ((*events)[0].size, 10u);  // Buffer 1 before buffer 2 at key 5.
  EXPECT_EQ((*events)[1].size, 20u);
  EXPECT_EQ((*events)[2].kind, EventKind::kRealloc);
  EXPECT_EQ((*events)[2].id, 2u);
  EXPECT_EQ((*events)[2].new_id, 3u);
  EXPECT_EQ((*events)[3].kind, EventKind::kFree);
  EXPECT_EQ((*events)[3].id, 3u);
  EXPECT_EQ(summary->peak_live_bytes, 40u);
}

// What does not fit one word: key jumps, huge sizes, old blocks, alignment
// and sites, each in its continuation word.
TEST(ConvertTest, LongEventsAndSitesRoundTrip) {
  const std::string dir = TempPath("long");
  const std::uint64_t far = std::uint64_t{1} << 40;   // Beyond a delta and an age.
  const std::uint64_t huge = std::uint64_t{1} << 45;  // Beyond a kAlloc word's size.
  WriteLog(dir,
           {{100,
             1,
             {
                 {.kind = RawKind::kAlloc,
                  .key = 1,
                  .size = 10,
                  .site = 0x1234,
                  .flavour = std::uint8_t(replay::Flavour::kMemalign),
                  .align_code = 7},
                 {.kind = RawKind::kAlloc, .key = 2, .size = huge, .site = 0x5678},
                 Realloc(far, RawId(1, 1), 20, /*moved=*/true),
                 {.kind = RawKind::kFree, .key = far + 1, .block = RawId(2, 1), .site = 0x1234},
                 Free(far + 2, RawId(far, 1)),
             },
             1000,
             1000,
             0,
             /*sites=*/true}});
  const std::string out = TempPath("long.trace");
  absl::StatusOr<TraceSummary> summary = ConvertOnly(dir, out, {.sites = true});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->unknown_blocks, 0u);
  traces::TraceHeader header;
  absl::StatusOr<std::vector<replay::Event>> events = ReadTrace(out, &header);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 5u);
  EXPECT_EQ((*events)[0].flavour, replay::Flavour::kMemalign);
  EXPECT_EQ((*events)[0].alignment, 64u);
  EXPECT_EQ((*events)[0].site, 1u);
  EXPECT_EQ((*events)[1].size, huge);
  EXPECT_EQ((*events)[1].site, 2u);
  EXPECT_EQ((*events)[2].kind, EventKind::kRealloc);
  EXPECT_EQ((*events)[2].id, 1u);
  EXPECT_EQ((*events)[2].new_id, 3u);
  EXPECT_EQ((*events)[2].size, 20u);
  EXPECT_EQ((*events)[3].kind, EventKind::kFree);
  EXPECT_EQ((*events)[3].id, 2u);
  EXPECT_EQ((*events)[3].site, 1u);
  EXPECT_EQ((*events)[4].id, 3u);
  EXPECT_THAT(header.notes(), testing::Contains("site 1: 0x1234"));
}

TEST(ConvertTest, AnIdMadeTwiceIsAnError) {
  const std::string dir = TempPath("twice");
  WriteLog(dir, {{100, 1, {Alloc(1, 10)}}, {100, 1, {Alloc(1, 10)}}});
  absl::StatusOr<TraceSummary> summary = ConvertOnly(dir, TempPath("twice.trace"));
  EXPECT_TRUE(absl::IsInternal(summary.status())) << summary.status();
  EXPECT_THAT(summary.status().message(), testing::HasSubstr("allocated twice"));
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
