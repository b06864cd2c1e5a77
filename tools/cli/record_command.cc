#include "tools/cli/record_command.h"

#include <cstring>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/cli/table.h"
#include "traces/capture/record.h"

ABSL_DECLARE_FLAG(std::string, o);
ABSL_FLAG(bool, follow_forks, false,
          "record: also write a trace of every other process the command starts "
          "(OUT.<pid>.trace); without it they are not recorded.");
ABSL_FLAG(bool, sites, false,
          "record: give events their call site (return address), listed in the header's notes "
          "as module+offset (for addr2line).");

namespace cli {
namespace {

// As shells report a command that cannot run: 127 not found, 126 not
// executable; else 2 for usage errors and 1 for the rest.
int ExitCode(const absl::Status& status) {
  if (absl::StrContains(status.message(), "cannot run '")) {
    return absl::IsNotFound(status) ? 127 : 126;
  }
  return absl::IsInvalidArgument(status) ? 2 : 1;
}

}  // namespace

const char* const kRecordFlags[] = {"o", "follow_forks", "sites", "format", nullptr};

int RunRecordCommand(const CommandArgs& args, std::ostream& out, std::ostream& err) {
  absl::StatusOr<TableFormat> format = ParseTableFormat(absl::GetFlag(FLAGS_format));
  if (!format.ok()) {
    err << "workbench record: " << format.status().message() << "\n";
    return 2;
  }
  capture::RecordOptions options;
  options.command = args.positional;
  options.output = absl::GetFlag(FLAGS_o);
  options.follow_forks = absl::GetFlag(FLAGS_follow_forks);
  options.sites = absl::GetFlag(FLAGS_sites);
  if (options.command.empty()) {
    err << "workbench record: expected a command: workbench record [-o OUT.trace] -- COMMAND "
           "ARGS...\n";
    return 2;
  }
  if (options.output.empty() || options.output == "-") {
    const std::string& program = options.command[0];
    options.output = absl::StrCat(program.substr(program.rfind('/') + 1), ".trace.zst");
  }
  absl::StatusOr<capture::RecordResult> result = capture::RecordCommand(options);
  if (!result.ok()) {
    err << "workbench record: " << result.status().message() << "\n";
    return ExitCode(result.status());
  }
  if (!result->warning.empty()) err << "workbench record: warning: " << result->warning << "\n";
  if (result->signal != 0) {
    err << "workbench record: " << options.command[0] << " was killed by signal " << result->signal
        << " (" << strsignal(result->signal) << ")\n";
  }
  Table table(
      {"trace", "pid", "program", "events", "allocs", "frees", "reallocs", "threads", "peak live"});
  for (const capture::TraceSummary& t : result->traces) {
    table.AddRow({t.path, absl::StrCat(t.pid), t.program, absl::StrCat(t.events),
                  absl::StrCat(t.allocs), absl::StrCat(t.frees), absl::StrCat(t.reallocs),
                  absl::StrCat(t.threads), absl::StrCat(t.peak_live_bytes)});
  }
  // On stderr, like time(1): the command's own output stays as it was.
  (void)out;
  table.Write(err, *format);
  return result->exit_code;
}

}  // namespace cli
