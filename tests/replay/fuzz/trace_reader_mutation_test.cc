// The fuzzer's checks in the normal suite (gcc, and --config=asan): the seed
// corpus, then thousands of random mutations of valid traces (plain and
// zstd), each read through the reader, which must fail cleanly or succeed.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "replay/trace_format.h"
#include "tests/replay/fuzz/trace_reader_fuzz.h"
#include "tests/replay/trace_test_util.h"
#include "tests/util/seed.h"

namespace replay_test {
namespace {

long Read(const std::string& bytes) {
  return replay_fuzz::ReadTraceForFuzzing(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                          bytes.size());
}

std::vector<std::string> CorpusFiles() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string dir = absl::StrCat(
      srcdir ? srcdir : ".", "/", workspace ? workspace : "__main__", "/tests/replay/fuzz/corpus/");
  std::vector<std::string> files;
  for (const char* name : {"sample.trace", "sample.trace.zst", "empty.trace", "random.trace",
                           "random.trace.zst", "gc.trace"}) {
    files.push_back(ReadFile(dir + name));
    EXPECT_FALSE(files.back().empty()) << dir << name;
  }
  return files;
}

std::string Mutate(std::string bytes, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const int edits = 1 + static_cast<int>(pick(4));
  for (int i = 0; i < edits; ++i) {
    switch (pick(7)) {
      case 0:  // Flip a bit.
        if (!bytes.empty()) bytes[pick(bytes.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 1:  // Overwrite a byte with an interesting value.
        if (!bytes.empty()) {
          const char values[] = {'\0', '\x01', '\x7f', '\x80', '\xff', '\x02', '\x03'};
          bytes[pick(bytes.size())] = values[pick(sizeof(values))];
        }
        break;
      case 2:  // Truncate.
        bytes.resize(pick(bytes.size() + 1));
        break;
      case 3:  // Insert random bytes.
        bytes.insert(pick(bytes.size() + 1), std::string(1 + pick(8), static_cast<char>(rng())));
        break;
      case 4:  // Delete a range.
        if (!bytes.empty()) {
          const std::size_t at = pick(bytes.size());
          bytes.erase(at, 1 + pick(16));
        }
        break;
      case 5:  // Duplicate a range (e.g. a whole record).
        if (!bytes.empty()) {
          const std::size_t at = pick(bytes.size());
          const std::string copy = bytes.substr(at, 1 + pick(64));
          bytes.insert(pick(bytes.size() + 1), copy);
        }
        break;
      default:  // Append garbage.
        bytes += std::string(1 + pick(4), static_cast<char>(rng()));
        break;
    }
  }
  return bytes;
}

TEST(TraceReaderMutationTest, SeedCorpusReadsCleanly) {
  for (const std::string& bytes : CorpusFiles()) EXPECT_GE(Read(bytes), 0);
}

TEST(TraceReaderMutationTest, RandomMutationsFailCleanly) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  std::vector<std::string> valid = CorpusFiles();
  for (bool compress : {false, true}) {
    const std::string path = TempPath(compress ? "m.trace.zst" : "m.trace");
    ASSERT_TRUE(WriteTrace(path, FullHeader(), RandomEvents(rng, 200),
                           {.events_per_chunk = 32, .compress = compress})
                    .ok());
    valid.push_back(ReadFile(path));
  }
  int failures = 0;
  constexpr int kMutations = 6000;
  for (int i = 0; i < kMutations; ++i) {
    const std::string& base = valid[i % valid.size()];
    if (Read(Mutate(base, rng)) < 0) ++failures;
  }
  // Nearly every mutation must be caught (a few are harmless, such as
  // flipping a byte of the zstd frame's unused header bits).
  EXPECT_GT(failures, kMutations * 9 / 10) << "seed=" << seed;
}

TEST(TraceReaderMutationTest, RandomBytesFailCleanly) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (i % 2 == 0) bytes = "WBTRACE\x01" + bytes;  // Get past the magic.
    EXPECT_LT(Read(bytes), 0) << "seed=" << seed << " i=" << i;
  }
}

}  // namespace
}  // namespace replay_test
