// The picture `compare --plot` writes: footprint and live bytes over the
// trace for every policy in one chart, and fragmentation bars beside it.
#ifndef TOOLS_CLI_SVG_PLOT_H_
#define TOOLS_CLI_SVG_PLOT_H_

#include <string>
#include <vector>

#include "replay/isolated_replay.h"

namespace cli {

std::string ComparePlotSvg(const std::string& title, const std::vector<replay::PolicyRun>& runs);

}  // namespace cli

#endif  // TOOLS_CLI_SVG_PLOT_H_
