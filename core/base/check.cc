#include "core/base/check.h"

namespace core {

std::ostream& operator<<(std::ostream& os, const CheckResult& check) {
  return os << (check.ok ? "ok" : check.what);
}

std::string CheckFailureText(const char* file, int line, const char* condition,
                             const std::string& detail) {
  std::string text =
      std::string(file) + ":" + std::to_string(line) + ": invariant failed: " + condition;
  if (!detail.empty()) text += " (" + detail + ")";
  return text;
}

}  // namespace core
