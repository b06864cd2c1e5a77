// `workbench stats TRACE`: what a trace holds (replay/trace_stats.h), as one
// table of section / name / value rows, in --format=table, csv or json.
#ifndef TOOLS_CLI_STATS_COMMAND_H_
#define TOOLS_CLI_STATS_COMMAND_H_

#include "tools/cli/command.h"

namespace cli {

extern const char* const kStatsFlags[];
inline constexpr const char* kStatsSummary =
    "Count a trace's events per kind and flavour, with size and lifetime histograms and the "
    "peak of live bytes.";

int RunStatsCommand(const CommandArgs& args, std::ostream& out, std::ostream& err);

}  // namespace cli

#endif  // TOOLS_CLI_STATS_COMMAND_H_
