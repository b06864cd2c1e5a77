#include "tools/cli/table.h"

#include <sstream>

#include "gtest/gtest.h"

namespace cli {
namespace {

Table Sample() {
  Table table({"pool", "ns/op", "note"});
  table.AddRow({"mvff", "103.7", "a, \"quoted\" note"});
  table.AddRow({"mfs", "17.1", ""});
  return table;
}

std::string Render(const Table& table, TableFormat format) {
  std::ostringstream out;
  table.Write(out, format);
  return out.str();
}

TEST(TableTest, TextAlignsNumbersRightAndTextLeft) {
  EXPECT_EQ(Render(Sample(), TableFormat::kText),
            "pool  ns/op  note\n"
            "----  -----  ----------------\n"
            "mvff  103.7  a, \"quoted\" note\n"
            "mfs    17.1\n");
}

TEST(TableTest, CsvQuotesWhatNeedsIt) {
  EXPECT_EQ(Render(Sample(), TableFormat::kCsv),
            "pool,ns/op,note\n"
            "mvff,103.7,\"a, \"\"quoted\"\" note\"\n"
            "mfs,17.1,\n");
}

TEST(TableTest, JsonKeepsNumbersAsNumbers) {
  EXPECT_EQ(Render(Sample(), TableFormat::kJson),
            "[\n"
            " {\"pool\": \"mvff\", \"ns/op\": 103.7, \"note\": \"a, \\\"quoted\\\" note\"},\n"
            " {\"pool\": \"mfs\", \"ns/op\": 17.1, \"note\": \"\"}\n"
            "]\n");
}

// A policy's counters: for tools, beside its other figures; for people,
// a table of their own.
Table WithCounters() {
  Table table({"policy", "status"});
  table.AddGroup("counters", {"copied", "marked"});
  table.AddRow({"amc", "ok", "4096", ""});
  table.AddRow({"ams", "ok", "", "12"});
  return table;
}

TEST(TableTest, GroupIsLeftOutOfText) {
  EXPECT_EQ(Render(WithCounters(), TableFormat::kText),
            "policy  status\n"
            "------  ------\n"
            "amc     ok\n"
            "ams     ok\n");
}

TEST(TableTest, GroupColumnsAreNamedByTheGroupInCsv) {
  EXPECT_EQ(Render(WithCounters(), TableFormat::kCsv),
            "policy,status,counters.copied,counters.marked\n"
            "amc,ok,4096,\n"
            "ams,ok,,12\n");
}

TEST(TableTest, GroupIsAnObjectOfItsNonEmptyCellsInJson) {
  EXPECT_EQ(Render(WithCounters(), TableFormat::kJson),
            "[\n"
            " {\"policy\": \"amc\", \"status\": \"ok\", \"counters\": {\"copied\": 4096}},\n"
            " {\"policy\": \"ams\", \"status\": \"ok\", \"counters\": {\"marked\": 12}}\n"
            "]\n");
}

TEST(TableTest, UnknownFormatIsAnError) {
  EXPECT_TRUE(ParseTableFormat("csv").ok());
  auto bad = ParseTableFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("expected table, csv or json"), std::string::npos);
}

}  // namespace
}  // namespace cli
