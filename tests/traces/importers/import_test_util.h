// Helpers for the importer tests: run an importer on given text (or a
// file) and read back what it wrote.
#ifndef TESTS_TRACES_IMPORTERS_IMPORT_TEST_UTIL_H_
#define TESTS_TRACES_IMPORTERS_IMPORT_TEST_UTIL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "replay/event.h"
#include "traces/importers/importer.h"
#include "traces/trace.pb.h"

namespace importers_test {

struct Imported {
  std::vector<replay::Event> events;
  traces::TraceHeader header;
  traces::ImportStats stats;
};

// Imports the file at `in_path`; on error, also checks that no output is left.
absl::StatusOr<Imported> ImportFile(traces::ImportFn import, const std::string& in_path,
                                    bool lenient = false);
// Writes `text` to a temporary file named `name` and imports it.
absl::StatusOr<Imported> ImportText(traces::ImportFn import, const std::string& name,
                                    const std::string& text, bool lenient = false);
// A checked-in file under tests/traces/importers/testdata/.
std::string TestData(const std::string& name);

// An input the importer must refuse, and a part of the error it must give.
struct BadCase {
  const char* text;
  const char* error;
};
// Imports each case (strictly) and checks that it fails with an
// InvalidArgument naming the file and containing the case's error.
void ExpectRefused(traces::ImportFn import, const std::vector<BadCase>& cases);

}  // namespace importers_test

#endif  // TESTS_TRACES_IMPORTERS_IMPORT_TEST_UTIL_H_
