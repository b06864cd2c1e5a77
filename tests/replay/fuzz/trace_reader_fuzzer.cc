// libFuzzer entry point for the trace reader. Build and run (clang only; see
// traces/FORMAT.md, "Fuzzing"):
//   bazel build --config=clang --config=asan --copt=-fsanitize=fuzzer-no-link \
//     //tests/replay/fuzz:trace_reader_fuzzer
//   bazel-bin/tests/replay/fuzz/trace_reader_fuzzer -max_total_time=60 \
//     /tmp/corpus tests/replay/fuzz/corpus
#include <cstddef>
#include <cstdint>

#include "tests/replay/fuzz/trace_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  replay_fuzz::ReadTraceForFuzzing(data, size);
  return 0;
}
