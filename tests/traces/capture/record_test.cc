// Records small real programs with librecord.so (through capture::RecordCommand,
// as `workbench record` does) and checks each trace against what the program
// did, and that traces of system programs replay without semantic errors.
#include "traces/capture/record.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/isolated_replay.h"
#include "tests/replay/trace_test_util.h"

namespace capture {
namespace {

using replay::Event;
using replay::EventKind;
using replay::Flavour;
using replay_test::ReadTrace;
using replay_test::TempPath;

std::string Program(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_SRCDIR"), "/workbench/tests/traces/capture/", name, ".bin");
}

// Records `command` into a fresh trace; fails the test on any error.
RecordResult Record(const std::vector<std::string>& command, const std::string& output,
                    bool follow_forks = false) {
  RecordOptions options;
  options.command = command;
  options.output = output;
  options.follow_forks = follow_forks;
  absl::StatusOr<RecordResult> result = RecordCommand(options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : RecordResult{};
}

std::vector<Event> Events(const std::string& path, traces::TraceHeader* header = nullptr) {
  absl::StatusOr<std::vector<Event>> events = ReadTrace(path, header);
  EXPECT_TRUE(events.ok()) << events.status();
  return events.ok() ? *events : std::vector<Event>{};
}

// The events that concern blocks first allocated with a size in [lo, hi]:
// what the test program did, without the C library's own allocations.
std::vector<Event> ProgramEvents(const std::vector<Event>& events, std::uint64_t lo,
                                 std::uint64_t hi) {
  std::set<std::uint64_t> ids;
  std::vector<Event> mine;
  for (const Event& e : events) {
    const bool ours =
        e.kind == EventKind::kAlloc ? e.size >= lo && e.size <= hi : ids.contains(e.id);
    if (!ours) continue;
    if (e.kind == EventKind::kAlloc) ids.insert(e.id);
    if (e.kind == EventKind::kRealloc) ids.insert(e.new_id);
    mine.push_back(e);
  }
  return mine;
}

// Replays a trace through MVFF in strict mode: any semantic error fails.
void ExpectReplaysCleanly(const std::string& path) {
  replay::PolicyRun run = replay::ReplayHere(path, "mvff", replay::EngineOptions{});
  EXPECT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.result.skipped, 0u);
}

TEST(RecordTest, EveryFunctionOnceWithItsSizeAndFlavour) {
  RecordResult result = Record({Program("every_function")}, TempPath("every.trace"));
  EXPECT_EQ(result.exit_code, 0);
  ASSERT_EQ(result.traces.size(), 1u);
  traces::TraceHeader header;
  const std::vector<Event> all = Events(result.traces[0].path, &header);
  EXPECT_EQ(header.capture_tool(), "workbench record");
  EXPECT_THAT(header.program(), testing::EndsWith("every_function.bin"));
  EXPECT_EQ(header.page_size(), std::uint32_t(sysconf(_SC_PAGESIZE)));
  EXPECT_THAT(header.notes(), testing::Contains("malloc_usable_size calls: 1"));
  const std::vector<Event> events = ProgramEvents(all, 1001, 6030);
  struct Expected {
    EventKind kind;
    std::uint64_t size;
    Flavour flavour = Flavour::kMalloc;
    std::uint64_t alignment = 0;
  };
  const std::vector<Expected> expected = {
      {EventKind::kAlloc, 1001},
      {EventKind::kAlloc, 3006, Flavour::kCalloc},
      {EventKind::kAlloc, 1003, Flavour::kRealloc},
      {EventKind::kRealloc, 1004},
      {EventKind::kAlloc, 5025, Flavour::kRealloc},
      {EventKind::kRealloc, 6030},
      {EventKind::kAlloc, 1006, Flavour::kMemalign, 64},
      {EventKind::kAlloc, 1007, Flavour::kPosixMemalign, 128},
      {EventKind::kAlloc, 1008, Flavour::kAlignedAlloc, 256},
      {EventKind::kAlloc, 1009, Flavour::kValloc},
      {EventKind::kAlloc, 1010, Flavour::kPvalloc},
      {EventKind::kFree, 0},  // realloc(h, 0)
      {EventKind::kFree, 0},
      {EventKind::kFree, 0},
      {EventKind::kFree, 0},
      {EventKind::kFree, 0},
      {EventKind::kFree, 0},
      {EventKind::kFree, 0},
      {EventKind::kFree, 0},
      {EventKind::kFree, 0},
  };
  ASSERT_EQ(events.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("event ", i, ": ", testing::PrintToString(events[i])));
    EXPECT_EQ(events[i].kind, expected[i].kind);
    EXPECT_EQ(events[i].size, expected[i].size);
    EXPECT_EQ(events[i].flavour, expected[i].flavour);
    EXPECT_EQ(events[i].alignment, expected[i].alignment);
    EXPECT_EQ(events[i].thread, 1u);
    if (i > 0) {
      EXPECT_GE(events[i].time_ns, events[i - 1].time_ns);
    }
  }
  ExpectReplaysCleanly(result.traces[0].path);
}

TEST(RecordTest, CrossThreadFreesComeAfterTheirAllocations) {
  RecordResult result = Record({Program("threads")}, TempPath("threads.trace.zst"));
  EXPECT_EQ(result.exit_code, 0);
  ASSERT_EQ(result.traces.size(), 1u);
  EXPECT_GE(result.traces[0].threads, 4u);
  const std::vector<Event> events = ProgramEvents(Events(result.traces[0].path), 2000, 2003);
  std::map<std::uint64_t, std::uint32_t> allocated_by;  // id -> thread.
  std::map<std::uint64_t, int> allocs_per_size;
  int cross_thread_frees = 0;
  for (const Event& e : events) {
    if (e.kind == EventKind::kAlloc) {
      allocated_by[e.id] = e.thread;
      ++allocs_per_size[e.size];
    } else {
      ASSERT_EQ(e.kind, EventKind::kFree);
      ASSERT_TRUE(allocated_by.contains(e.id)) << "free before alloc of id " << e.id;
      cross_thread_frees += allocated_by[e.id] != e.thread;
      allocated_by.erase(e.id);
    }
  }
  EXPECT_EQ(events.size(), 8000u);
  EXPECT_THAT(allocs_per_size,
              testing::ElementsAre(testing::Pair(2000, 1000), testing::Pair(2001, 1000),
                                   testing::Pair(2002, 1000), testing::Pair(2003, 1000)));
  EXPECT_EQ(cross_thread_frees, 4000);
  EXPECT_TRUE(allocated_by.empty());
  ExpectReplaysCleanly(result.traces[0].path);
}

// Blocks that cross threads (allocated on one, realloc'd and freed on
// another) while the allocator hands freed addresses to other threads: every
// block's events are in order, each is counted once, and times never step
// back.
TEST(RecordTest, HandedOverBlocksKeepTheirOrderAcrossThreads) {
  const std::string said_path = TempPath("handoff.out");
  RecordOptions options;
  options.command = {"/bin/sh", "-c", absl::StrCat("exec ", Program("handoff"), " > ", said_path)};
  options.output = TempPath("handoff.trace.zst");
  absl::StatusOr<RecordResult> result = RecordCommand(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0);
  ASSERT_EQ(result->traces.size(), 1u);
  EXPECT_EQ(result->traces[0].unknown_blocks, 0u);
  std::ifstream said(said_path);
  std::uint64_t allocs = 0, reallocs = 0, frees = 0;
  said >> allocs >> reallocs >> frees;
  ASSERT_GT(allocs, 0u);

  const std::vector<Event> all = Events(options.output);
  for (std::size_t i = 1; i < all.size(); ++i) {
    ASSERT_GE(all[i].time_ns, all[i - 1].time_ns) << "event " << i;
  }
  std::map<std::uint64_t, std::uint32_t> live;  // id -> thread that made it.
  std::set<std::uint64_t> seen;
  std::uint64_t counts[3] = {};
  int moved = 0, cross_thread = 0;
  for (const Event& e : ProgramEvents(all, 6000, 6049)) {
    ++counts[e.kind == EventKind::kAlloc ? 0 : e.kind == EventKind::kRealloc ? 1 : 2];
    if (e.kind == EventKind::kAlloc) {
      ASSERT_TRUE(seen.insert(e.id).second) << "id " << e.id << " allocated twice";
      live[e.id] = e.thread;
      continue;
    }
    auto it = live.find(e.id);
    ASSERT_NE(it, live.end()) << e << " before its block was made";
    cross_thread += it->second != e.thread;
    live.erase(it);
    if (e.kind == EventKind::kRealloc) {
      if (e.new_id != e.id) {
        ++moved;
        ASSERT_TRUE(seen.insert(e.new_id).second) << "id " << e.new_id << " made twice";
      }
      live[e.new_id] = e.thread;
    }
  }
  EXPECT_EQ(counts[0], allocs);
  EXPECT_EQ(counts[1], reallocs);
  EXPECT_EQ(counts[2], frees);
  EXPECT_TRUE(live.empty());
  EXPECT_GT(moved, 0);
  EXPECT_GT(cross_thread, 0);
  ExpectReplaysCleanly(options.output);
}

TEST(RecordTest, ReallocInPlaceKeepsTheIdAndAMoveGetsANewOne) {
  const std::string said_path = TempPath("reallocs.out");
  RecordOptions options;
  options.command = {"/bin/sh", "-c", absl::StrCat("exec ", Program("reallocs"), " > ", said_path)};
  options.output = TempPath("reallocs.trace");
  absl::StatusOr<RecordResult> result = RecordCommand(options);
  ASSERT_TRUE(result.ok()) << result.status();
  // `sh -c 'exec prog'`: the trace is of what the process finally became.
  EXPECT_THAT(result->traces[0].program, testing::EndsWith("reallocs.bin"));
  std::ifstream said(said_path);
  std::string first, second;
  said >> first >> second;
  const std::vector<Event> events = ProgramEvents(Events(options.output), 4001, 4005 * 16);
  std::vector<Event> reallocs;
  for (const Event& e : events) {
    if (e.kind == EventKind::kRealloc) reallocs.push_back(e);
  }
  ASSERT_EQ(reallocs.size(), 2u);
  EXPECT_EQ(reallocs[0].size, 2002u);
  EXPECT_EQ(reallocs[0].id == reallocs[0].new_id, first == "same") << first;
  EXPECT_EQ(reallocs[1].size, 4005u * 16);
  EXPECT_EQ(reallocs[1].id == reallocs[1].new_id, second == "same") << second;
  EXPECT_EQ(first, "same");
  EXPECT_EQ(second, "moved");
  ExpectReplaysCleanly(options.output);
}

TEST(RecordTest, ForkChildIsWrittenOnlyWhenFollowed) {
  RecordResult plain = Record({Program("forks")}, TempPath("forks.trace"));
  EXPECT_EQ(plain.exit_code, 7);
  ASSERT_EQ(plain.traces.size(), 1u);
  std::vector<Event> events = ProgramEvents(Events(plain.traces[0].path), 3001, 3002);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].size, 3001u);
  EXPECT_EQ(events[1].kind, EventKind::kFree);

  const std::string followed_path = TempPath("followed.trace");
  RecordResult followed = Record({Program("forks")}, followed_path, /*follow_forks=*/true);
  EXPECT_EQ(followed.exit_code, 7);
  ASSERT_EQ(followed.traces.size(), 2u);
  const TraceSummary& child = followed.traces[1];
  EXPECT_EQ(child.path, ChildTracePath(followed_path, child.pid, 0));
  traces::TraceHeader header;
  events = ProgramEvents(Events(child.path, &header), 3001, 3002);
  // The child's own block; its free of the inherited one is left out.
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].size, 3002u);
  EXPECT_EQ(events[1].kind, EventKind::kFree);
  EXPECT_GE(child.unknown_blocks, 1u);
  EXPECT_THAT(header.notes(), testing::Contains(testing::HasSubstr("a fork child")));
  ExpectReplaysCleanly(child.path);
  ExpectReplaysCleanly(followed.traces[0].path);
}

TEST(RecordTest, FlushesOnFatalSignalsAndUnderscoreExit) {
  for (const auto& [how, code] : std::vector<std::pair<std::string, int>>{
           {"term", 128 + SIGTERM}, {"abort", 128 + SIGABRT}, {"_exit", 3}}) {
    SCOPED_TRACE(how);
    RecordResult result =
        Record({Program("dies"), how}, TempPath(absl::StrCat("dies-", how, ".trace")));
    EXPECT_EQ(result.exit_code, code);
    ASSERT_EQ(result.traces.size(), 1u);
    const std::vector<Event> events = ProgramEvents(Events(result.traces[0].path), 5001, 5001);
    EXPECT_EQ(events.size(), 10u);
  }
}

TEST(RecordTest, SystemProgramsReplayWithoutSemanticErrors) {
  const std::string sorted = TempPath("sort-input.txt");
  {
    std::ofstream out(sorted);
    for (int i = 0; i < 5000; ++i) out << (i * 7919) % 5000 << "\n";
  }
  const std::vector<std::vector<std::string>> commands = {
      {"/bin/sh", "-c", "exec ls -la /usr/lib > /dev/null"},  // The trace is of ls.
      {"sort", "-n", sorted, "-o", TempPath("sorted.txt")},
      {"python3", "-c", "import json; print(len(json.dumps([str(i) for i in range(20000)])))"},
  };
  for (const std::vector<std::string>& command : commands) {
    SCOPED_TRACE(command.back());
    if (command[0] == "python3" && access("/usr/bin/python3", X_OK) != 0) continue;
    RecordResult result = Record(command, TempPath("system.trace.zst"));
    EXPECT_EQ(result.exit_code, 0);
    ASSERT_EQ(result.traces.size(), 1u);
    EXPECT_GT(result.traces[0].allocs, 5u);
    EXPECT_GT(result.traces[0].frees, 5u);
    ExpectReplaysCleanly(result.traces[0].path);
  }
}

TEST(RecordTest, SitesNameTheModuleAndOffset) {
  RecordOptions options;
  options.command = {Program("every_function")};
  options.output = TempPath("sites.trace");
  options.sites = true;
  absl::StatusOr<RecordResult> result = RecordCommand(options);
  ASSERT_TRUE(result.ok()) << result.status();
  traces::TraceHeader header;
  const std::vector<Event> events = ProgramEvents(Events(options.output, &header), 1001, 6030);
  ASSERT_FALSE(events.empty());
  for (const Event& e : events) EXPECT_NE(e.site, 0u) << e;
  // The program's own calls are named as its executable plus an offset.
  const std::string site = absl::StrCat("site ", events[0].site, ": ");
  bool named = false;
  for (const std::string& note : header.notes()) {
    if (note.starts_with(site)) {
      named = true;
      EXPECT_THAT(note, testing::HasSubstr("every_function.bin+0x"));
    }
  }
  EXPECT_TRUE(named) << "no note for " << site;
}

TEST(RecordTest, BadCommandsAreClearErrors) {
  RecordOptions options;
  options.output = TempPath("bad.trace");
  absl::StatusOr<RecordResult> result = RecordCommand(options);
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();

  options.command = {"/no/such/program"};
  result = RecordCommand(options);
  EXPECT_TRUE(absl::IsNotFound(result.status())) << result.status();
  EXPECT_THAT(result.status().message(), testing::HasSubstr("cannot run '/no/such/program'"));

  options.command = {"/bin/true"};
  options.output = "/no/such/dir/x.trace";
  result = RecordCommand(options);
  EXPECT_TRUE(absl::IsPermissionDenied(result.status())) << result.status();
  EXPECT_THAT(result.status().message(), testing::HasSubstr("/no/such/dir/x.trace"));
  EXPECT_FALSE(std::filesystem::exists(options.output));
}

TEST(RecordTest, ChildTracePaths) {
  EXPECT_EQ(ChildTracePath("a/x.trace.zst", 12, 0), "a/x.12.trace.zst");
  EXPECT_EQ(ChildTracePath("x.trace", 12, 2), "x.12-2.trace");
  EXPECT_EQ(ChildTracePath("x.out", 5, 0), "x.out.5");
}

}  // namespace
}  // namespace capture
