// Subjects that collect garbage, made of the core's automatic pools:
//   amc(chain=8m,36m;segment=64k;large=32k;incremental=false;budget=256k)
// plus the arena arguments every core subject takes (subject_arena.h).
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
