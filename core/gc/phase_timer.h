// A collector's time by phase: the counters behind `trace ns`, `weak ns`
// and the like, which say where a collection's time goes.
#ifndef CORE_GC_PHASE_TIMER_H_
#define CORE_GC_PHASE_TIMER_H_

#include <chrono>
#include <cstdint>

namespace core::gc {

// Adds the nanoseconds of its lifetime to a counter.
class AddElapsedNanos {
 public:
  explicit AddElapsedNanos(std::uint64_t* total)
      : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~AddElapsedNanos() {
    *total_ += static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::steady_clock::now() - start_)
                                              .count());
  }
  AddElapsedNanos(const AddElapsedNanos&) = delete;
  AddElapsedNanos& operator=(const AddElapsedNanos&) = delete;

 private:
  std::uint64_t* total_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace core::gc

#endif  // CORE_GC_PHASE_TIMER_H_
