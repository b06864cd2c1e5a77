// GC workloads (traces/FORMAT.md, "GC traces"), deterministic by seed:
//   gcbench — Boehm's GCBench (after Ellis and Kovac): a stretch tree, a
//             long-lived tree and array, then many short-lived binary trees
//             built top-down (Populate) and bottom-up (MakeTree).
//   cons    — Lisp-like lists consed up and dropped; a few survive for a
//             while in a rooted table.
//   cache   — a long-lived table whose entries are replaced by young
//             objects and link to them: old objects point to young ones.
// Every trace they write passes replay::CheckGcTrace.
#ifndef TRACES_GENERATORS_GC_GENERATORS_H_
#define TRACES_GENERATORS_GC_GENERATORS_H_

#include "absl/status/status.h"
#include "replay/trace_io.h"
#include "traces/generators/generators.h"

namespace traces {

// Whether `workload` is one of the GC workloads above.
bool IsGcWorkload(const std::string& workload);
// Writes the GC workload named by options.workload to `writer` (not closed).
absl::Status GenerateGc(const GeneratorOptions& options, replay::TraceWriter& writer);

}  // namespace traces

#endif  // TRACES_GENERATORS_GC_GENERATORS_H_
