#include "replay/policy_spec.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace replay {
namespace {

absl::Status SpecError(const std::string& text, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("policy '", text, "': ", what));
}

// Splits `args` at separators (',' or ';') outside parentheses.
std::vector<std::string> SplitTopLevel(const std::string& args) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  for (char c : args) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == ';')) {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(current);
  return parts;
}

bool IsName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<PolicySpec> PolicySpec::Parse(const std::string& raw) {
  PolicySpec spec;
  spec.text = std::string(absl::StripAsciiWhitespace(raw));
  const std::string& text = spec.text;
  const std::size_t open = text.find('(');
  if (open == std::string::npos) {
    spec.name = text;
  } else {
    if (text.back() != ')') return SpecError(text, "expected ')' at the end");
    spec.name = text.substr(0, open);
    const std::string inner = text.substr(open + 1, text.size() - open - 2);
    int depth = 0;
    for (char c : inner) {
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      if (depth < 0) return SpecError(text, "unbalanced ')'");
    }
    if (depth != 0) return SpecError(text, "unbalanced '('");
    std::string last_key;
    for (const std::string& part : SplitTopLevel(inner)) {
      const std::string item(absl::StripAsciiWhitespace(part));
      if (item.empty()) continue;
      const std::size_t eq = item.find('=');
      const std::size_t paren = item.find('(');
      if (eq == std::string::npos || (paren != std::string::npos && paren < eq)) {
        // A list item continuing the previous value.
        if (last_key.empty()) {
          return SpecError(text, absl::StrCat("expected key=value, found '", item, "'"));
        }
        absl::StrAppend(&spec.args[last_key], ",", item);
        continue;
      }
      const std::string key(absl::StripAsciiWhitespace(item.substr(0, eq)));
      if (!IsName(key)) return SpecError(text, absl::StrCat("bad argument name '", key, "'"));
      if (spec.args.count(key) != 0) {
        return SpecError(text, absl::StrCat("argument '", key, "' given twice"));
      }
      spec.args[key] = std::string(absl::StripAsciiWhitespace(item.substr(eq + 1)));
      last_key = key;
    }
  }
  spec.name = std::string(absl::StripAsciiWhitespace(spec.name));
  if (!IsName(spec.name)) return SpecError(text, "expected a policy name such as mvff");
  return spec;
}

absl::StatusOr<bool> PolicySpec::GetBool(const std::string& key, bool fallback) const {
  auto it = args.find(key);
  if (it == args.end()) return fallback;
  bool value;
  if (!absl::SimpleAtob(it->second, &value)) {
    return SpecError(text, absl::StrCat(key, "=", it->second, ": expected true or false"));
  }
  return value;
}

namespace {

// A size: a plain number or one with a k/m/g suffix (powers of 1024).
bool ParseSize(absl::string_view text, std::uint64_t* out) {
  std::string digits(absl::StripAsciiWhitespace(text));
  std::uint64_t scale = 1;
  if (!digits.empty()) {
    switch (std::tolower(static_cast<unsigned char>(digits.back()))) {
      case 'k':
        scale = 1 << 10;
        break;
      case 'm':
        scale = 1 << 20;
        break;
      case 'g':
        scale = 1 << 30;
        break;
    }
    if (scale != 1) digits.pop_back();
  }
  std::uint64_t value;
  if (!absl::SimpleAtoi(digits, &value) || value > UINT64_MAX / scale) return false;
  *out = value * scale;
  return true;
}

}  // namespace

absl::StatusOr<std::uint64_t> PolicySpec::GetSize(const std::string& key,
                                                  std::uint64_t fallback) const {
  auto it = args.find(key);
  if (it == args.end()) return fallback;
  std::uint64_t value;
  if (!ParseSize(it->second, &value)) {
    return SpecError(
        text, absl::StrCat(key, "=", it->second, ": expected a size in bytes (e.g. 65536 or 64k)"));
  }
  return value;
}

absl::StatusOr<double> PolicySpec::GetDouble(const std::string& key, double fallback) const {
  auto it = args.find(key);
  if (it == args.end()) return fallback;
  double value;
  if (!absl::SimpleAtod(it->second, &value)) {
    return SpecError(text, absl::StrCat(key, "=", it->second, ": expected a number"));
  }
  return value;
}

absl::StatusOr<std::vector<std::uint64_t>> PolicySpec::GetSizeList(
    const std::string& key, std::vector<std::uint64_t> fallback) const {
  auto it = args.find(key);
  if (it == args.end()) return fallback;
  std::vector<std::uint64_t> values;
  for (const std::string& item : SplitTopLevel(it->second)) {
    std::uint64_t value;
    if (!ParseSize(item, &value)) {
      return SpecError(text, absl::StrCat(key, "=", it->second,
                                          ": expected a list of sizes such as 16,32,64 or 8m,36m"));
    }
    values.push_back(value);
  }
  return values;
}

absl::StatusOr<PolicySpec> PolicySpec::GetSpec(const std::string& key,
                                               const std::string& fallback) const {
  auto it = args.find(key);
  return Parse(it == args.end() ? fallback : it->second);
}

absl::Status PolicySpec::CheckKnownKeys(const std::vector<std::string>& known) const {
  for (const auto& [key, value] : args) {
    bool found = false;
    for (const std::string& k : known) found = found || k == key;
    if (!found) {
      return SpecError(text, absl::StrCat("unknown argument '", key, "'; ", name, " takes ",
                                          absl::StrJoin(known, ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace replay
