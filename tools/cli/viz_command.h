// `workbench viz TRACE --policy SPEC ...`: runs the visualizer (//viz/app:viz,
// a binary of its own so that the command line does not link a GUI) with
// the arguments as given.
#ifndef TOOLS_CLI_VIZ_COMMAND_H_
#define TOOLS_CLI_VIZ_COMMAND_H_

namespace cli {

inline constexpr const char* kVizSummary =
    "Watch a trace replay: arena maps of up to 4 policies side by side, live (--help for its "
    "flags; --screenshot OUT.png for a picture without a window).";

// Replaces this process with the visualizer; returns only on failure.
int ExecViz(int argc, char** argv);

}  // namespace cli

#endif  // TOOLS_CLI_VIZ_COMMAND_H_
