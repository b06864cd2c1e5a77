// Every kind of subject by its policy spec: the core's pools
// (pool_subjects.h), the system allocators (system_subjects.h) and `null`,
// which measures the engine alone (null_subject.h).
#ifndef REPLAY_SUBJECTS_H_
#define REPLAY_SUBJECTS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "replay/policy_spec.h"
#include "replay/subject.h"

namespace replay {

absl::StatusOr<std::unique_ptr<Subject>> MakeSubject(const PolicySpec& spec);

}  // namespace replay

#endif  // REPLAY_SUBJECTS_H_
