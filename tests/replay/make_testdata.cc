// Regenerates the binary samples in traces/testdata/ and the fuzzer's seed
// corpus in tests/replay/fuzz/corpus/ from traces/testdata/sample.txt:
//   bazel run //tests/replay:make_testdata -- $PWD
#include <cstdio>
#include <random>
#include <string>

#include "replay/trace_io.h"
#include "tests/replay/trace_test_util.h"

namespace {

void Check(const absl::Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "make_testdata: %s\n", status.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_testdata WORKSPACE_DIR\n");
    return 2;
  }
  const std::string root = argv[1];
  const std::string testdata = root + "/traces/testdata/";
  const std::string corpus = root + "/tests/replay/fuzz/corpus/";
  Check(replay::ImportTextTrace(testdata + "sample.txt", testdata + "sample.trace", false));
  // Small chunks, so the sample has several.
  traces::TraceHeader header;
  absl::StatusOr<std::vector<replay::Event>> events =
      replay_test::ReadTrace(testdata + "sample.trace", &header);
  Check(events.status());
  Check(
      replay_test::WriteTrace(testdata + "sample.trace", header, *events, {.events_per_chunk = 5}));
  Check(replay_test::WriteTrace(testdata + "sample.trace.zst", header, *events,
                                {.events_per_chunk = 5}));
  Check(replay_test::WriteTrace(corpus + "sample.trace", header, *events, {.events_per_chunk = 5}));
  Check(replay_test::WriteTrace(corpus + "sample.trace.zst", header, *events,
                                {.events_per_chunk = 5}));
  Check(replay_test::WriteTrace(corpus + "empty.trace", traces::TraceHeader(), {}));
  std::mt19937_64 rng(42);
  const std::vector<replay::Event> random = replay_test::RandomEvents(rng, 60);
  Check(replay_test::WriteTrace(corpus + "random.trace", replay_test::FullHeader(), random,
                                {.events_per_chunk = 16}));
  Check(replay_test::WriteTrace(corpus + "random.trace.zst", replay_test::FullHeader(), random,
                                {.events_per_chunk = 16}));
  std::vector<replay::Event> gc;
  for (std::uint64_t i = 1; i <= 8; ++i) {
    replay::Event e;
    e.id = i;
    e.size = 16 * i;
    gc.push_back(e);
    e = replay::Event();
    e.kind = i % 2 ? replay::EventKind::kStore : replay::EventKind::kRootAdd;
    e.id = i;
    if (e.kind == replay::EventKind::kStore) {
      e.size = i;
      e.new_id = i - 1;
    }
    gc.push_back(e);
  }
  replay::Event collect;
  collect.kind = replay::EventKind::kCollect;
  gc.push_back(collect);
  Check(replay_test::WriteTrace(corpus + "gc.trace", traces::TraceHeader(), gc,
                                {.events_per_chunk = 6}));
  std::printf("wrote %s and %s\n", testdata.c_str(), corpus.c_str());
  return 0;
}
