// The arena a core-pool subject (manual or collected) stands on, made from
// the arena arguments every such policy takes: arena=vm|client,
// client_size, commit_limit, grain, chunk, mlworks, arena_spare. Its
// footprint is followed exactly through a FootprintObserver.
#ifndef REPLAY_SUBJECT_ARENA_H_
#define REPLAY_SUBJECT_ARENA_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/arena/arena.h"
#include "replay/footprint_observer.h"
#include "replay/policy_spec.h"

namespace replay {

struct SubjectArena {
  // Destroyed in reverse order: the arena, the observer it reports to, then
  // a client arena's buffer.
  std::unique_ptr<char[]> buffer;
  FootprintObserver observer;
  std::unique_ptr<core::Arena> arena;
};

// `keys` plus the arena arguments, for PolicySpec::CheckKnownKeys.
std::vector<std::string> WithArenaKeys(std::vector<std::string> keys);

// Creates out->arena (it must not move afterwards: the arena points at
// out->observer). Errors name the spec and the argument.
absl::Status MakeSubjectArena(const PolicySpec& spec, SubjectArena* out);

}  // namespace replay

#endif  // REPLAY_SUBJECT_ARENA_H_
