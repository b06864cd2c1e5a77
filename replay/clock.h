// The replay's one clock: monotonic seconds, for timing batches, pauses and
// time slices (clock_gettime through the vDSO: no system call, no malloc).
#ifndef REPLAY_CLOCK_H_
#define REPLAY_CLOCK_H_

#include <time.h>

namespace replay {

inline double MonotonicSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace replay

#endif  // REPLAY_CLOCK_H_
