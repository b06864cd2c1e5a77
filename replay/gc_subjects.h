// Subjects that collect garbage, made of the core's automatic pools:
//   amc(chain=8m,36m;segment=64k;large=32k)  generational mostly-copying
//   ams(segment=64k;max_class=2048;collect_after=8m)  mark-sweep
// each also taking incremental=false|true, and, when incremental, rate=0.25
// (bytes of collection work per byte allocated: MPS's collection rate),
// budget=16k (the least work per step) and share=0.1 (the most of the time
// the collector may take, banked over 5 ms, as Metronome slices time), and
// the arena arguments every core subject takes (subject_arena.h).
#ifndef REPLAY_GC_SUBJECTS_H_
#define REPLAY_GC_SUBJECTS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "replay/policy_spec.h"
#include "replay/subject.h"

namespace replay {

bool IsGcPolicy(const std::string& name);
absl::StatusOr<std::unique_ptr<Subject>> MakeGcSubject(const PolicySpec& spec);

}  // namespace replay

#endif  // REPLAY_GC_SUBJECTS_H_
