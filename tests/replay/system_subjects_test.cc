// The system allocators as subjects, each the real malloc of a replay child
// (LD_PRELOAD at exec). Sanitizer builds cannot replay them (the
// sanitizer's allocator is malloc there), so those tests skip.
#include "replay/system_subjects.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "replay/isolated_replay.h"
#include "replay/policy_spec.h"
#include "tests/util/seed.h"
#include "traces/generators/generators.h"

namespace replay {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizer = true;
#else
constexpr bool kSanitizer = false;
#endif

// A random workload with reallocs, calloc and a spread of sizes.
std::string GeneratedTrace(const std::string& name, std::uint64_t seed) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name + ".trace";
  traces::GeneratorOptions options;
  options.seed = seed;
  options.events = 20000;
  options.live = 500;
  options.max_size = 100000;
  traces::TraceHeader header;
  header.set_program("system_subjects_test");
  auto writer = TraceWriter::Open(path, header);
  EXPECT_TRUE(writer.ok()) << writer.status();
  EXPECT_TRUE(traces::Generate(options, **writer).ok());
  EXPECT_TRUE((*writer)->Close().ok());
  return path;
}

PolicySpec Spec(const std::string& text) {
  absl::StatusOr<PolicySpec> spec = PolicySpec::Parse(text);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

TEST(SystemSubjectsTest, EveryAllocatorReplaysInItsOwnChild) {
  const std::string path = GeneratedTrace("all", testing_util::TestSeed());
  const PolicyRun reference = ReplayHere(path, "mvff", {});
  ASSERT_TRUE(reference.status.ok()) << reference.status;
  for (const char* policy : {"glibc", "jemalloc", "mimalloc", "tcmalloc"}) {
    SCOPED_TRACE(policy);
    const PolicyRun run = ReplayInChild(path, policy, EngineOptions{.verify = true});
    if (kSanitizer) {
      EXPECT_EQ(run.status.code(), absl::StatusCode::kUnavailable) << run.status;
      continue;
    }
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.result.events, reference.result.events);
    EXPECT_EQ(run.result.peak_live, reference.result.peak_live);
    EXPECT_EQ(run.result.live, 0u);
    // Each holds at least what was live at its peak, and says so.
    EXPECT_GE(run.result.peak_footprint, run.result.live_at_peak_footprint);
    EXPECT_GT(run.result.peak_footprint, 0u);
    EXPECT_FALSE(run.result.series.empty());
    EXPECT_GT(run.result.seconds, 0.0);
  }
}

TEST(SystemSubjectsTest, GlibcIsThisProcesssMallocAndTheOthersAreNot) {
  if (kSanitizer) GTEST_SKIP() << "malloc is the sanitizer's in this build";
  absl::StatusOr<std::unique_ptr<Subject>> glibc = MakeSystemSubject(Spec("glibc"));
  ASSERT_TRUE(glibc.ok()) << glibc.status();
  void* p = (*glibc)->Allocate(100, 16);
  ASSERT_NE(p, nullptr);
  EXPECT_GT((*glibc)->Footprint(), 0u);
  p = (*glibc)->Reallocate(p, 100, 100000, 16);
  ASSERT_NE(p, nullptr);
  (*glibc)->Free(p, 100000, 16);
  void* aligned = (*glibc)->Allocate(3000, 4096);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(aligned) % 4096, 0u);
  (*glibc)->Free(aligned, 3000, 4096);

  absl::StatusOr<std::unique_ptr<Subject>> jemalloc = MakeSystemSubject(Spec("jemalloc"));
  EXPECT_EQ(jemalloc.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(jemalloc.status().message().find("must be preloaded"), std::string::npos)
      << jemalloc.status();
  // In process, a preloaded allocator is refused the same way.
  const PolicyRun run = ReplayHere(GeneratedTrace("here", 1), "tcmalloc", {});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kFailedPrecondition) << run.status;
}

TEST(SystemSubjectsTest, BadSpecsSayWhatWasExpected) {
  EXPECT_TRUE(IsSystemAllocator("jemalloc"));
  EXPECT_FALSE(IsSystemAllocator("mvff"));
  absl::StatusOr<std::string> missing =
      SystemAllocatorPreload(Spec("jemalloc(lib=/nonexistent.so)"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent.so"), std::string::npos)
      << missing.status();
  absl::StatusOr<std::string> glibc_lib = SystemAllocatorPreload(Spec("glibc(lib=/x.so)"));
  EXPECT_EQ(glibc_lib.status().code(), absl::StatusCode::kInvalidArgument) << glibc_lib.status();
  absl::StatusOr<std::string> found = SystemAllocatorPreload(Spec("mimalloc"));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_NE(found->find("libmimalloc.so.2"), std::string::npos);
  EXPECT_EQ(*SystemAllocatorPreload(Spec("glibc")), "");
}

}  // namespace
}  // namespace replay
