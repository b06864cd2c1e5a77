// The replay's one clock: monotonic seconds, for timing batches, pauses and
// time slices (clock_gettime through the vDSO: no system call, no malloc).
// And the process's page-fault count, to say how much of a pause was the
// kernel handing out fresh memory.
#ifndef REPLAY_CLOCK_H_
#define REPLAY_CLOCK_H_

#include <sys/resource.h>
#include <time.h>

#include <cstdint>

namespace replay {

inline double MonotonicSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Minor page faults the process has taken (first touches of memory). A
// system call (about 0.4 us): read it around collection work, never per
// allocation. The whole process, so that a collector's own threads
// (Boehm's markers) count.
inline std::uint64_t MinorFaults() {
  rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<std::uint64_t>(usage.ru_minflt);
}

}  // namespace replay

#endif  // REPLAY_CLOCK_H_
