// `workbench replay TRACE [--policy SPEC]` and `workbench compare TRACE
// --policy SPEC --policy SPEC ...`: replay a trace through pool policies,
// each in its own child process, and print the measurements side by side.
#ifndef TOOLS_CLI_REPLAY_COMMAND_H_
#define TOOLS_CLI_REPLAY_COMMAND_H_

#include "tools/cli/command.h"

namespace cli {

extern const char* const kReplayFlags[];
inline constexpr const char* kReplaySummary =
    "Replay a trace through one pool policy (--policy, default mvff) and print what it measured.";
inline constexpr const char* kCompareSummary =
    "Replay a trace through several policies (--policy, repeated), side by side.";

int RunReplayCommand(const CommandArgs& args, std::ostream& out, std::ostream& err);
int RunCompareCommand(const CommandArgs& args, std::ostream& out, std::ostream& err);

}  // namespace cli

#endif  // TOOLS_CLI_REPLAY_COMMAND_H_
