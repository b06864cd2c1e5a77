// The workbench command line: `workbench COMMAND [--flags]`.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "tools/cli/command.h"
#include "tools/cli/pools_command.h"
#include "tools/cli/record_command.h"
#include "tools/cli/replay_command.h"
#include "tools/cli/stats_command.h"
#include "tools/cli/trace_commands.h"
#include "tools/cli/validate_command.h"
#include "tools/cli/viz_command.h"

namespace {

struct Command {
  const char* name;
  const char* usage;  // Positional arguments, for the usage line.
  const char* summary;
  const char* const* flags;
  cli::CommandFn run;
};

const Command kCommands[] = {
    {"pools", "", cli::kPoolsSummary, cli::kPoolsFlags, cli::RunPoolsCommand},
    {"replay", "TRACE", cli::kReplaySummary, cli::kReplayFlags, cli::RunReplayCommand},
    {"compare", "TRACE", cli::kCompareSummary, cli::kReplayFlags, cli::RunCompareCommand},
    {"validate", "TRACE", cli::kValidateSummary, cli::kValidateFlags, cli::RunValidateCommand},
    {"stats", "TRACE", cli::kStatsSummary, cli::kStatsFlags, cli::RunStatsCommand},
    {"gen", "", cli::kGenSummary, cli::kGenFlags, cli::RunGenCommand},
    {"dump", "TRACE", cli::kDumpSummary, cli::kDumpFlags, cli::RunDumpCommand},
    {"import", "FORMAT IN", cli::kImportSummary, cli::kImportFlags, cli::RunImportCommand},
    {"record", "-- COMMAND ARGS...", cli::kRecordSummary, cli::kRecordFlags, cli::RunRecordCommand},
};

void PrintUsage(std::ostream& os) {
  os << "usage: workbench COMMAND [--flag=value ...]\n\n"
     << "A memory-management workbench: pools in the Ravenbrook MPS tradition.\n\n"
     << "commands:\n";
  for (const Command& c : kCommands) {
    os << "  " << c.name << std::string(10 - std::strlen(c.name), ' ') << c.summary << "\n";
  }
  os << "  viz       " << cli::kVizSummary << "\n";
  os << "\n'workbench COMMAND --help' lists a command's flags.\n";
}

void PrintCommandHelp(const Command& command, std::ostream& os) {
  os << "usage: workbench " << command.name << (*command.usage ? " " : "") << command.usage
     << " [--flag=value ...]\n\n"
     << command.summary << "\n\nflags:\n";
  const auto flags = absl::GetAllFlags();
  for (const char* const* name = command.flags; *name != nullptr; ++name) {
    auto it = flags.find(*name);
    if (it == flags.end()) continue;
    os << "  --" << *name << " (default: " << it->second->DefaultValue() << ")\n      "
       << it->second->Help() << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("workbench COMMAND [--flag=value ...]; see 'workbench help'.");
  if (argc < 2 || std::strcmp(argv[1], "help") == 0 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0) {
    PrintUsage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  // The visualizer is a program of its own, with its own flags.
  if (std::strcmp(argv[1], "viz") == 0) return cli::ExecViz(argc - 2, argv + 2);
  const Command* command = nullptr;
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) command = &c;
  }
  if (command == nullptr) {
    std::cerr << "workbench: unknown command '" << argv[1] << "'\n\n";
    PrintUsage(std::cerr);
    return 2;
  }
  // Parse the flags after the command name; --help is the command's own.
  // --policy repeats and its specs hold commas, so it is collected here.
  std::vector<char*> args = {argv[0]};
  std::vector<std::string> policies;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {  // The rest is positional (record's command).
      args.insert(args.end(), argv + i, argv + argc);
      break;
    }
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      PrintCommandHelp(*command, std::cout);
      return 0;
    }
    if (std::strncmp(argv[i], "--policy=", 9) == 0) {
      policies.push_back(argv[i] + 9);
    } else if (std::strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
      policies.push_back(argv[++i]);
    } else {
      args.push_back(argv[i]);
    }
  }
  std::vector<char*> parsed = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  const cli::CommandArgs command_args{std::vector<std::string>(parsed.begin() + 1, parsed.end()),
                                      policies};
  return command->run(command_args, std::cout, std::cerr);
}
