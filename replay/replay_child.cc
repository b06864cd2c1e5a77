// replay_child: the process one policy is replayed in (see
// isolated_replay.h). Events arrive on stdin from the workbench, which
// decoded them; the result goes to stdout.
#include <unistd.h>

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "replay/event_pipe.h"
#include "replay/policy_replay.h"

namespace replay {
namespace {

int Main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: replay_child POLICY TRACE_NAME [--verify=B] [--lenient=B] "
                 "[--max_size=N] [--samples=N]\n"
                 "Replays the events arriving on stdin (from workbench) and writes the result "
                 "to stdout.\n");
    return 2;
  }
  EngineOptions options;
  for (int i = 3; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    const std::size_t eq = arg.find('=');
    const absl::string_view key = arg.substr(0, eq);
    const absl::string_view value = eq == absl::string_view::npos ? "" : arg.substr(eq + 1);
    const bool ok = key == "--verify"    ? absl::SimpleAtob(value, &options.verify)
                    : key == "--lenient" ? absl::SimpleAtob(value, &options.lenient)
                    : key == "--max_size"
                        ? absl::SimpleAtoi(value, &options.max_size)
                        : key == "--samples" && absl::SimpleAtoi(value, &options.samples);
    if (!ok) {
      std::fprintf(stderr, "replay_child: bad argument '%s'\n", argv[i]);
      return 2;
    }
  }
  PipeEventSource source(STDIN_FILENO, argv[2]);
  PolicyRun run = ReplayPolicy(source, argv[1], options);
  // Closing the event pipe first unblocks a parent still sending events.
  close(STDIN_FILENO);
  return WriteAll(STDOUT_FILENO, EncodeResult(run.result, run.status)).ok() ? 0 : 3;
}

}  // namespace
}  // namespace replay

int main(int argc, char** argv) { return replay::Main(argc, argv); }
