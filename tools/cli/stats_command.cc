#include "tools/cli/stats_command.h"

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "replay/trace_stats.h"
#include "tools/cli/table.h"

// Shared with replay and compare (tools/cli/replay_command.cc).
ABSL_DECLARE_FLAG(bool, lenient);

namespace cli {

const char* const kStatsFlags[] = {"lenient", "format", nullptr};

namespace {

void AddHistogram(const char* section, const replay::Histogram& histogram, Table& table) {
  for (int b = 0; b < replay::kHistogramBuckets; ++b) {
    if (histogram[b] != 0) {
      table.AddRow({section, replay::HistogramLabel(b), absl::StrCat(histogram[b])});
    }
  }
}

Table StatsTable(const replay::TraceStats& s) {
  Table table({"section", "name", "value"});
  auto summary = [&](const char* name, std::uint64_t value) {
    table.AddRow({"summary", name, absl::StrCat(value)});
  };
  summary("events", s.events);
  summary("allocation calls", s.allocation_calls);
  summary("bytes allocated", s.bytes_allocated);
  summary("peak live bytes", s.peak_live_bytes);
  summary("peak at event", s.peak_live_event);
  summary("live blocks at peak", s.peak_live_blocks);
  summary("live blocks at end", s.live_blocks_at_end);
  summary("live bytes at end", s.live_bytes_at_end);
  summary("threads", s.threads);
  summary("first time ns", s.first_time_ns);
  summary("time span ns", s.last_time_ns - s.first_time_ns);
  summary("skipped", s.skipped);
  for (int k = 0; k < replay::kEventKindCount; ++k) {
    table.AddRow({"kind", replay::EventKindName(static_cast<replay::EventKind>(k)),
                  absl::StrCat(s.per_kind[k])});
  }
  for (int f = 0; f < replay::kFlavourCount; ++f) {
    if (s.per_flavour[f] == 0) continue;
    table.AddRow({"flavour", replay::FlavourName(static_cast<replay::Flavour>(f)),
                  absl::StrCat(s.per_flavour[f])});
  }
  AddHistogram("size", s.sizes, table);
  AddHistogram("lifetime", s.lifetimes, table);
  table.AddRow({"lifetime", "live at end", absl::StrCat(s.live_blocks_at_end)});
  return table;
}

}  // namespace

int RunStatsCommand(const CommandArgs& args, std::ostream& out, std::ostream& err) {
  if (args.positional.size() != 1) {
    err << "workbench stats: expected one TRACE argument; see --help\n";
    return 2;
  }
  absl::StatusOr<TableFormat> format = ParseTableFormat(absl::GetFlag(FLAGS_format));
  if (!format.ok()) {
    err << "workbench stats: " << format.status().message() << "\n";
    return 2;
  }
  replay::TraceStatsOptions options;
  options.lenient = absl::GetFlag(FLAGS_lenient);
  absl::StatusOr<replay::TraceStats> stats = replay::ComputeTraceStats(args.positional[0], options);
  if (!stats.ok()) {
    err << "workbench stats: " << stats.status().message() << "\n";
    return 1;
  }
  if (const std::string broken = stats->Check(); !broken.empty()) {
    err << "workbench stats: internal error: " << broken << "\n";
    return 1;
  }
  for (const std::string& example : stats->skipped_examples)
    err << "  skipped: " << example << "\n";
  if (stats->skipped > stats->skipped_examples.size()) {
    err << "  ... and " << stats->skipped - stats->skipped_examples.size() << " more skipped\n";
  }
  StatsTable(*stats).Write(out, *format);
  return 0;
}

}  // namespace cli
