// `workbench record [-o OUT.trace] -- COMMAND ARGS...`: record the malloc
// family of a dynamically linked program (traces/capture/DESIGN.md).
#ifndef TOOLS_CLI_RECORD_COMMAND_H_
#define TOOLS_CLI_RECORD_COMMAND_H_

#include "tools/cli/command.h"

namespace cli {

extern const char* const kRecordFlags[];
inline constexpr const char* kRecordSummary =
    "Run a program with librecord.so preloaded and write its allocation trace: "
    "'workbench record -o OUT.trace -- COMMAND ARGS...'.";

int RunRecordCommand(const CommandArgs& args, std::ostream& out, std::ostream& err);

}  // namespace cli

#endif  // TOOLS_CLI_RECORD_COMMAND_H_
