#include "tests/traces/importers/import_test_util.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/replay/trace_test_util.h"

namespace importers_test {

absl::StatusOr<Imported> ImportFile(traces::ImportFn import, const std::string& in_path,
                                    bool lenient) {
  const std::string out = replay_test::TempPath("imported.trace");
  std::filesystem::remove(out);
  Imported result;
  absl::Status status = import(in_path, out, lenient, &result.stats);
  if (!status.ok()) {
    EXPECT_FALSE(std::filesystem::exists(out)) << "a failed import left " << out;
    return status;
  }
  absl::StatusOr<std::vector<replay::Event>> events = replay_test::ReadTrace(out, &result.header);
  if (!events.ok()) return events.status();
  result.events = *std::move(events);
  return result;
}

absl::StatusOr<Imported> ImportText(traces::ImportFn import, const std::string& name,
                                    const std::string& text, bool lenient) {
  const std::string path = replay_test::TempPath(name);
  replay_test::WriteFile(path, text);
  return ImportFile(import, path, lenient);
}

std::string TestData(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr) return "tests/traces/importers/testdata/" + name;
  return absl::StrCat(srcdir, "/", workspace != nullptr ? workspace : "__main__",
                      "/tests/traces/importers/testdata/", name);
}

void ExpectRefused(traces::ImportFn import, const std::vector<BadCase>& cases) {
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string path = replay_test::TempPath("bad.txt");
    replay_test::WriteFile(path, c.text);
    absl::StatusOr<Imported> imported = ImportFile(import, path);
    ASSERT_FALSE(imported.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(imported.status())) << imported.status();
    EXPECT_THAT(std::string(imported.status().message()), testing::StartsWith(path + ": "));
    EXPECT_THAT(imported.status().message(), testing::HasSubstr(c.error));
  }
}

}  // namespace importers_test
