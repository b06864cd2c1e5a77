#include "core/base/result.h"

namespace core {

const char* ResMessage(Res res) {
  switch (res) {
    case Res::kOk:
      return "the operation succeeded";
    case Res::kResource:
      return "the operating system refused to reserve address space";
    case Res::kMemory:
      return "the core ran out of memory for its control structures";
    case Res::kCommitLimit:
      return "committing more memory would exceed the arena's commit limit";
    case Res::kParam:
      return "a parameter is outside the range the operation accepts";
    case Res::kFail:
      return "the request cannot be satisfied";
    case Res::kLimit:
      return "an internal limit of the core was reached";
  }
  return "unknown result code";
}

const char* ResName(Res res) {
  switch (res) {
    case Res::kOk:
      return "kOk";
    case Res::kResource:
      return "kResource";
    case Res::kMemory:
      return "kMemory";
    case Res::kCommitLimit:
      return "kCommitLimit";
    case Res::kParam:
      return "kParam";
    case Res::kFail:
      return "kFail";
    case Res::kLimit:
      return "kLimit";
  }
  return "k?";
}

std::ostream& operator<<(std::ostream& os, Res res) {
  return os << ResName(res) << " (" << ResMessage(res) << ")";
}

}  // namespace core
