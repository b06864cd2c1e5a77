// Synthetic workloads, deterministic by seed, written as traces:
//   random  — sizes from a chosen distribution, random lifetimes, a steady
//             number of live blocks (with some reallocs).
//   larson  — Larson & Krishnan's server benchmark: threads replace random
//             blocks in their own arrays, then hand the arrays on, so blocks
//             are freed by threads other than the one that allocated them.
//   phases  — build-up and tear-down: the heap grows to a peak, then most of
//             it is freed (in allocation, reverse or random order), repeatedly.
// and the GC workloads gcbench, cons and cache (gc_generators.h).
#ifndef TRACES_GENERATORS_GENERATORS_H_
#define TRACES_GENERATORS_GENERATORS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "replay/trace_io.h"

namespace traces {

struct GeneratorOptions {
  std::string workload = "random";  // random, larson, phases.
  std::uint64_t seed = 1;
  std::uint64_t events = 1000000;
  std::uint64_t live = 1000;  // Live blocks (per thread for larson).
  std::uint64_t min_size = 8;
  std::uint64_t max_size = 2048;
  std::string distribution = "loguniform";  // uniform, loguniform, exponential.
  std::uint32_t threads = 4;                // larson.
  std::uint32_t phases = 10;                // phases.
  std::string teardown = "random";          // phases: fifo, lifo, random.
  std::uint32_t gc_depth = 16;              // gcbench: deepest tree (stretch: +2).
  std::uint64_t collect_every = 0;          // GC workloads: a COLLECT every N events.
};

// Writes the workload to `writer` (not closed). Errors for bad options.
absl::Status Generate(const GeneratorOptions& options, replay::TraceWriter& writer);

}  // namespace traces

#endif  // TRACES_GENERATORS_GENERATORS_H_
