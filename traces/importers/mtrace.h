// glibc mtrace logs (MALLOC_TRACE=file, the program calls mtrace()):
//   = Start
//   @ ./prog:[0x4005d6] + 0x55d0c2a2a2a0 0x64      (malloc, calloc, memalign …)
//   @ ./prog:(main+0x2a)[0x4005d6] < 0x55d0c2a2a2a0 (realloc: the old block)
//   @ ./prog:[0x4005d6] > 0x55d0c2a2a310 0xc8       (realloc: the new block)
//   @ /lib/libc.so.6:(__libc_start_main+0xf3)[0x7f…] - 0x55d0c2a2a310
//   ! 0x55d0c2a2a310 0xffffffffff                    (a realloc that failed)
//   = End
// The "@ CALLER " prefix is optional. Addresses become object ids (a reused
// address gets a new id); callers become call-site indices in order of
// first appearance. See traces/importers/DESIGN.md.
#ifndef TRACES_IMPORTERS_MTRACE_H_
#define TRACES_IMPORTERS_MTRACE_H_

#include <string>

#include "absl/status/status.h"
#include "traces/importers/importer.h"

namespace traces {

absl::Status ImportMtrace(const std::string& in_path, const std::string& out_path, bool lenient,
                          ImportStats* stats);

}  // namespace traces

#endif  // TRACES_IMPORTERS_MTRACE_H_
