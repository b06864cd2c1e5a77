// Runs one policy's replay in a child process, so allocators cannot disturb
// each other and a crash in one is reported as that policy's failure, not
// the tool's. The child is a fresh exec of replay_child, with LD_PRELOAD
// naming the allocator for a system-allocator policy; the parent decodes the
// trace and sends the events over a socket (event_pipe.h), so the child's
// heap holds only what the allocator under test holds. The child sends its
// result back through a pipe (policy_replay.h).
#ifndef REPLAY_ISOLATED_REPLAY_H_
#define REPLAY_ISOLATED_REPLAY_H_

#include <string>

#include "replay/engine.h"
#include "replay/event_source.h"
#include "replay/policy_replay.h"

namespace replay {

// Replays `trace_path` through the subject `policy` names, in a child.
// replay_child is found in Bazel's runfiles, next to this binary, or at
// $WORKBENCH_REPLAY_CHILD.
PolicyRun ReplayInChild(const std::string& trace_path, const std::string& policy,
                        const EngineOptions& options, const ProgressFn& progress = {});

// The same, in this process (for tests and debugging). A system allocator
// other than glibc is refused here: it is not this process's malloc.
PolicyRun ReplayHere(const std::string& trace_path, const std::string& policy,
                     const EngineOptions& options, const ProgressFn& progress = {});

}  // namespace replay

#endif  // REPLAY_ISOLATED_REPLAY_H_
