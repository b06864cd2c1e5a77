#include "tools/cli/workload_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::uint64_t, live, 1000, "Live blocks the workload keeps around.");
ABSL_FLAG(std::uint64_t, min_size, 8, "Smallest block size in bytes.");
ABSL_FLAG(std::uint64_t, max_size, 2048, "Largest block size in bytes.");
ABSL_FLAG(std::uint64_t, seed, 1, "Seed of the workload; the same seed gives the same run.");
