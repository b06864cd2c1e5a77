// Small parsing helpers shared by the importers.
#ifndef TRACES_IMPORTERS_PARSE_UTIL_H_
#define TRACES_IMPORTERS_PARSE_UTIL_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"

namespace traces {

// Parses 1 to 16 hex digits, with or without a "0x" prefix; nothing else
// (no sign, no blanks).
bool ParseHex(absl::string_view text, std::uint64_t* value);

// Splits on spaces and tabs, dropping empty tokens.
std::vector<absl::string_view> Tokens(absl::string_view text);

}  // namespace traces

#endif  // TRACES_IMPORTERS_PARSE_UTIL_H_
