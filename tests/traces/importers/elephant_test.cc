// The Elephant Tracks importer on small hand-written traces: every record
// kind, slots and field numbering, errors naming the line, and the result
// checked with the GC trace check.
#include "traces/importers/elephant.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/gc_trace_check.h"
#include "tests/replay/trace_test_util.h"
#include "tests/traces/importers/import_test_util.h"

namespace importers_test {
namespace {

using replay::EventKind;
using ::testing::HasSubstr;

// A Node { Node next; Object value; } list built in a method, a reference
// array, a primitive array, and ET's method records.
constexpr char kTrace[] =
    "M 10 20 1\n"
    "N 100 24 Node 7 1\n"
    "R 100 1\n"
    "N 101 24 Node 7 1\n"
    "U 0 100 101 5 1\n"  // 100.next (field 5: slot 0) = 101
    "N 102 16 java/lang/Integer 8 1\n"
    "U 0 101 102 9 1\n"  // 101.value (field 9: slot 1) = 102
    "A 103 48 [Ljava/lang/Object; 9 4 1\n"
    "U 0 100 103 9 1\n"  // 100.value = 103: Node's field 9 is slot 1 for every Node
    "U 0 103 102 2 1\n"
    "A 104 40 [I 9 6 1\n"
    "E 10 20 1\n"
    "U 102 101 0 9 1\n"  // 101.value = null
    "D 102 1\n"
    "X 1 2\nT 1 2\nH 3 4\n";

TEST(ElephantImportTest, EveryRecordKind) {
  absl::StatusOr<Imported> r = ImportText(&traces::ImportElephant, "et.txt", kTrace);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<replay::Event>& e = r->events;
  ASSERT_EQ(e.size(), 12u);
  EXPECT_EQ(e[0].kind, EventKind::kAlloc);
  EXPECT_EQ(e[0].id, 100u);
  EXPECT_EQ(e[0].slots, 3u);  // 24 bytes: 3 words.
  EXPECT_EQ(e[0].site, 7u);
  EXPECT_EQ(e[0].thread, 1u);
  EXPECT_EQ(e[1].kind, EventKind::kRootAdd);
  EXPECT_EQ(e[3].kind, EventKind::kStore);
  EXPECT_EQ(e[3].size, 0u);
  EXPECT_EQ(e[3].new_id, 101u);
  EXPECT_EQ(e[5].size, 1u);
  EXPECT_EQ(e[6].slots, 4u);  // Reference array of length 4.
  EXPECT_EQ(e[7].size, 1u);   // Node field 9 again: slot 1.
  EXPECT_EQ(e[8].size, 0u);   // The array's field 2: its own numbering.
  EXPECT_EQ(e[9].slots, 0u);  // int[]: no references.
  EXPECT_EQ(e[10].new_id, 0u);
  EXPECT_EQ(e[11].kind, EventKind::kDeath);
  EXPECT_EQ(r->stats.lines, 17u);

  const std::string path = replay_test::TempPath("et.trace");
  ASSERT_TRUE(traces::ImportElephant(replay_test::TempPath("x"), path, false, nullptr).code() ==
              absl::StatusCode::kNotFound);
  ASSERT_TRUE(replay_test::WriteTrace(path, r->header, e).ok());
  absl::StatusOr<replay::GcCheckStats> check = replay::CheckGcTrace(path);
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_TRUE(check->gc_trace);
  EXPECT_EQ(check->objects, 5u);
  EXPECT_EQ(check->deaths, 1u);
}

TEST(ElephantImportTest, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"N 1 16 T 1\n", "line 1: expected ID SIZE TYPE SITE [LENGTH] THREAD after 'N', found 4"},
      {"N 1 x T 1 1\n", "line 1: 'x' is not a number"},
      {"N 0 16 T 1 1\n", "line 1: object id 0"},
      {"N 1 16 T 1 1\nN 1 16 T 1 1\n", "line 2: object 1 is allocated again"},
      {"U 0 5 0 1 1\n", "line 1: update of object 5, which was never allocated"},
      {"N 1 16 T 1 1\nU 0 1 9 1 1\n", "line 2: update to object 9, which was never allocated"},
      {"N 1 8 T 1 1\nU 0 1 1 3 1\nU 0 1 1 4 1\n",
       "line 3: field 4 is reference 2 of object 1's type, which has room for 1"},
      {"D 3 1\n", "line 1: death of object 3, which was never allocated"},
      {"R 1\n", "line 1: expected R ID THREAD"},
      {"Q 1 2\n", "line 1: unknown record 'Q'"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Imported> r = ImportText(&traces::ImportElephant, "bad.txt", c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_THAT(r.status().ToString(), HasSubstr(std::string("bad.txt: ") + c.message)) << c.text;
    absl::StatusOr<Imported> lenient =
        ImportText(&traces::ImportElephant, "bad.txt", c.text, /*lenient=*/true);
    ASSERT_TRUE(lenient.ok()) << lenient.status();
    EXPECT_EQ(lenient->stats.skipped_lines, 1u) << c.text;
  }
}

}  // namespace
}  // namespace importers_test
