// The mtrace importer: a hand-written log with every kind of line, errors
// naming the file, line and what was expected, lenient mode, random damage.
#include "traces/importers/mtrace.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/replay/trace_test_util.h"
#include "tests/traces/importers/import_test_util.h"
#include "tests/util/seed.h"

namespace importers_test {
namespace {

using replay::Event;
using replay_test::AllocEvent;
using replay_test::FreeEvent;
using replay_test::ReallocEvent;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr traces::ImportFn kImport = &traces::ImportMtrace;

Event At(Event e, std::uint32_t site) {
  e.site = site;
  return e;
}

const char kLog[] =
    "= Start\n"
    "@ ./prog:[0x4005d6] + 0x55d0c2a2a2a0 0x64\n"
    "@ /lib/libc.so.6:(__libc_start_main+0xf3)[0x7f0000001234] + 0x55d0c2a2a310 0x20\r\n"
    "+ 0x55d0c2a2a400 0\n"
    "@ ./prog:[0x4005e0] < 0x55d0c2a2a2a0\n"
    "@ ./prog:[0x4005e0] > 0x55d0c2a2a500 0xc8\n"
    "< 0x55d0c2a2a500\n"
    "> 0x55d0c2a2a500 0x10\n"
    "! 0x55d0c2a2a500 0xffffffffffff\n"
    "@ ./prog:[0x4005d6] - 0x55d0c2a2a310\n"
    "@ [0x4005f0] + 0x55d0c2a2a310 0x30\n"
    "- (nil)\n"
    "+ (nil) 0x1000000\n"
    "\n"
    "- 0x55d0c2a2a500\n"
    "= End";

TEST(MtraceImportTest, EveryKindOfLine) {
  absl::StatusOr<Imported> imported = ImportText(kImport, "log.txt", kLog);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->events, (std::vector<Event>{
                                  At(AllocEvent(1, 100), 1),
                                  At(AllocEvent(2, 32), 2),
                                  AllocEvent(3, 0),
                                  At(ReallocEvent(1, 4, 200), 3),  // Moved: a new id.
                                  ReallocEvent(4, 4, 16),          // In place: the same id.
                                  At(FreeEvent(2), 1),
                                  At(AllocEvent(5, 48), 4),  // A reused address: a new id.
                                  FreeEvent(4),
                              }));
  EXPECT_EQ(imported->stats.lines, 16u);
  EXPECT_EQ(imported->stats.events, 8u);
  EXPECT_THAT(imported->header.capture_tool(), HasSubstr("mtrace"));
}

TEST(MtraceImportTest, ErrorsNameTheFileTheLineAndWhatWasExpected) {
  ExpectRefused(
      kImport,
      {
          {"= Start\n* 0x10 0x20\n", "line 2: unknown operation '*' (expected +, -, <, >, ! or =)"},
          {"+ 0x10\n", "line 1: expected 2 operands (+ ADDRESS SIZE), found 1"},
          {"+ 0x10 0x20 0x30\n", "line 1: expected 2 operands (+ ADDRESS SIZE), found 3"},
          {"+ 0xzz 0x20\n", "line 1: '0xzz' is not a hex address (+ ADDRESS SIZE)"},
          {"+ 0x10 big\n", "line 1: 'big' is not a hex size (+ ADDRESS SIZE)"},
          {"+ 0x10 0x20\n- 0x30\n", "line 2: free of 0x30, which is not live (expected an earlier"},
          {"+ 0x10 0x20\n+ 0x10 0x8\n", "line 2: address 0x10 is allocated again while live"},
          {"+ 0x10 0x20\n< 0x10\n- 0x10\n",
           "line 2: realloc of 0x10: '<' must be followed by its '> ADDRESS SIZE' line"},
          {"+ 0x10 0x20\n< 0x10\n", "line 2: realloc of 0x10: '<' must be followed"},
          {"> 0x10 0x20\n", "line 1: '>' without the '<' line of its realloc just before it"},
          {"< 0x10\n> 0x20 0x8\n", "line 1: realloc of 0x10, which is not live"},
          {"+ 0x10 0x20\n+ 0x20 0x20\n< 0x10\n> 0x20 0x8\n",
           "line 4: realloc to 0x20, which is already live"},
          {"@ ./prog:[0x4005d6 + 0x10 0x20\n", "line 1: expected '@ CALLER[ADDRESS] ' before"},
          {"+ 0x10 0x2000000000000\n", "line 1: size 562949953421312 exceeds the limit"},
          {"+ 0x10 0x20\nhello world\n", "line 2: expected an operation"},
      });
}

TEST(MtraceImportTest, LenientCountsAndSkipsBadLines) {
  absl::StatusOr<Imported> imported = ImportText(kImport, "lenient.txt",
                                                 "+ 0x10 0x20\n"
                                                 "- 0x99\n"      // Not live.
                                                 "+ 0x10 0x8\n"  // Live.
                                                 "< 0x10\n"      // Dangling.
                                                 "? 1\n"         // Unknown.
                                                 "< 0x10\n"
                                                 "> 0x30 0x40\n"
                                                 "- 0x30\n",
                                                 /*lenient=*/true);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->stats.skipped_lines, 4u);
  ASSERT_EQ(imported->stats.first_errors.size(), 4u);
  EXPECT_THAT(imported->stats.first_errors[2], HasSubstr("line 4: realloc of 0x10: '<' must"));
  EXPECT_EQ(imported->events,
            (std::vector<Event>{AllocEvent(1, 32), ReallocEvent(1, 2, 64), FreeEvent(2)}));
}

TEST(MtraceImportTest, RandomDamageNeverCrashes) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  const std::string log = kLog;
  for (int round = 0; round < 500; ++round) {
    std::string bytes = log;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 3 == 0) bytes.resize(rng() % bytes.size());
    const std::string path = replay_test::TempPath("damaged.txt");
    replay_test::WriteFile(path, bytes);
    for (bool lenient : {false, true}) {
      absl::StatusOr<Imported> imported = ImportFile(kImport, path, lenient);
      if (!imported.ok()) {
        EXPECT_THAT(std::string(imported.status().message()), StartsWith(path + ": "))
            << "seed=" << seed << " round=" << round;
      } else if (lenient) {
        EXPECT_LE(imported->stats.events + imported->stats.skipped_lines,
                  imported->stats.lines + 1);
      }
    }
  }
}

}  // namespace
}  // namespace importers_test
