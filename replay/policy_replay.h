// One policy's replay, wherever it runs: make the subject a policy spec
// names, replay an event source through it, and carry the outcome across a
// process boundary in a line-oriented form (EncodeResult / DecodeResult).
#ifndef REPLAY_POLICY_REPLAY_H_
#define REPLAY_POLICY_REPLAY_H_

#include <string>

#include "absl/status/status.h"
#include "replay/engine.h"
#include "replay/event_source.h"

namespace replay {

struct PolicyRun {
  std::string policy;   // The spec as given.
  ReplayResult result;  // What was measured (partial on failure).
  absl::Status status;  // OK, the replay's error, or how the child died.
};

// A run that failed before measuring anything.
PolicyRun FailedRun(const std::string& policy, absl::Status status);

// Replays `source` through the subject `policy` names, in this process;
// with options.verify also checks the subject's invariants at the end.
PolicyRun ReplayPolicy(EventSource& source, const std::string& policy,
                       const EngineOptions& options);

std::string EncodeResult(const ReplayResult& result, const absl::Status& status);
absl::Status DecodeResult(const std::string& text, ReplayResult* result, absl::Status* status);

// Writes all of `data` to `fd`.
absl::Status WriteAll(int fd, const std::string& data);

}  // namespace replay

#endif  // REPLAY_POLICY_REPLAY_H_
