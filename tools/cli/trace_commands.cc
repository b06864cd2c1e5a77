#include "tools/cli/trace_commands.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "replay/trace_io.h"
#include "tools/cli/workload_flags.h"
#include "traces/generators/gc_generators.h"
#include "traces/generators/generators.h"
#include "traces/importers/importer.h"

ABSL_FLAG(std::string, o, "", "Output file ('-' or empty: standard output, for dump).");
ABSL_FLAG(std::string, workload, "random",
          "gen: random, larson or phases (manual); gcbench, cons or cache (GC).");
ABSL_FLAG(std::uint64_t, events, 1000000, "gen: events to write (about).");
ABSL_FLAG(std::string, distribution, "loguniform",
          "gen: block sizes, uniform, loguniform or exponential, in [min_size, max_size].");
ABSL_FLAG(std::uint32_t, threads, 4, "gen larson: simulated threads.");
ABSL_FLAG(std::uint32_t, phases, 10, "gen phases: build-up / tear-down cycles.");
ABSL_FLAG(std::string, teardown, "random", "gen phases: free order, fifo, lifo or random.");
ABSL_FLAG(std::uint32_t, gc_depth, 16,
          "gen gcbench: deepest short-lived and long-lived tree (the stretch tree is 2 deeper); "
          "16 is GCBench's standard, smaller values scale it down.");
ABSL_FLAG(std::uint64_t, collect_every, 0,
          "gen gcbench, cons, cache: emit a COLLECT event every N events (0: none).");
ABSL_FLAG(bool, import_lenient, false,
          "import: skip and count lines that do not parse instead of stopping at the first.");

namespace cli {

const char* const kGenFlags[] = {"o",        "workload", "events",        "seed",    "live",
                                 "min_size", "max_size", "distribution",  "threads", "phases",
                                 "teardown", "gc_depth", "collect_every", nullptr};
const char* const kDumpFlags[] = {"o", nullptr};
const char* const kImportFlags[] = {"o", "import_lenient", nullptr};

int RunGenCommand(const CommandArgs& args, std::ostream& out, std::ostream& err) {
  const std::string path = absl::GetFlag(FLAGS_o);
  if (!args.positional.empty() || path.empty() || path == "-") {
    err << "workbench gen: expected -o OUT.trace (or OUT.trace.zst) and no arguments\n";
    return 2;
  }
  traces::GeneratorOptions o;
  o.workload = absl::GetFlag(FLAGS_workload);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.events = absl::GetFlag(FLAGS_events);
  o.live = absl::GetFlag(FLAGS_live);
  o.min_size = absl::GetFlag(FLAGS_min_size);
  o.max_size = absl::GetFlag(FLAGS_max_size);
  o.distribution = absl::GetFlag(FLAGS_distribution);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.phases = absl::GetFlag(FLAGS_phases);
  o.teardown = absl::GetFlag(FLAGS_teardown);
  o.gc_depth = absl::GetFlag(FLAGS_gc_depth);
  o.collect_every = absl::GetFlag(FLAGS_collect_every);
  traces::TraceHeader header;
  header.set_program(absl::StrCat("workbench gen --workload=", o.workload));
  header.set_capture_tool("workbench gen");
  header.add_notes(absl::StrCat("seed=", o.seed, " events=", o.events, " live=", o.live,
                                " sizes=", o.min_size, "..", o.max_size, " ", o.distribution));
  if (traces::IsGcWorkload(o.workload)) {
    header.add_notes(
        absl::StrCat("GC trace: gc_depth=", o.gc_depth, " collect_every=", o.collect_every));
  }
  absl::StatusOr<std::unique_ptr<replay::TraceWriter>> writer =
      replay::TraceWriter::Open(path, header);
  if (!writer.ok()) {
    err << "workbench gen: " << writer.status().message() << "\n";
    return 1;
  }
  absl::Status status = traces::Generate(o, **writer);
  if (status.ok()) status = (*writer)->Close();
  if (!status.ok()) {
    err << "workbench gen: " << status.message() << "\n";
    std::remove(path.c_str());
    return absl::IsInvalidArgument(status) ? 2 : 1;
  }
  out << "wrote " << path << "\n";
  return 0;
}

int RunDumpCommand(const CommandArgs& args, std::ostream& out, std::ostream& err) {
  if (args.positional.size() != 1) {
    err << "workbench dump: expected one TRACE argument\n";
    return 2;
  }
  const std::string path = absl::GetFlag(FLAGS_o);
  absl::Status status = path.empty() || path == "-"
                            ? replay::WriteTextTrace(args.positional[0], out)
                            : replay::WriteTextTrace(args.positional[0], path);
  if (!status.ok()) {
    err << "workbench dump: " << status.message() << "\n";
    return 1;
  }
  return 0;
}

int RunImportCommand(const CommandArgs& args, std::ostream& out, std::ostream& err) {
  const std::string path = absl::GetFlag(FLAGS_o);
  if (args.positional.size() != 2 || path.empty()) {
    err << "workbench import: expected FORMAT IN -o OUT.trace (FORMAT: " << traces::kImportFormats
        << ")\n";
    return 2;
  }
  const traces::ImportFn import = traces::FindImporter(args.positional[0]);
  if (import == nullptr) {
    err << "workbench import: unknown format '" << args.positional[0] << "': expected "
        << traces::kImportFormats << "\n";
    return 2;
  }
  traces::ImportStats stats;
  absl::Status status =
      import(args.positional[1], path, absl::GetFlag(FLAGS_import_lenient), &stats);
  if (!status.ok()) {
    err << "workbench import: " << status.message() << "\n";
    return 1;
  }
  for (const std::string& e : stats.first_errors) err << "  skipped: " << e << "\n";
  out << "wrote " << path << ": " << stats.events << " events from " << stats.lines << " lines";
  if (stats.skipped_lines != 0) out << ", " << stats.skipped_lines << " bad lines skipped";
  out << "\n";
  return 0;
}

}  // namespace cli
