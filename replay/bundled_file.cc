#include "replay/bundled_file.h"

#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace replay {
namespace {

constexpr char kWorkspace[] = "workbench";

std::string Executable() {
  char buffer[4096];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

absl::StatusOr<std::string> FindBundledFile(const std::string& runfile, const char* env_override) {
  if (const char* path = std::getenv(env_override); path != nullptr && *path != '\0') {
    if (access(path, R_OK) == 0) return std::string(path);
    return absl::NotFoundError(absl::StrCat(path, " (from ", env_override, "): no such file"));
  }
  const std::string exe = Executable();
  std::vector<std::string> candidates;
  for (const char* root : {std::getenv("RUNFILES_DIR"), std::getenv("TEST_SRCDIR")}) {
    if (root != nullptr && *root != '\0') {
      candidates.push_back(absl::StrCat(root, "/", kWorkspace, "/", runfile));
    }
  }
  candidates.push_back(absl::StrCat(exe, ".runfiles/", kWorkspace, "/", runfile));
  // bazel-bin/tools/cli/workbench -> bazel-bin/<runfile>, a few levels up.
  std::string dir = exe;
  for (int up = 0; up < 4 && dir.rfind('/') != std::string::npos; ++up) {
    dir.resize(dir.rfind('/'));
    candidates.push_back(absl::StrCat(dir, "/", runfile));
  }
  for (const std::string& path : candidates) {
    if (access(path.c_str(), R_OK) == 0) return path;
  }
  return absl::NotFoundError(
      absl::StrCat("cannot find ", runfile, " (looked in ", absl::StrJoin(candidates, ", "),
                   "); build //", runfile.substr(0, runfile.rfind('/')), ":",
                   runfile.substr(runfile.rfind('/') + 1), " or set ", env_override));
}

}  // namespace replay
