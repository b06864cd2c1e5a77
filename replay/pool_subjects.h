// Subjects made of the core's pools: every block in one MVFF pool, or
// segregated storage with one fixed-size pool (MFS or NodeSlice) per size
// class and an MVFF pool for larger blocks.
#ifndef REPLAY_POOL_SUBJECTS_H_
#define REPLAY_POOL_SUBJECTS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "replay/policy_spec.h"
#include "replay/subject.h"

namespace replay {

// Makes the subject for `spec` (mvff, mfs-classes, node-slice-classes).
// Arena options common to all: arena=vm|client, client_size, commit_limit,
// grain, chunk, mlworks.
absl::StatusOr<std::unique_ptr<Subject>> MakePoolSubject(const PolicySpec& spec);

}  // namespace replay

#endif  // REPLAY_POOL_SUBJECTS_H_
