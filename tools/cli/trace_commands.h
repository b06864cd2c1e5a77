// Commands that make and convert traces: gen, dump, import.
#ifndef TOOLS_CLI_TRACE_COMMANDS_H_
#define TOOLS_CLI_TRACE_COMMANDS_H_

#include "tools/cli/command.h"

namespace cli {

extern const char* const kGenFlags[];
extern const char* const kDumpFlags[];
extern const char* const kImportFlags[];
inline constexpr const char* kGenSummary =
    "Write a synthetic workload (random, larson, phases; GC: gcbench, cons, cache), "
    "deterministic by --seed.";
inline constexpr const char* kDumpSummary =
    "Print a trace (plain or .zst) in the text form, one event per line.";
inline constexpr const char* kImportSummary =
    "Convert another format into a trace: 'workbench import text|mtrace|heaptrack|elephant IN "
    "-o OUT.trace'.";

int RunGenCommand(const CommandArgs& args, std::ostream& out, std::ostream& err);
int RunDumpCommand(const CommandArgs& args, std::ostream& out, std::ostream& err);
int RunImportCommand(const CommandArgs& args, std::ostream& out, std::ostream& err);

}  // namespace cli

#endif  // TOOLS_CLI_TRACE_COMMANDS_H_
