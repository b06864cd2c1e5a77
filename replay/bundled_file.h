// Finds a file the workbench ships beside its binaries (a Bazel runfile
// such as "replay/replay_child" or "traces/capture/librecord.so"): at
// $ENV_OVERRIDE if that is set, else in the runfiles of this binary or
// test, else in bazel-bin's layout above this binary.
#ifndef REPLAY_BUNDLED_FILE_H_
#define REPLAY_BUNDLED_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace replay {

// `runfile` is the path in the workspace; `env_override` names the
// environment variable that may hold the path instead. NotFound lists
// where it looked.
absl::StatusOr<std::string> FindBundledFile(const std::string& runfile, const char* env_override);

}  // namespace replay

#endif  // REPLAY_BUNDLED_FILE_H_
