// Checks the semantics of a GC trace (traces/FORMAT.md, "GC traces"): every
// STORE source, non-null STORE target and ROOT_ADD names an object that is
// reachable at that moment, slots exist, ROOT_REMOVE removes a root, and no
// FREE or REALLOC is mixed in. Reports the first violation exactly.
//
// How it stays exact and fast: in a well-formed prefix an object that
// becomes unreachable stays so, and only a deleted reference (a STORE over a
// non-null slot, the last ROOT_REMOVE of an object, the register moving on at
// ALLOC) can kill. After each deletion a short walk up recorded "support"
// edges looks for a current path from a root; if it finds none, the object
// and everything it reaches become suspects (each object at most once per
// mark). Naming a non-suspect is fine; naming a suspect needs a walk or, if
// that fails, a full mark of the state just before the event. Marks also run
// when the object table has doubled since the last one (dead objects are
// then dropped, so memory follows the live heap) and, for the peak figures,
// before a possible death once enough has been allocated since the last one.
#ifndef REPLAY_GC_TRACE_CHECK_H_
#define REPLAY_GC_TRACE_CHECK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay/event.h"

namespace replay {

struct GcCheckOptions {
  // Count and skip violating events instead of stopping at the first.
  bool lenient = false;
  // Peak figures: before a possible death, mark if more than this fraction
  // of the last mark's reachable bytes was allocated since. 0: exact peaks.
  double peak_tolerance = 0.125;
  // Steps of the support walk before falling back to suspects and marks.
  int walk_limit = 64;
};

struct GcCheckStats {
  // Whether the trace is a GC trace: it has a STORE, ROOT_ADD, ROOT_REMOVE,
  // DEATH or COLLECT event or an ALLOC with slots. If not, nothing below
  // but `events` is meaningful and the trace should be checked as manual.
  bool gc_trace = false;
  std::uint64_t events = 0;
  std::uint64_t objects = 0;  // ALLOC events.
  std::uint64_t bytes_allocated = 0;
  std::uint64_t slots = 0;  // Reference slots allocated.
  std::uint64_t stores = 0;
  std::uint64_t null_stores = 0;
  std::uint64_t root_adds = 0;
  std::uint64_t root_removes = 0;
  std::uint64_t deaths = 0;  // DEATH (oracle) events.
  std::uint64_t collections = 0;
  std::uint64_t marks = 0;  // Full marks the check ran.
  std::uint64_t peak_reachable_objects = 0;
  std::uint64_t peak_reachable_bytes = 0;
  std::uint64_t final_reachable_objects = 0;
  std::uint64_t final_reachable_bytes = 0;
  std::uint64_t violations = 0;           // Lenient: events skipped.
  std::vector<std::string> first_errors;  // Lenient: the first 10.
};

class GcTraceChecker {
 public:
  // `name` (the trace's path) starts every message.
  GcTraceChecker(std::string name, GcCheckOptions options = {});
  ~GcTraceChecker();

  // Applies the next event. Strict: a violation is an InvalidArgument error
  // "NAME: event N: what" and the checker must not be used further.
  // Lenient: the event is counted, skipped, and OK is returned; a trace
  // mixing GC events with FREE or REALLOC is an error in both modes.
  absl::Status Apply(const Event& event);
  // After the last event: a final mark for the end-of-trace figures.
  absl::Status Finish();
  const GcCheckStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads and checks a whole trace (plain or zstd). Format errors come back
// as the reader reports them.
absl::StatusOr<GcCheckStats> CheckGcTrace(const std::string& path, GcCheckOptions options = {});

}  // namespace replay

#endif  // REPLAY_GC_TRACE_CHECK_H_
