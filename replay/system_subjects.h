// The system allocators as subjects: glibc, jemalloc, mimalloc and tcmalloc,
// each as the real malloc of the process that replays it. glibc is every
// process's malloc; the others are LD_PRELOADed into a replay child at exec
// (isolated_replay), as allocbench does, because Debian's jemalloc cannot be
// dlopen'ed after start (static TLS) and a malloc swapped in late would
// see frees of blocks it never gave out.
#ifndef REPLAY_SYSTEM_SUBJECTS_H_
#define REPLAY_SYSTEM_SUBJECTS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "replay/policy_spec.h"
#include "replay/subject.h"

namespace replay {

// glibc, jemalloc, mimalloc or tcmalloc.
bool IsSystemAllocator(const std::string& name);

// The shared library to preload for `spec`: "" for glibc, else the
// library's path from the usual directories or the spec's lib=PATH. Errors
// name the Debian package that provides it.
absl::StatusOr<std::string> SystemAllocatorPreload(const PolicySpec& spec);

// The subject for `spec`. Fails (kFailedPrecondition) unless the named
// allocator really is this process's malloc, e.g. when the preload did not
// take or a sanitizer's allocator stands in front of it.
absl::StatusOr<std::unique_ptr<Subject>> MakeSystemSubject(const PolicySpec& spec);

}  // namespace replay

#endif  // REPLAY_SYSTEM_SUBJECTS_H_
