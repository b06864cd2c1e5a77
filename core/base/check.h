// Invariant checking in the MPS manner: every non-trivial structure has a
// `CheckResult Check() const` that validates its invariants and says which
// one failed. Checks are called by tests after every step and by the CLI on
// request; they never abort, so a broken structure can still be described.
#ifndef CORE_BASE_CHECK_H_
#define CORE_BASE_CHECK_H_

#include <ostream>
#include <string>

namespace core {

struct [[nodiscard]] CheckResult {
  bool ok = true;
  std::string what;  // The failed condition with file:line; empty when ok.

  static CheckResult Ok() { return {}; }
  static CheckResult Fail(std::string what) { return {false, std::move(what)}; }
  explicit operator bool() const { return ok; }
};

std::ostream& operator<<(std::ostream& os, const CheckResult& check);

// Builds the failure text "file:line: condition (detail)".
std::string CheckFailureText(const char* file, int line, const char* condition,
                             const std::string& detail);

}  // namespace core

// Inside a function returning CheckResult: fail with the condition's text.
#define CORE_CHECK(condition) CORE_CHECK_MSG(condition, std::string())

// As CORE_CHECK, adding a detail string (evaluated only on failure).
#define CORE_CHECK_MSG(condition, detail)                                      \
  do {                                                                         \
    if (!(condition)) [[unlikely]]                                             \
      return ::core::CheckResult::Fail(                                        \
          ::core::CheckFailureText(__FILE__, __LINE__, #condition, (detail))); \
  } while (0)

// Inside a function returning CheckResult: propagate a nested check.
#define CORE_CHECK_NESTED(expr)                 \
  do {                                          \
    ::core::CheckResult nested_check_ = (expr); \
    if (!nested_check_.ok) [[unlikely]]         \
      return nested_check_;                     \
  } while (0)

#endif  // CORE_BASE_CHECK_H_
