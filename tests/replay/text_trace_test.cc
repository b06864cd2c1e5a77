// The text form: lossless round trips both ways, the golden samples in
// traces/testdata/, and errors naming the file and line.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/event.h"
#include "replay/trace_io.h"
#include "tests/replay/trace_test_util.h"
#include "tests/util/seed.h"

namespace replay_test {
namespace {

using replay::Event;
using replay::EventKind;
using ::testing::HasSubstr;
using ::testing::Not;

std::string TestData(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr) return "traces/testdata/" + name;
  return absl::StrCat(srcdir, "/", workspace != nullptr ? workspace : "__main__",
                      "/traces/testdata/", name);
}

TEST(TextTraceTest, BinaryToTextToBinaryIsLossless) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  for (bool compress : {false, true}) {
    const std::vector<Event> events = RandomEvents(rng, 3000);
    const std::string binary = TempPath(compress ? "a.trace.zst" : "a.trace");
    ASSERT_TRUE(WriteTrace(binary, FullHeader(), events, {.events_per_chunk = 128}).ok());
    const std::string text = TempPath("a.txt");
    absl::Status s = replay::WriteTextTrace(binary, text);
    ASSERT_TRUE(s.ok()) << s;
    const std::string back = TempPath("b.trace");
    replay::TextImportStats stats;
    s = replay::ImportTextTrace(text, back, /*lenient=*/false, &stats);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(stats.events, events.size());
    EXPECT_EQ(stats.skipped_lines, 0u);
    traces::TraceHeader header;
    absl::StatusOr<std::vector<Event>> read = ReadTrace(back, &header);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, events) << "seed=" << seed;
    EXPECT_EQ(header.SerializeAsString(), FullHeader().SerializeAsString()) << header.DebugString();
    // And text -> binary -> text gives the same text.
    const std::string text2 = TempPath("b.txt");
    ASSERT_TRUE(replay::WriteTextTrace(back, text2).ok());
    EXPECT_EQ(ReadFile(text), ReadFile(text2));
  }
}

TEST(TextTraceTest, GoldenSamplesAgree) {
  // sample.txt imports to exactly the events of sample.trace and
  // sample.trace.zst (written by an earlier build: the format is stable).
  const std::string imported = TempPath("sample.trace");
  absl::Status s = replay::ImportTextTrace(TestData("sample.txt"), imported, false);
  ASSERT_TRUE(s.ok()) << s;
  traces::TraceHeader header;
  absl::StatusOr<std::vector<Event>> events = ReadTrace(imported, &header);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(header.program(), "/bin/demo");
  ASSERT_EQ(events->size(), 12u);
  EXPECT_EQ((*events)[0].kind, EventKind::kAlloc);
  EXPECT_EQ((*events)[0].alignment, 16u);
  EXPECT_EQ((*events)[0].flavour, replay::Flavour::kCalloc);
  EXPECT_EQ((*events)[0].time_ns, 1200u);
  for (const char* golden : {"sample.trace", "sample.trace.zst"}) {
    traces::TraceHeader golden_header;
    absl::StatusOr<std::vector<Event>> expected = ReadTrace(TestData(golden), &golden_header);
    ASSERT_TRUE(expected.ok()) << expected.status();
    EXPECT_EQ(*expected, *events) << golden;
    EXPECT_EQ(golden_header.SerializeAsString(), header.SerializeAsString()) << golden;
  }
}

TEST(TextTraceTest, HeaderBytesThatAreNotUtf8AreEscapedNotLost) {
  const std::string text = TempPath("latin1.txt");
  WriteFile(text, "# program: caf\xe9 \xff\n# note: ok \xc3\xa9\nalloc 1 8\n");
  const std::string binary = TempPath("latin1.trace");
  ASSERT_TRUE(replay::ImportTextTrace(text, binary, false).ok());
  traces::TraceHeader header;
  absl::StatusOr<std::vector<Event>> events = ReadTrace(binary, &header);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(header.program(), "caf\\xe9 \\xff");
  EXPECT_EQ(header.notes(0), "ok \xc3\xa9");  // Valid UTF-8 is kept as it is.
}

TEST(TextTraceTest, DefaultsMayBeOmittedOrGiven) {
  const std::string text = TempPath("defaults.txt");
  WriteFile(text,
            "# program: bare words are fine\n"
            "#   thread: 7\n"
            "alloc 1 8 align=0 flavour=malloc thread=0 t=0 site=0 hint=0   # trailing comment\n"
            "\talloc   2  8\r\n"
            "\n"
            "# program: after the first event this is a comment\n"
            "free 1 hint=3\n");
  const std::string binary = TempPath("defaults.trace");
  absl::Status s = replay::ImportTextTrace(text, binary, false);
  ASSERT_TRUE(s.ok()) << s;
  traces::TraceHeader header;
  absl::StatusOr<std::vector<Event>> events = ReadTrace(binary, &header);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(header.program(), "bare words are fine");
  ASSERT_EQ(header.threads_size(), 1);
  EXPECT_EQ(header.threads(0).id(), 7u);
  ASSERT_EQ(events->size(), 3u);
  Event first;
  first.id = 1;
  first.size = 8;
  EXPECT_EQ((*events)[0], first);
  EXPECT_EQ((*events)[1].id, 2u);
  EXPECT_EQ((*events)[2].pool_hint, 3u);
}

TEST(TextTraceTest, GcEventsRoundTrip) {
  const std::string text = TempPath("gc.txt");
  const std::string body =
      "alloc 1 32 slots=2 t=5\n"
      "root-add 1\n"
      "alloc 2 16 slots=2\n"
      "store 1 0 2\n"
      "alloc 3 4000000\n"
      "store 2 1 3\n"
      "root-remove 1\n"
      "death 1\n"
      "collect\n";
  WriteFile(text, body);
  const std::string binary = TempPath("gc.trace");
  absl::Status s = replay::ImportTextTrace(text, binary, false);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<std::vector<Event>> events = ReadTrace(binary);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 9u);
  EXPECT_EQ((*events)[0].slots, 2u);
  EXPECT_EQ((*events)[0].time_ns, 5u);
  EXPECT_EQ((*events)[4].slots, 0u);
  const std::string back = TempPath("gc2.txt");
  ASSERT_TRUE(replay::WriteTextTrace(binary, back).ok());
  EXPECT_THAT(ReadFile(back), HasSubstr(body));
}

TEST(TextTraceTest, EmptyTextGivesAnEmptyTrace) {
  const std::string text = TempPath("empty.txt");
  WriteFile(text, "# only a comment\n");
  const std::string binary = TempPath("empty.trace");
  ASSERT_TRUE(replay::ImportTextTrace(text, binary, false).ok());
  absl::StatusOr<std::vector<Event>> events = ReadTrace(binary);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

struct BadLine {
  const char* line;
  const char* message;
};

TEST(TextTraceTest, ErrorsNameTheFileAndLine) {
  const BadLine cases[] = {
      {"allocate 1 2", "unknown event 'allocate' (expected alloc, free"},
      {"alloc 1", "expected 2 numbers after 'alloc' (alloc ID SIZE), found 1"},
      {"realloc 1 2 align=4", "expected 3 numbers after 'realloc' (realloc OLD_ID NEW_ID SIZE)"},
      {"free x1", "'x1' is not a number (free ID)"},
      {"free -1", "'-1' is not a number"},
      {"free 18446744073709551616", "'18446744073709551616' is not a number (free ID)"},
      {"free 1 2", "unexpected '2' (free ID takes no more numbers"},
      {"alloc 1 8 align=24", "alignment 24 is not a power of two"},
      {"alloc 1 281474976710657", "size 281474976710657 exceeds the limit 2^48"},
      {"alloc 1 8 flavour=mallocc", "unknown flavour 'mallocc'"},
      {"alloc 1 8 t=1 t=2", "option 't' given twice"},
      {"free 1 align=8", "unknown option 'align' for free (expected thread, t, site or hint)"},
      {"store 1 0 2 slots=1",
       "unknown option 'slots' for store (expected thread, t, site or hint)"},
      {"alloc 1 8 slots=2", "2 slots need 16 bytes but the size is 8"},
      {"alloc 1 8 slots=4294967296", "option slots: '4294967296' is not a valid number"},
      {"collect thread=x", "option thread: 'x' is not a valid number"},
      {"collect thread=4294967296", "option thread: '4294967296' is not a valid number"},
  };
  for (const BadLine& c : cases) {
    const std::string text = TempPath("bad.txt");
    WriteFile(text, absl::StrCat("# program: p\n\nalloc 9 9\n", c.line, "\nfree 9\n"));
    const std::string binary = TempPath("bad.trace");
    absl::Status s = replay::ImportTextTrace(text, binary, false);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.line;
    EXPECT_THAT(s.ToString(), HasSubstr(text + ": line 4: " + c.message)) << c.line;
    EXPECT_TRUE(ReadFile(binary).empty()) << "the output is removed on error";
    // Lenient: skipped and counted, the rest imported.
    replay::TextImportStats stats;
    s = replay::ImportTextTrace(text, binary, true, &stats);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(stats.skipped_lines, 1u) << c.line;
    EXPECT_EQ(stats.events, 2u);
    EXPECT_EQ(stats.lines, 5u);
    ASSERT_EQ(stats.first_errors.size(), 1u);
    EXPECT_THAT(stats.first_errors[0], HasSubstr(": line 4: "));
    absl::StatusOr<std::vector<Event>> events = ReadTrace(binary);
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->size(), 2u);
  }
}

TEST(TextTraceTest, HeaderErrors) {
  const BadLine cases[] = {
      {"# format_version: 99", "line 2: unsupported format_version '99' (expected 1)"},
      {"# page_size: big", "line 2: page_size: 'big' is not a number"},
      {"# capture_time_ns: -5", "line 2: capture_time_ns: '-5' is not a number"},
      {"# thread: main", "line 2: thread: expected 'ID \"name\"', found 'main'"},
      {"# program: \"unterminated", "line 2: program: a string that starts with '\"' must end"},
      {"# note: \"bad \\q escape\"", "line 2: note: bad escape in string"},
  };
  for (const BadLine& c : cases) {
    const std::string text = TempPath("badheader.txt");
    WriteFile(text, absl::StrCat("# a comment: with a colon\n", c.line, "\nalloc 1 1\n"));
    absl::Status s = replay::ImportTextTrace(text, TempPath("x.trace"), false);
    EXPECT_THAT(s.ToString(), HasSubstr(text + ": " + c.message)) << c.line;
    replay::TextImportStats stats;
    EXPECT_TRUE(replay::ImportTextTrace(text, TempPath("x.trace"), true, &stats).ok());
    EXPECT_EQ(stats.skipped_lines, 1u);
  }
}

TEST(TextTraceTest, LenientSummaryOnStderr) {
  const std::string text = TempPath("many_bad.txt");
  std::string body;
  for (int i = 0; i < 15; ++i) body += "bad line\nfree 1\n";
  WriteFile(text, body);
  testing::internal::CaptureStderr();
  absl::Status s = replay::ImportTextTrace(text, TempPath("x.trace"), true);
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(s.ok());
  EXPECT_THAT(err, HasSubstr(text + ": skipped 15 bad lines of 30 (15 events imported)"));
  EXPECT_THAT(err, HasSubstr(": line 19: unknown event 'bad'"));
  EXPECT_THAT(err, Not(HasSubstr(": line 21: ")));
  EXPECT_THAT(err, HasSubstr("...")) << "only the first 10 are listed";
}

TEST(TextTraceTest, MissingFiles) {
  absl::Status s = replay::ImportTextTrace("/nonexistent/x.txt", TempPath("x.trace"), false);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.ToString(), HasSubstr("/nonexistent/x.txt"));
  s = replay::WriteTextTrace("/nonexistent/x.trace", TempPath("x.txt"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
}

TEST(TextTraceTest, BadBinaryInputRemovesTheTextOutput) {
  const std::string binary = TempPath("cut.trace");
  ASSERT_TRUE(
      WriteTrace(binary, FullHeader(), std::vector<Event>(100, Event()), {.events_per_chunk = 10})
          .ok());
  std::string bytes = ReadFile(binary);
  WriteFile(binary, bytes.substr(0, bytes.size() - 30));
  const std::string text = TempPath("cut.txt");
  absl::Status s = replay::WriteTextTrace(binary, text);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.ToString(), HasSubstr(binary));
  EXPECT_TRUE(ReadFile(text).empty());
}

}  // namespace
}  // namespace replay_test
