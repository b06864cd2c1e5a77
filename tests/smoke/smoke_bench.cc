// Smoke benchmark: `bazel run -c opt //tests/smoke:smoke_bench`.
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"

namespace {

void BM_StrCat(benchmark::State& state) {
  for (auto _ : state) {
    std::string s = absl::StrCat("key-", state.iterations(), "-value");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_StrCat);

}  // namespace
