// `workbench pools`: runs a seeded random workload through each core pool
// class on a fresh arena and prints what each pool and arena did.
#ifndef TOOLS_CLI_POOLS_COMMAND_H_
#define TOOLS_CLI_POOLS_COMMAND_H_

#include <ostream>

#include "tools/cli/command.h"

namespace cli {

// The flags this command reads, for its --help.
extern const char* const kPoolsFlags[];
inline constexpr const char* kPoolsSummary =
    "Run a seeded random allocation workload through each pool class and print statistics.";

// Returns the process exit code.
int RunPoolsCommand(const CommandArgs& args, std::ostream& out, std::ostream& err);

}  // namespace cli

#endif  // TOOLS_CLI_POOLS_COMMAND_H_
