// heaptrack data files (heaptrack 1.x, file format versions 1 to 3: the
// output of heaptrack_interpret, as `heaptrack PROGRAM` writes it, zstd or
// gzip compressed or plain). The records that matter here:
//   v HEAPTRACK_VERSION FILE_VERSION   X COMMAND LINE   I PAGE_SIZE PAGES
//   a SIZE TRACE   (allocation info i: the i-th 'a', counting from 0)
//   + INFO         (an allocation of info INFO's size at its trace)
//   - INFO         (a free of an allocation of info INFO)
//   c MILLISECONDS (time stamp)
// s, t, i (strings, trace tree, instruction pointers), R (RSS), A
// (attached), S (suppressions) and '#' lines carry nothing a trace needs.
// All numbers are hex. A free names an allocation info, not a block: it is
// paired with the most recent live allocation of that info (LIFO; see
// traces/importers/DESIGN.md). A realloc is a '-' then a '+'.
#ifndef TRACES_IMPORTERS_HEAPTRACK_H_
#define TRACES_IMPORTERS_HEAPTRACK_H_

#include <string>

#include "absl/status/status.h"
#include "traces/importers/importer.h"

namespace traces {

absl::Status ImportHeaptrack(const std::string& in_path, const std::string& out_path, bool lenient,
                             ImportStats* stats);

}  // namespace traces

#endif  // TRACES_IMPORTERS_HEAPTRACK_H_
