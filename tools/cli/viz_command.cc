#include "tools/cli/viz_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "replay/bundled_file.h"

namespace cli {

int ExecViz(int argc, char** argv) {
  absl::StatusOr<std::string> viz = replay::FindBundledFile("viz/app/viz", "WORKBENCH_VIZ");
  if (!viz.ok()) {
    std::cerr << "workbench viz: " << viz.status().message() << "\n";
    return 1;
  }
  std::vector<char*> args = {viz->data()};
  for (int i = 0; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(viz->c_str(), args.data());
  std::cerr << "workbench viz: cannot run " << *viz << ": " << std::strerror(errno) << "\n";
  return 1;
}

}  // namespace cli
