#include "replay/subjects.h"

#include "absl/strings/str_cat.h"
#include "replay/boehm_subject.h"
#include "replay/gc_subjects.h"
#include "replay/null_subject.h"
#include "replay/pool_subjects.h"
#include "replay/system_subjects.h"

namespace replay {

absl::StatusOr<std::unique_ptr<Subject>> MakeSubject(const PolicySpec& spec) {
  if (IsSystemAllocator(spec.name)) return MakeSystemSubject(spec);
  if (IsGcPolicy(spec.name)) return MakeGcSubject(spec);
  if (spec.name == "boehm") return MakeBoehmSubject(spec);
  if (spec.name == "null") {
    if (absl::Status s = spec.CheckKnownKeys({}); !s.ok()) return s;
    return std::make_unique<NullSubject>(spec.text);
  }
  return MakePoolSubject(spec);
}

}  // namespace replay
