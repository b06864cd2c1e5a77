// The `null` policy: a subject that does nothing, so a replay through it
// measures the engine alone (decoding aside): id table, dispatch, metrics.
// Its blocks are fake addresses, never memory: --verify is refused.
#ifndef REPLAY_NULL_SUBJECT_H_
#define REPLAY_NULL_SUBJECT_H_

#include <cstdint>
#include <string>

#include "replay/subject.h"

namespace replay {

class NullSubject final : public Subject {
 public:
  explicit NullSubject(std::string name = "null") : Subject(std::move(name)) {}

  // Any non-null address aligned as asked will do; `alignment` itself is one.
  void* Allocate(std::size_t, std::size_t alignment) override {
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(alignment));
  }
  void* AllocateZeroed(std::size_t size, std::size_t alignment) override {
    return Allocate(size, alignment);
  }
  void* Reallocate(void* p, std::size_t, std::size_t, std::size_t) override { return p; }
  void Free(void*, std::size_t, std::size_t) override {}
  std::string FailureReason() const override { return "none"; }
  std::size_t Footprint() const override { return 0; }
  std::size_t PeakFootprint() const override { return 0; }
};

}  // namespace replay

#endif  // REPLAY_NULL_SUBJECT_H_
