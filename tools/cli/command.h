// What every workbench command receives, and its signature.
#ifndef TOOLS_CLI_COMMAND_H_
#define TOOLS_CLI_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace cli {

struct CommandArgs {
  std::vector<std::string> positional;  // After the command name, flags removed.
  std::vector<std::string> policies;    // Every --policy, in order.
};

// Returns the process exit code: 0 success, 1 failure, 2 usage error.
using CommandFn = int (*)(const CommandArgs& args, std::ostream& out, std::ostream& err);

}  // namespace cli

#endif  // TOOLS_CLI_COMMAND_H_
