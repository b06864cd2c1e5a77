// Result codes of the allocator core. The core never throws and never aborts
// on resource exhaustion: every fallible operation returns a Res, and each
// value has one sentence that says what happened.
#ifndef CORE_BASE_RESULT_H_
#define CORE_BASE_RESULT_H_

#include <ostream>

namespace core {

enum class [[nodiscard]] Res{
    kOk,           // The operation succeeded.
    kResource,     // The operating system refused address space.
    kMemory,       // The core ran out of memory for its own control structures.
    kCommitLimit,  // Committing more memory would exceed the arena's limit.
    kParam,        // A parameter is outside the range the operation accepts.
    kFail,         // The request cannot be satisfied (e.g. nothing fits).
    kLimit,        // An internal limit (such as a table size) was reached.
};

// One sentence describing `res`, for error messages.
const char* ResMessage(Res res);
// The enumerator's short name ("kCommitLimit"), for logs and tests.
const char* ResName(Res res);

inline bool IsOk(Res res) { return res == Res::kOk; }

std::ostream& operator<<(std::ostream& os, Res res);

}  // namespace core

#endif  // CORE_BASE_RESULT_H_
