#include "tools/cli/validate_command.h"

#include "absl/strings/str_cat.h"
#include "replay/event.h"
#include "replay/isolated_replay.h"
#include "tools/cli/progress_bar.h"

namespace cli {

const char* const kValidateFlags[] = {nullptr};

int RunValidateCommand(const CommandArgs& args, std::ostream& out, std::ostream& err) {
  if (args.positional.size() != 1 || !args.policies.empty()) {
    err << "workbench validate: expected one TRACE argument and no --policy; see --help\n";
    return 2;
  }
  const std::string& trace = args.positional[0];
  // The null subject applies every semantic rule and touches no memory;
  // lenient, so that every problem is counted, not just the first.
  replay::EngineOptions options;
  options.lenient = true;
  options.samples = 1;
  ProgressBar bar(absl::StrCat("validate ", trace));
  const replay::PolicyRun run = replay::ReplayHere(
      trace, "null", options,
      [&bar](double fraction, std::uint64_t events) { bar.Update(fraction, events); });
  bar.Done();
  const replay::ReplayResult& r = run.result;
  if (!run.status.ok()) {
    err << "workbench validate: " << run.status.message() << "\n";
    return 1;
  }
  std::string kinds;
  for (int k = 0; k < replay::kEventKindCount; ++k) {
    if (r.per_kind[k] == 0) continue;
    absl::StrAppend(&kinds, kinds.empty() ? "" : ", ",
                    replay::EventKindName(static_cast<replay::EventKind>(k)), " ", r.per_kind[k]);
  }
  if (r.skipped == 0) {
    out << trace << ": valid: " << r.events << " events (" << kinds << "), peak live "
        << r.peak_live << " bytes, " << r.live << " bytes live at the end\n";
    return 0;
  }
  out << trace << ": " << r.skipped << (r.skipped == 1 ? " problem" : " problems") << " in "
      << r.events << " events:\n";
  for (const std::string& example : r.skipped_examples) out << "  " << example << "\n";
  if (r.skipped > r.skipped_examples.size()) {
    out << "  ... and " << r.skipped - r.skipped_examples.size() << " more\n";
  }
  return 1;
}

}  // namespace cli
