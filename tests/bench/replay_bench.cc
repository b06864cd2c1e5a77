// Replay-engine benchmarks on one generated trace of 10M events (random
// workload, 10000 live blocks, log-uniform sizes 8..4096, some reallocs):
//   BM_TraceDecode  — the reader alone: decoding chunks into columns of
//                     events (what the engine reads).
//   BM_ReplayNull   — decode + dispatch into the null subject: the engine's
//                     own cost per event.
//   BM_ReplayGlibc  — the same trace into this process's glibc malloc.
// items_per_second is events per second. Run:
//   bazel run --config=opt //tests/bench:replay_bench
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "benchmark/benchmark.h"
#include "replay/engine.h"
#include "replay/null_subject.h"
#include "replay/policy_spec.h"
#include "replay/system_subjects.h"
#include "replay/trace_io.h"
#include "traces/generators/generators.h"

namespace {

constexpr std::uint64_t kEvents = 10'000'000;

// A file removed when the process exits. (An atexit handler that read the
// path from a function-local static ran after that static's destructor,
// and left every run's 80 MB trace in /tmp.)
struct TempFile {
  std::string path;
  ~TempFile() { std::remove(path.c_str()); }
};

// The trace, generated once per run into a temporary file.
const std::string& TracePath() {
  static const TempFile file = [] {
    char name[] = "/tmp/replay_bench_XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) std::abort();
    close(fd);
    const std::string path = std::string(name) + ".trace";
    std::rename(name, path.c_str());
    traces::GeneratorOptions options;
    options.events = kEvents;
    options.live = 10000;
    options.max_size = 4096;
    traces::TraceHeader header;
    header.set_program("replay_bench");
    auto writer = replay::TraceWriter::Open(path, header);
    if (!writer.ok() || !traces::Generate(options, **writer).ok() || !(*writer)->Close().ok()) {
      std::fprintf(stderr, "replay_bench: cannot write %s\n", path.c_str());
      std::abort();
    }
    return TempFile{path};
  }();
  return file.path;
}

std::unique_ptr<replay::TraceReader> Open() {
  auto reader = replay::TraceReader::Open(TracePath());
  if (!reader.ok()) std::abort();
  return *std::move(reader);
}

void BM_TraceDecode(benchmark::State& state) {
  TracePath();  // Generated outside the timing.
  std::uint64_t events = 0;
  for (auto _ : state) {
    std::unique_ptr<replay::TraceReader> reader = Open();
    replay::EventBatch batch;
    do {
      if (!reader->NextBatch(&batch).ok()) std::abort();
      events += batch.size();
      benchmark::DoNotOptimize(batch.kinds());
    } while (!batch.empty());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(BM_TraceDecode)->Unit(benchmark::kMillisecond);

void Replay(benchmark::State& state, replay::Subject& subject) {
  TracePath();
  std::uint64_t events = 0;
  double dispatch_seconds = 0;
  for (auto _ : state) {
    std::unique_ptr<replay::TraceReader> reader = Open();
    replay::Engine engine(&subject, {});
    replay::ReplayResult result;
    if (!engine.Replay(*reader, &result).ok()) std::abort();
    events += result.events;
    dispatch_seconds += result.seconds;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  // The engine's own measure: dispatch only, decoding excluded.
  state.counters["dispatch_ns_per_event"] = dispatch_seconds * 1e9 / static_cast<double>(events);
}

void BM_ReplayNull(benchmark::State& state) {
  replay::NullSubject subject;
  Replay(state, subject);
}
BENCHMARK(BM_ReplayNull)->Unit(benchmark::kMillisecond);

void BM_ReplayGlibc(benchmark::State& state) {
  auto spec = replay::PolicySpec::Parse("glibc");
  auto subject = replay::MakeSystemSubject(*spec);
  if (!subject.ok()) {
    state.SkipWithError(std::string(subject.status().message()).c_str());
    return;
  }
  Replay(state, **subject);
}
BENCHMARK(BM_ReplayGlibc)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
