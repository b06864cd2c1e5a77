// Policy specs name a subject and its options, as users write them on the
// command line:
//   mvff
//   mvff(first_fit=false,extend_by=65536)
//   mfs-classes(classes=16,32,64,128;large=mvff(spare=0.5))
// Arguments are key=value, separated by ',' or ';'. A value is a number, a
// word, a list (items without '=' continue the previous value's list) or a
// nested spec.
#ifndef REPLAY_POLICY_SPEC_H_
#define REPLAY_POLICY_SPEC_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace replay {

struct PolicySpec {
  std::string name;
  std::map<std::string, std::string> args;  // Raw values, nested specs as text.
  std::string text;                         // The spec as written.

  static absl::StatusOr<PolicySpec> Parse(const std::string& text);

  // Typed access; each records the key as used. Errors name the spec, the
  // key and what was expected.
  absl::StatusOr<bool> GetBool(const std::string& key, bool fallback) const;
  absl::StatusOr<std::uint64_t> GetSize(const std::string& key, std::uint64_t fallback) const;
  absl::StatusOr<double> GetDouble(const std::string& key, double fallback) const;
  absl::StatusOr<std::vector<std::uint64_t>> GetSizeList(const std::string& key,
                                                         std::vector<std::uint64_t> fallback) const;
  // A nested spec; `fallback` is parsed when the key is absent.
  absl::StatusOr<PolicySpec> GetSpec(const std::string& key, const std::string& fallback) const;

  // kInvalidArgument naming any argument not in `known`.
  absl::Status CheckKnownKeys(const std::vector<std::string>& known) const;
};

}  // namespace replay

#endif  // REPLAY_POLICY_SPEC_H_
