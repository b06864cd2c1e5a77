// `workbench validate TRACE`: checks a trace without replaying it into an
// allocator: the format (magic, version, checksums, footer totals) and the
// semantics of every event (free or realloc of an id that is not live,
// allocation of a live id, absurd sizes), reporting every problem found.
// A GC trace (traces/FORMAT.md) is checked against the GC rules instead:
// the first event naming an unreachable object is the error (--lenient:
// all are counted and skipped).
#ifndef TOOLS_CLI_VALIDATE_COMMAND_H_
#define TOOLS_CLI_VALIDATE_COMMAND_H_

#include "tools/cli/command.h"

namespace cli {

extern const char* const kValidateFlags[];
inline constexpr const char* kValidateSummary =
    "Check a trace's format and the semantics of every event; report every problem.";

int RunValidateCommand(const CommandArgs& args, std::ostream& out, std::ostream& err);

}  // namespace cli

#endif  // TOOLS_CLI_VALIDATE_COMMAND_H_
