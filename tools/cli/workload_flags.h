// Flags that describe a synthetic workload, shared by `pools` and `gen`.
#ifndef TOOLS_CLI_WORKLOAD_FLAGS_H_
#define TOOLS_CLI_WORKLOAD_FLAGS_H_

#include <cstdint>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::uint64_t, live);
ABSL_DECLARE_FLAG(std::uint64_t, min_size);
ABSL_DECLARE_FLAG(std::uint64_t, max_size);
ABSL_DECLARE_FLAG(std::uint64_t, seed);

#endif  // TOOLS_CLI_WORKLOAD_FLAGS_H_
