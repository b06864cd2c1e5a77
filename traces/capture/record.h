// `workbench record`: runs a command with librecord.so preloaded, waits for
// it like time(1) does, and converts the raw logs into traces.
#ifndef TRACES_CAPTURE_RECORD_H_
#define TRACES_CAPTURE_RECORD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "traces/capture/convert.h"

namespace capture {

struct RecordOptions {
  std::vector<std::string> command;  // argv; command[0] is looked up in PATH.
  std::string output;                // The trace of the process started.
  // Also write a trace of every other process (fork children, exec'd
  // programs with new pids, earlier images of the same pid), named
  // OUTPUT with ".<pid>" (or ".<pid>-<n>") before ".trace".
  bool follow_forks = false;
  bool sites = false;   // See ConvertOptions.
  std::string library;  // librecord.so; empty: FindRecordLibrary().
};

struct RecordResult {
  int exit_code = 0;                 // The command's, or 128 + signal, as a shell reports it.
  int signal = 0;                    // The signal that killed the command (0: it exited).
  std::vector<TraceSummary> traces;  // The main trace first.
  std::string warning;               // e.g. nothing was recorded (a static program?).
};

// librecord.so: $WORKBENCH_RECORD_LIB, else the runfiles of this binary
// (<exe>.runfiles, $RUNFILES_DIR, $TEST_SRCDIR), else the bazel-bin tree the
// binary was built in.
absl::StatusOr<std::string> FindRecordLibrary();

// Errors: InvalidArgument (no command), NotFound (the command or the
// library), PermissionDenied (output not writable), and conversion errors.
absl::StatusOr<RecordResult> RecordCommand(const RecordOptions& options);

// "x.trace.zst", 123, 0 -> "x.123.trace.zst"; with image 2: "x.123-2.trace.zst".
std::string ChildTracePath(const std::string& output, std::uint32_t pid, int image);

}  // namespace capture

#endif  // TRACES_CAPTURE_RECORD_H_
