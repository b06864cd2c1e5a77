#include "tools/cli/validate_command.h"

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "replay/event.h"
#include "replay/gc_trace_check.h"
#include "replay/isolated_replay.h"
#include "tools/cli/progress_bar.h"

// Shared with replay and compare (tools/cli/replay_command.cc).
ABSL_DECLARE_FLAG(bool, lenient);

namespace cli {

const char* const kValidateFlags[] = {"lenient", nullptr};

namespace {

// A GC trace: the first event that names an unreachable object (or, with
// --lenient, every such event, skipped) and the figures of the heap graph.
int ReportGcTrace(const std::string& trace, const replay::GcCheckStats& s, std::ostream& out) {
  if (s.violations != 0) {
    out << trace << ": " << s.violations << (s.violations == 1 ? " violation" : " violations")
        << " of the GC trace rules in " << s.events << " events (skipped):\n";
    for (const std::string& e : s.first_errors) out << "  " << e << "\n";
    if (s.violations > s.first_errors.size()) {
      out << "  ... and " << s.violations - s.first_errors.size() << " more\n";
    }
    return 1;
  }
  out << trace << ": valid GC trace: " << s.events << " events; " << s.objects << " objects ("
      << s.bytes_allocated << " bytes, " << s.slots << " slots), " << s.stores << " stores ("
      << s.null_stores << " null), " << s.root_adds << " root adds, " << s.root_removes
      << " root removes, " << s.deaths << " deaths, " << s.collections << " collections\n"
      << "  peak reachable " << s.peak_reachable_objects << " objects, " << s.peak_reachable_bytes
      << " bytes; at the end " << s.final_reachable_objects << " objects, "
      << s.final_reachable_bytes << " bytes (" << s.marks << " marks)\n";
  return 0;
}

}  // namespace

int RunValidateCommand(const CommandArgs& args, std::ostream& out, std::ostream& err) {
  if (args.positional.size() != 1 || !args.policies.empty()) {
    err << "workbench validate: expected one TRACE argument and no --policy; see --help\n";
    return 2;
  }
  const std::string& trace = args.positional[0];
  replay::GcCheckOptions gc_options;
  gc_options.lenient = absl::GetFlag(FLAGS_lenient);
  absl::StatusOr<replay::GcCheckStats> gc = replay::CheckGcTrace(trace, gc_options);
  if (!gc.ok()) {
    err << "workbench validate: " << gc.status().message() << "\n";
    return 1;
  }
  if (gc->gc_trace) return ReportGcTrace(trace, *gc, out);
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
