// The `boehm` policy: GC traces replayed on the Boehm-Demers-Weiser
// collector from Debian's libgc, as the baseline for the core's collectors.
// Objects are GC_MALLOC'ed in the engine's object format, their slots hold
// real addresses; the trace's roots and the register are held in
// uncollectable cells, which Boehm scans; the engine's id table (mmap'd,
// invisible to Boehm) is kept weak with disappearing links. Boehm collects
// inside allocation, timed through its collection events.
#ifndef REPLAY_BOEHM_SUBJECT_H_
#define REPLAY_BOEHM_SUBJECT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "replay/policy_spec.h"
#include "replay/subject.h"

namespace replay {

absl::StatusOr<std::unique_ptr<Subject>> MakeBoehmSubject(const PolicySpec& spec);

}  // namespace replay

#endif  // REPLAY_BOEHM_SUBJECT_H_
