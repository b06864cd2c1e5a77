// Runs one policy's replay in a child process (fork), so allocators cannot
// disturb each other and a crash in one is reported as that policy's
// failure, not the tool's. The child sends its ReplayResult back through a
// pipe in a line-oriented form (EncodeResult / DecodeResult).
#ifndef REPLAY_ISOLATED_REPLAY_H_
#define REPLAY_ISOLATED_REPLAY_H_

#include <string>

#include "absl/status/status.h"
#include "replay/engine.h"

namespace replay {

struct PolicyRun {
  std::string policy;   // The spec as given.
  ReplayResult result;  // What was measured (partial on failure).
  absl::Status status;  // OK, the replay's error, or how the child died.
};

// Replays `trace_path` through the subject `policy` names, in a child.
PolicyRun ReplayInChild(const std::string& trace_path, const std::string& policy,
                        const EngineOptions& options);

// The same, in this process (for tests and for the null subject).
PolicyRun ReplayHere(const std::string& trace_path, const std::string& policy,
                     const EngineOptions& options);

std::string EncodeResult(const ReplayResult& result, const absl::Status& status);
absl::Status DecodeResult(const std::string& text, ReplayResult* result, absl::Status* status);

}  // namespace replay

#endif  // REPLAY_ISOLATED_REPLAY_H_
