// The heaptrack importer: a checked-in capture (zstd, gzip and plain) imported to
// its exact events, LIFO pairing of frees, every error naming the file and
// line, lenient mode, truncated and corrupted files.
#include "traces/importers/heaptrack.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/trace_stats.h"
#include "tests/replay/trace_test_util.h"
#include "tests/traces/importers/import_test_util.h"
#include "tests/util/seed.h"

namespace importers_test {
namespace {

using replay::Event;
using replay_test::AllocEvent;
using replay_test::FreeEvent;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr traces::ImportFn kImport = &traces::ImportHeaptrack;

Event At(Event e, std::uint32_t site = 0, std::uint64_t time_ns = 0) {
  e.site = site;
  e.time_ns = time_ns;
  return e;
}

// `heaptrack mtrace_prog` (heaptrack 1.4.0, Debian 12): the program's
// allocations (see mtrace_prog.c; heaptrack records a realloc as a free and
// an allocation) after libstdc++'s 72704-byte emergency pool.
const std::vector<Event> kCaptureEvents = {
    At(AllocEvent(1, 72704), 4),
    At(AllocEvent(2, 100), 8),
    At(AllocEvent(3, 32), 9),
    FreeEvent(2),
    At(AllocEvent(4, 4000), 10),
    FreeEvent(4),
    At(AllocEvent(5, 1000), 11),
    At(AllocEvent(6, 50), 12),
    FreeEvent(3),
    At(AllocEvent(7, 32), 13),
    At(AllocEvent(8, 256), 14),
    FreeEvent(5),
    FreeEvent(7),
    FreeEvent(6),
    FreeEvent(8),
    FreeEvent(1),
};

TEST(HeaptrackImportTest, CheckedInCaptureZstdAndGzip) {
  for (const char* name :
       {"mtrace_prog.heaptrack.zst", "mtrace_prog.heaptrack.gz", "mtrace_prog.heaptrack"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<Imported> imported = ImportFile(kImport, TestData(name));
    ASSERT_TRUE(imported.ok()) << imported.status();
    EXPECT_EQ(imported->events, kCaptureEvents);
    EXPECT_EQ(imported->stats.events, kCaptureEvents.size());
    EXPECT_EQ(imported->stats.lines, 80u);
    EXPECT_EQ(imported->stats.skipped_lines, 0u);
    EXPECT_EQ(imported->header.program(), "./mtrace_prog");
    EXPECT_EQ(imported->header.page_size(), 4096u);
    EXPECT_THAT(imported->header.capture_tool(), HasSubstr("heaptrack"));
  }
}

TEST(HeaptrackImportTest, CheckedInCaptureMatchesHeaptrackPrint) {
  // heaptrack_print on the file: "calls to allocation functions: 8",
  // "peak heap memory consumption: 76.74K".
  const std::string out = replay_test::TempPath("capture.trace");
  ASSERT_TRUE(
      traces::ImportHeaptrack(TestData("mtrace_prog.heaptrack.zst"), out, false, nullptr).ok());
  absl::StatusOr<replay::TraceStats> stats = replay::ComputeTraceStats(out);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->allocation_calls, 8u);
  EXPECT_EQ(stats->peak_live_bytes, 72704u + 32 + 4000);
}

TEST(HeaptrackImportTest, FreesPairWithTheLatestLiveAllocationOfTheirInfo) {
  absl::StatusOr<Imported> imported = ImportText(kImport, "lifo.txt",
                                                 "v 10400 3\n"
                                                 "# a comment\n"
                                                 "a 10 5\n"
                                                 "c 2\n"
                                                 "+ 0\n"
                                                 "+ 0\n"
                                                 "- 0\n"
                                                 "c a\n"
                                                 "+ 0\n"
                                                 "- 0\n"
                                                 "- 0\n"
                                                 "R 3be\n");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(
      imported->events,
      (std::vector<Event>{At(AllocEvent(1, 16), 5, 2000000), At(AllocEvent(2, 16), 5, 2000000),
                          At(FreeEvent(2), 0, 2000000), At(AllocEvent(3, 16), 5, 10000000),
                          At(FreeEvent(3), 0, 10000000), At(FreeEvent(1), 0, 10000000)}));
}

TEST(HeaptrackImportTest, CommandLinesThatAreNotUtf8AreEscaped) {
  // Protobuf strings must be UTF-8; a command line is any bytes.
  absl::StatusOr<Imported> imported =
      ImportText(kImport, "utf8.txt", "v 10400 3\nX ./caf\xe9 \xff\xfe ok\xc3\xa9\n");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->header.program(), "./caf\\xe9");
  ASSERT_EQ(imported->header.command_line_size(), 3);
  EXPECT_EQ(imported->header.command_line(1), "\\xff\\xfe");
  EXPECT_EQ(imported->header.command_line(2), "ok\xc3\xa9");
}

TEST(HeaptrackImportTest, ErrorsNameTheFileTheLineAndWhatWasExpected) {
  ExpectRefused(
      kImport,
      {
          {"v 10400 3\n+ 0\n", "line 2: allocation info 0 is not defined (expected an 'a' record"},
          {"v 10400 3\na 8 1\n- 0\n",
           "line 3: free of allocation info 0, which has no live allocation"},
          {"v 10400 3\na 8 1\n+ zz\n", "line 3: 'zz' is not a hex number (+ ALLOCATION_INFO)"},
          {"v 10400 3\na 8\n", "line 2: expected 2 hex numbers (a SIZE TRACE), found 1"},
          {"v 10400 9\n", "line 1: file format version 9 is not supported (expected 1 to 3"},
          {"a 8 1\n+ 0\n", "line 2: allocation before the 'v' record"},
          {"v 10400 3\nQ 1\n", "line 2: unknown record 'Q 1' (expected a record type"},
          {"v 10400 3\n+0\n", "line 2: unknown record '+0'"},
          {"v 10400 3\nc -1\n", "line 2: '-1' is not a hex number (c MILLISECONDS)"},
          {"v 10400 3\na 1000000000000000 1\n+ 0\n", "line 3: size"},
      });
}

TEST(HeaptrackImportTest, LenientCountsAndSkipsBadLines) {
  absl::StatusOr<Imported> imported = ImportText(kImport, "lenient.txt",
                                                 "v 10400 3\n"
                                                 "a 8 1\n"
                                                 "+ 0\n"
                                                 "+ 7\n"
                                                 "- 0\n"
                                                 "- 0\n"
                                                 "what\n"
                                                 "a 8\n"
                                                 "a 20 2\n"
                                                 "+ 1\n"
                                                 "+ 2\n",
                                                 /*lenient=*/true);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->stats.skipped_lines, 5u);
  EXPECT_EQ(imported->stats.first_errors.size(), 5u);
  EXPECT_THAT(imported->stats.first_errors[0], HasSubstr("line 4: allocation info 7"));
  EXPECT_THAT(imported->stats.first_errors[4], HasSubstr("line 10: allocation info 1 was a bad"));
  // The bad 'a' keeps its number, so "a 20 2" is info 2.
  EXPECT_EQ(imported->events,
            (std::vector<Event>{At(AllocEvent(1, 8), 1), FreeEvent(1), At(AllocEvent(2, 32), 2)}));
}

TEST(HeaptrackImportTest, MissingTruncatedAndCorruptFiles) {
  absl::StatusOr<Imported> missing = ImportFile(kImport, replay_test::TempPath("nothing.zst"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_THAT(missing.status().message(), HasSubstr("nothing.zst: no such file"));

  for (const char* name : {"mtrace_prog.heaptrack.zst", "mtrace_prog.heaptrack.gz"}) {
    SCOPED_TRACE(name);
    const std::string bytes = replay_test::ReadFile(TestData(name));
    for (std::size_t keep : {bytes.size() / 2, bytes.size() - 1}) {
      const std::string path = replay_test::TempPath(absl::StrCat("cut_", name));
      replay_test::WriteFile(path, bytes.substr(0, keep));
      for (bool lenient : {false, true}) {
        absl::StatusOr<Imported> imported = ImportFile(kImport, path, lenient);
        ASSERT_FALSE(imported.ok()) << keep;
        EXPECT_TRUE(absl::IsDataLoss(imported.status())) << imported.status();
        EXPECT_THAT(std::string(imported.status().message()), StartsWith(path + ": line "));
        EXPECT_THAT(imported.status().message(), HasSubstr("truncated"));
      }
    }
  }
}

// Random damage to the decompressed capture and to the compressed files:
// every result is a clean import or an error that names the file.
TEST(HeaptrackImportTest, RandomDamageNeverCrashes) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  std::vector<std::string> inputs;
  for (const char* name : {"mtrace_prog.heaptrack.zst", "mtrace_prog.heaptrack.gz"}) {
    inputs.push_back(replay_test::ReadFile(TestData(name)));
  }
  inputs.push_back(replay_test::ReadFile(TestData("mtrace_prog.heaptrack")));
  for (int round = 0; round < 300; ++round) {
    std::string bytes = inputs[rng() % inputs.size()];
    if (bytes.empty()) continue;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 3 == 0) bytes.resize(rng() % bytes.size());
    const std::string path = replay_test::TempPath("damaged");
    replay_test::WriteFile(path, bytes);
    for (bool lenient : {false, true}) {
      absl::StatusOr<Imported> imported = ImportFile(kImport, path, lenient);
      if (!imported.ok()) {
        EXPECT_THAT(std::string(imported.status().message()), StartsWith(path + ": "))
            << "seed=" << seed << " round=" << round;
      }
    }
  }
}

}  // namespace
}  // namespace importers_test
