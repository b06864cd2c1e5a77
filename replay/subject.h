// A Subject is what a trace is replayed through: one configured pool policy
// (an arena and its pools), a system allocator (this process's malloc), or
// later a collector. The engine calls Allocate and Free on the hot path and
// probes Footprint.
#ifndef REPLAY_SUBJECT_H_
#define REPLAY_SUBJECT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/base/address.h"
#include "core/base/function_ref.h"

namespace core {
class Arena;
class Observer;
}  // namespace core

namespace replay {

class GcSubject;

class Subject {
 public:
  virtual ~Subject() = default;

  // The policy spec this subject was made from, e.g. "mvff(spare=0.5)".
  const std::string& name() const { return name_; }

  // A block of `size` bytes aligned to `alignment` (a power of two, at
  // least 16, malloc's guarantee); nullptr on failure, with the reason in
  // FailureReason(). Free gets back the size and alignment asked for.
  virtual void* Allocate(std::size_t size, std::size_t alignment) = 0;
  virtual void Free(void* p, std::size_t size, std::size_t alignment) = 0;
  virtual std::string FailureReason() const = 0;

  // calloc: a zeroed block. Allocators that know fresh memory is zero
  // override this.
  virtual void* AllocateZeroed(std::size_t size, std::size_t alignment) {
    void* p = Allocate(size, alignment);
    if (p != nullptr) std::memset(p, 0, size);
    return p;
  }

  // realloc: a block of `new_size` holding the first min(old, new) bytes of
  // `p`, which is freed. On failure nullptr, and `p` is untouched.
  // Allocators that can grow in place override this.
  virtual void* Reallocate(void* p, std::size_t old_size, std::size_t new_size,
                           std::size_t alignment) {
    void* q = Allocate(new_size, alignment);
    if (q == nullptr) return nullptr;
    std::memcpy(q, p, old_size < new_size ? old_size : new_size);
    Free(p, old_size, alignment);
    return q;
  }

  // Bytes the allocator holds from the operating system now, and the
  // highest value it has had.
  virtual std::size_t Footprint() const = 0;
  virtual std::size_t PeakFootprint() const = 0;
  // Whether Footprint is cheap enough to call after every allocation (pool
  // subjects follow their arena's commits). When not, the engine probes it
  // at sample points and as live bytes grow, outside the timed work.
  virtual bool FootprintIsCheap() const { return true; }
  // Named counters for reports (arena calls, segments, ...).
  virtual std::vector<std::pair<std::string, std::uint64_t>> Counters() const { return {}; }
  // The arena this subject's pools stand on, for the visualizer's map
  // (nullptr for system allocators), and a way to hear what happens in it
  // (segments, commits, collection phases); false if there is no arena.
  virtual const core::Arena* arena() const { return nullptr; }
  virtual bool AttachObserver(core::Observer* observer) {
    (void)observer;
    return false;
  }
  // Visits the blocks a cache in front of the pools holds (allocated as far
  // as the pools know, free as far as the program knows), for the
  // visualizer; none by default.
  virtual void WalkCachedBlocks(core::FunctionRef<bool(core::Range)> visit) const { (void)visit; }
  // The collector's interface, if this subject collects garbage.
  virtual GcSubject* AsGc() { return nullptr; }
  // The allocator's own invariants, for --verify and tests.
  virtual absl::Status Check() const { return absl::OkStatus(); }

 protected:
  explicit Subject(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

}  // namespace replay

#endif  // REPLAY_SUBJECT_H_
