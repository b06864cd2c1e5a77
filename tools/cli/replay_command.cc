#include "tools/cli/replay_command.h"

#include <algorithm>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "replay/isolated_replay.h"
#include "tools/cli/progress_bar.h"
#include "tools/cli/svg_plot.h"
#include "tools/cli/table.h"

// Collected by main (it repeats, and specs hold commas); defined here for --help.
ABSL_FLAG(std::string, policy, "",
          "A pool policy: mvff(first_fit=,slot_high=,arena_high=,extend_by=,mean_size=,align=,"
          "spare=;sac=16,32,...;sac_count=, either of the last two putting a segregated "
          "allocation cache in front), mfs-classes(classes=16,32,...;large=mvff(...);extend_by=), "
          "node-slice-classes(...), each also taking arena=vm|client, client_size=, "
          "commit_limit=, grain=, chunk=, mlworks=, arena_spare=, arena_precommit=; a system "
          "allocator: glibc, "
          "jemalloc, mimalloc, tcmalloc (each also lib=PATH), preloaded into its replay "
          "process; amc(chain=8m,36m;segment=64k;large=32k;copy_reserve=true), "
          "ams(collect_after=8m;max_class=2048), "
          "each with incremental=false, budget=16k, rate=0.25, share=0.1, and boehm, for GC "
          "traces; or null (the engine alone). Repeat for compare.");
ABSL_FLAG(bool, verify, false,
          "Fill every block with an id-derived pattern and check it on free and realloc; also "
          "check the subject's invariants at the end.");
ABSL_FLAG(bool, lenient, false,
          "Count, skip and report semantically wrong events (free of an unknown id, double "
          "free, absurd size) instead of stopping at the first.");
ABSL_FLAG(bool, in_process, false,
          "Replay in this process instead of one child process per policy (for debugging).");
ABSL_FLAG(std::string, csv, "", "Also write the table as CSV to this file.");
ABSL_FLAG(std::string, json, "", "Also write the table as JSON to this file.");
ABSL_FLAG(std::string, plot, "",
          "Also draw footprint and live bytes over time, and fragmentation, as SVG to this file.");

namespace cli {

const char* const kReplayFlags[] = {"policy", "verify", "lenient", "in_process",
                                    "format", "csv",    "json",    nullptr};

namespace {

// A fragmentation figure, or "-" where there is no footprint to speak of
// (the null policy).
std::string Fragmentation(const replay::ReplayResult& r, double x) {
  return r.peak_footprint == 0 ? "-" : absl::StrFormat("%.3f", x);
}

// The policies' counters, in the order the policies first report them.
std::vector<std::string> CounterNames(const std::vector<replay::PolicyRun>& runs) {
  std::vector<std::string> names;
  for (const replay::PolicyRun& run : runs) {
    for (const auto& [counter, value] : run.result.counters) {
      if (std::find(names.begin(), names.end(), counter) == names.end()) names.push_back(counter);
    }
  }
  return names;
}

// A policy's value of a counter, blank if it has none.
std::string CounterCell(const replay::PolicyRun& run, const std::string& name) {
  const auto& counters = run.result.counters;
  auto it = std::find_if(counters.begin(), counters.end(),
                         [&](const auto& entry) { return entry.first == name; });
  return it == counters.end() ? "" : absl::StrCat(it->second);
}

// For people: one row per counter, one column per policy that reports
// any. (Tools get the counters in each policy's row of the main table.)
void WriteCounters(const std::vector<replay::PolicyRun>& runs, std::ostream& out) {
  std::vector<std::string> columns = {"counter"};
  std::vector<const replay::PolicyRun*> reporting;
  for (const replay::PolicyRun& run : runs) {
    if (run.result.counters.empty()) continue;
    reporting.push_back(&run);
    columns.push_back(runs.size() == 1 ? "value" : run.policy);
  }
  if (reporting.empty()) return;
  Table table(columns);
  for (const std::string& counter : CounterNames(runs)) {
    std::vector<std::string> row = {counter};
    for (const replay::PolicyRun* run : reporting) row.push_back(CounterCell(*run, counter));
    table.AddRow(row);
  }
  out << "\n";
  table.Write(out, TableFormat::kText);
}

int Run(const CommandArgs& args, std::vector<std::string> policies, const char* name,
        std::ostream& out, std::ostream& err) {
  if (args.positional.size() != 1) {
    err << "workbench " << name << ": expected one TRACE argument; see --help\n";
    return 2;
  }
  absl::StatusOr<TableFormat> format = ParseTableFormat(absl::GetFlag(FLAGS_format));
  if (!format.ok()) {
    err << "workbench " << name << ": " << format.status().message() << "\n";
    return 2;
  }
  const std::string& trace = args.positional[0];
  replay::EngineOptions options;
  options.verify = absl::GetFlag(FLAGS_verify);
  options.lenient = absl::GetFlag(FLAGS_lenient);

  int exit_code = 0;
  std::vector<replay::PolicyRun> runs;
  for (const std::string& policy : policies) {
    ProgressBar bar(absl::StrCat(name, " ", policy));
    const replay::ProgressFn progress = [&bar](double fraction, std::uint64_t events) {
      bar.Update(fraction, events);
    };
    runs.push_back(absl::GetFlag(FLAGS_in_process)
                       ? replay::ReplayHere(trace, policy, options, progress)
                       : replay::ReplayInChild(trace, policy, options, progress));
    bar.Done();
    const replay::PolicyRun& run = runs.back();
    const replay::ReplayResult& r = run.result;
    if (!run.status.ok()) {
      exit_code = 1;
      err << "workbench " << name << ": " << policy << ": " << run.status.message() << "\n";
    }
    for (const std::string& example : r.skipped_examples) err << "  skipped: " << example << "\n";
    if (r.skipped > r.skipped_examples.size()) {
      err << "  ... and " << r.skipped - r.skipped_examples.size() << " more skipped\n";
    }
  }
  // Collectors add their columns; manual policies alone keep the table narrow.
  const bool gc = std::any_of(runs.begin(), runs.end(), [](const replay::PolicyRun& run) {
    return run.result.collections > 0;
  });
  std::vector<std::string> columns = {"policy",         "events",         "ns/event",
                                      "peak live",      "peak footprint", "frag at peak",
                                      "frag peak/peak", "final footprint"};
  if (gc) {
    for (const char* c :
         {"collections", "gc %", "max pause ms", "p99 pause ms", "MMU 10ms", "MMU 50ms"}) {
      columns.push_back(c);
    }
  }
  columns.push_back("skipped");
  columns.push_back("status");
  Table table(columns);
  const std::vector<std::string> counter_names = CounterNames(runs);
  table.AddGroup("counters", counter_names);
  for (const replay::PolicyRun& run : runs) {
    const replay::ReplayResult& r = run.result;
    std::vector<std::string> row = {run.policy,
                                    absl::StrCat(r.events),
                                    absl::StrFormat("%.1f", r.ns_per_event()),
                                    absl::StrCat(r.peak_live),
                                    absl::StrCat(r.peak_footprint),
                                    Fragmentation(r, r.fragmentation_at_peak()),
                                    Fragmentation(r, r.peak_to_peak_fragmentation()),
                                    absl::StrCat(r.final_footprint)};
    if (gc) {
      row.push_back(absl::StrCat(r.collections));
      row.push_back(absl::StrFormat("%.1f", r.seconds > 0 ? 100 * r.gc_seconds / r.seconds : 0));
      row.push_back(absl::StrFormat("%.3f", 1e3 * r.max_pause));
      row.push_back(absl::StrFormat("%.3f", 1e3 * r.p99_pause));
      row.push_back(absl::StrFormat("%.3f", r.mmu_10ms));
      row.push_back(absl::StrFormat("%.3f", r.mmu_50ms));
    }
    row.push_back(absl::StrCat(r.skipped));
    row.push_back(run.status.ok() ? "ok" : "failed");
    for (const std::string& name : counter_names) row.push_back(CounterCell(run, name));
    table.AddRow(row);
  }
  table.Write(out, *format);
  // The policies' own counters (arena calls, collection volumes, copying
  // throughput): for one policy, or side by side for collectors.
  if (*format == TableFormat::kText && (runs.size() == 1 || gc)) {
    WriteCounters(runs, out);
  }
  for (const auto& [path, file_format] :
       {std::pair{absl::GetFlag(FLAGS_csv), TableFormat::kCsv},
        std::pair{absl::GetFlag(FLAGS_json), TableFormat::kJson}}) {
    if (path.empty()) continue;
    std::ofstream file(path);
    table.Write(file, file_format);
    if (!file) {
      err << "workbench " << name << ": cannot write " << path << "\n";
      exit_code = 1;
    }
  }
  if (const std::string path = absl::GetFlag(FLAGS_plot); !path.empty()) {
    std::ofstream file(path);
    const std::size_t slash = trace.find_last_of('/');
    file << ComparePlotSvg(slash == std::string::npos ? trace : trace.substr(slash + 1), runs);
    if (!file) {
      err << "workbench " << name << ": cannot write " << path << "\n";
      exit_code = 1;
    } else {
      out << "plot: " << path << "\n";
    }
  }
  return exit_code;
}

}  // namespace

int RunReplayCommand(const CommandArgs& args, std::ostream& out, std::ostream& err) {
  if (args.policies.size() > 1) {
    err << "workbench replay: takes one --policy; use 'workbench compare' for several\n";
    return 2;
  }
  return Run(args, args.policies.empty() ? std::vector<std::string>{"mvff"} : args.policies,
             "replay", out, err);
}

int RunCompareCommand(const CommandArgs& args, std::ostream& out, std::ostream& err) {
  if (args.policies.empty()) {
    err << "workbench compare: give one or more --policy SPEC\n";
    return 2;
  }
  return Run(args, args.policies, "compare", out, err);
}

}  // namespace cli
