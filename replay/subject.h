// A Subject is what a trace is replayed through: one configured pool policy
// (an arena and its pools) or, later, a system allocator or collector. The
// engine calls Allocate and Free on the hot path and samples Footprint.
#ifndef REPLAY_SUBJECT_H_
#define REPLAY_SUBJECT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace replay {

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

  // Bytes the allocator holds from the operating system now (cheap: called
  // after every allocation), and the highest value it has had.
  virtual std::size_t Footprint() const = 0;
  virtual std::size_t PeakFootprint() const = 0;
  // Named counters for reports (arena calls, segments, ...).
  virtual std::vector<std::pair<std::string, std::uint64_t>> Counters() const { return {}; }
  // The allocator's own invariants, for --verify and tests.
  virtual absl::Status Check() const { return absl::OkStatus(); }

 protected:
  explicit Subject(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

}  // namespace replay

#endif  // REPLAY_SUBJECT_H_
