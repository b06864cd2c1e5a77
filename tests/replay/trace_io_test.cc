// Binary trace round trips (plain, zstd, many chunks, randomized) and one
// test per error the reader detects, each checking the message names the
// file, the event index or byte offset, and what was expected.
#include "replay/trace_io.h"

#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/crc32c.h"
#include "replay/event.h"
#include "replay/trace_format.h"
#include "tests/replay/trace_test_util.h"
#include "tests/util/seed.h"

namespace replay_test {
namespace {

using replay::Event;
using replay::EventKind;
using replay::Flavour;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Ten valid events with zero times (as MakeChunk writes them).
std::vector<Event> TenEvents(std::uint64_t first_id) {
  std::vector<Event> events;
  for (std::uint64_t i = 0; i < 5; ++i) {
    events.push_back(AllocEvent(first_id + i, 16 * (i + 1)));
    events.push_back(FreeEvent(first_id + i));
  }
  return events;
}

// Reads `bytes` as file `name` and returns the status of the whole read.
absl::Status ReadBytes(const std::string& bytes, const std::string& name = "bad.trace") {
  const std::string path = TempPath(name);
  WriteFile(path, bytes);
  return ReadTrace(path).status();
}

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(replay::Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(replay::Crc32c("", 0), 0u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(replay::Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(replay::Crc32cExtend(replay::Crc32c("1234", 4), "56789", 5), 0xE3069283u);
}

TEST(Crc32cTest, FastPathAgreesWithTheTable) {
  std::mt19937_64 rng(testing_util::TestSeed());
  std::string bytes(40000, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  // Long inputs go as three interleaved stripes of 2 KiB, combined.
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t size :
         {0, 1, 7, 8, 9, 63, 64, 65, 1000, 4000, 6143, 6144, 6145, 6151, 12288, 20000, 39990}) {
      const std::uint32_t seed = static_cast<std::uint32_t>(rng());
      EXPECT_EQ(replay::Crc32cExtend(seed, bytes.data() + start, size),
                replay::Crc32cExtendPortable(seed, bytes.data() + start, size))
          << "start " << start << " size " << size;
    }
  }
}

TEST(EventTest, NamesAndPrinting) {
  EXPECT_STREQ(replay::EventKindName(EventKind::kRootRemove), "root-remove");
  EXPECT_STREQ(replay::EventKindName(EventKind::kCollect), "collect");
  EXPECT_STREQ(replay::FlavourName(Flavour::kNewArray), "new[]");
  EXPECT_STREQ(replay::FlavourName(Flavour::kPosixMemalign), "posix_memalign");
  EXPECT_STREQ(replay::FlavourName(Flavour::kRealloc), "realloc");
  Event e = AllocEvent(17, 64);
  e.alignment = 16;
  e.flavour = Flavour::kCalloc;
  e.thread = 2;
  e.time_ns = 1200;
  e.site = 5;
  std::ostringstream os;
  os << e;
  EXPECT_EQ(os.str(), "alloc 17 64 align=16 flavour=calloc thread=2 t=1200 site=5");
  Event r;
  r.kind = EventKind::kRealloc;
  r.id = 17;
  r.new_id = 18;
  r.size = 128;
  Event s;
  s.kind = EventKind::kStore;
  s.id = 5;
  s.size = 2;
  s.new_id = 9;
  Event c;
  c.kind = EventKind::kCollect;
  std::ostringstream os2;
  os2 << r << "|" << s << "|" << c << "|" << FreeEvent(3);
  EXPECT_EQ(os2.str(), "realloc 17 18 128|store 5 2 9|collect|free 3");
  Event gc = AllocEvent(4, 32);
  gc.slots = 2;
  gc.site = 1;
  std::ostringstream os3;
  os3 << gc;
  EXPECT_EQ(os3.str(), "alloc 4 32 slots=2 site=1");
}

TEST(EventTest, EnumsMatchTheProto) {
  EXPECT_EQ(static_cast<int>(EventKind::kCollect), traces::EVENT_KIND_COLLECT);
  EXPECT_EQ(static_cast<int>(EventKind::kStore), traces::EVENT_KIND_STORE);
  EXPECT_EQ(static_cast<int>(EventKind::kDeath), traces::EVENT_KIND_DEATH);
  EXPECT_EQ(replay::kEventKindCount, traces::EventKind_ARRAYSIZE);
  EXPECT_EQ(static_cast<int>(Flavour::kPvalloc), traces::FLAVOUR_PVALLOC);
  EXPECT_EQ(static_cast<int>(Flavour::kRealloc), traces::FLAVOUR_REALLOC);
  EXPECT_EQ(replay::kFlavourCount, traces::Flavour_ARRAYSIZE);
}

void ExpectRoundTrip(const std::string& path, const std::vector<Event>& events,
                     replay::TraceWriterOptions options) {
  ASSERT_TRUE(WriteTrace(path, FullHeader(), events, options).ok());
  absl::StatusOr<std::unique_ptr<replay::TraceReader>> reader = replay::TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->header().SerializeAsString(), FullHeader().SerializeAsString());
  EXPECT_EQ((*reader)->path(), path);
  std::vector<Event> all;
  std::vector<Event> batch;
  std::size_t batches = 0;
  while (true) {
    ASSERT_EQ((*reader)->events_read(), all.size());
    absl::Status s = (*reader)->Next(&batch);
    ASSERT_TRUE(s.ok()) << s;
    if (batch.empty()) break;
    EXPECT_LE(batch.size(), options.events_per_chunk);
    ++batches;
    all.insert(all.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(batches, (events.size() + options.events_per_chunk - 1) / options.events_per_chunk);
  EXPECT_EQ(all, events);
  // Past the end: still empty and OK.
  EXPECT_TRUE((*reader)->Next(&batch).ok());
  EXPECT_TRUE(batch.empty());
}

TEST(TraceIoTest, RoundTripPlainManyChunks) {
  std::mt19937_64 rng(1);
  const std::vector<Event> events = RandomEvents(rng, 5000);
  const std::string path = TempPath("plain.trace");
  ExpectRoundTrip(path, events, {.events_per_chunk = 97, .compress = false});
  EXPECT_THAT(ReadFile(path), StartsWith("WBTRACE\x01"));
}

TEST(TraceIoTest, RoundTripZstdDetectedByContent) {
  std::mt19937_64 rng(2);
  const std::vector<Event> events = RandomEvents(rng, 20000);
  // By name: .zst compresses by default.
  const std::string zst = TempPath("x.trace.zst");
  ExpectRoundTrip(zst, events, {.events_per_chunk = 1000, .compress = false});
  EXPECT_THAT(ReadFile(zst), StartsWith("\x28\xB5\x2F\xFD"));
  // By option, under a name that does not say so: detected by the magic number.
  const std::string hidden = TempPath("compressed.trace");
  ExpectRoundTrip(hidden, events, {.events_per_chunk = 333, .compress = true});
  EXPECT_THAT(ReadFile(hidden), StartsWith("\x28\xB5\x2F\xFD"));
}

TEST(TraceIoTest, FractionReadClimbsToOneOnPlainAndCompressedFiles) {
  std::mt19937_64 rng(3);
  const std::vector<Event> events = RandomEvents(rng, 20000);
  for (bool compress : {false, true}) {
    const std::string path = TempPath(compress ? "f.trace.zst" : "f.trace");
    ASSERT_TRUE(
        WriteTrace(path, FullHeader(), events, {.events_per_chunk = 1000, .compress = compress})
            .ok());
    auto reader = replay::TraceReader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    std::vector<Event> batch;
    double last = 0;
    bool rose_before_the_end = false;
    do {
      ASSERT_TRUE((*reader)->Next(&batch).ok());
      const double fraction = (*reader)->fraction_read();
      EXPECT_GE(fraction, last);
      if (!batch.empty() && fraction > 0 && fraction < 1) rose_before_the_end = true;
      last = fraction;
    } while (!batch.empty());
    EXPECT_EQ(last, 1.0) << "compress=" << compress;
    EXPECT_TRUE(rose_before_the_end || compress) << "compress=" << compress;
  }
}

TEST(TraceIoTest, EmptyTraceAndOneEventChunks) {
  ExpectRoundTrip(TempPath("empty.trace"), {}, {.events_per_chunk = 10, .compress = false});
  ExpectRoundTrip(TempPath("empty.trace.zst"), {}, {.events_per_chunk = 10, .compress = true});
  ExpectRoundTrip(TempPath("ones.trace"), TenEvents(1), {.events_per_chunk = 1, .compress = false});
}

TEST(TraceIoTest, AbsentColumnsCostNothing) {
  // 1000 frees of id 0 with nothing else: every column but kinds is left out.
  std::vector<Event> events(1000, FreeEvent(0));
  const std::string path = TempPath("zeros.trace");
  ExpectRoundTrip(path, events, {.events_per_chunk = 1000, .compress = false});
  EXPECT_LT(ReadFile(path).size(), FullHeader().ByteSizeLong() + 1100);
}

TEST(TraceIoTest, SlotsColumnOnlyWhenSomeEventHasSlots) {
  // A GC chunk (slots present) and a manual chunk (slots absent, no cost).
  std::vector<Event> events;
  for (std::uint64_t i = 1; i <= 100; ++i) {
    Event e = AllocEvent(i, 32);
    e.slots = static_cast<std::uint32_t>(i % 5);
    events.push_back(e);
  }
  for (std::uint64_t i = 101; i <= 200; ++i) events.push_back(AllocEvent(i, 32));
  const std::string path = TempPath("slots.trace");
  ExpectRoundTrip(path, events, {.events_per_chunk = 100, .compress = false});
  std::vector<Event> manual(events.begin() + 100, events.end());
  const std::string manual_path = TempPath("noslots.trace");
  ExpectRoundTrip(manual_path, manual, {.events_per_chunk = 100, .compress = false});
  // Slots cost about one byte per event, and only where they are used.
  std::vector<Event> gc(events.begin(), events.begin() + 100);
  for (Event& e : gc) e.id += 100;  // Same id widths as `manual`.
  const std::string gc_path = TempPath("gcslots.trace");
  ExpectRoundTrip(gc_path, gc, {.events_per_chunk = 100, .compress = false});
  const std::size_t column = ReadFile(gc_path).size() - ReadFile(manual_path).size();
  EXPECT_GE(column, 100u);
  EXPECT_LE(column, 110u);
}

TEST(TraceIoTest, RandomizedRoundTrip) {
  const std::uint64_t seed = testing_util::TestSeed();
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 20; ++round) {
    const std::size_t count = std::uniform_int_distribution<std::size_t>(0, 3000)(rng);
    const std::vector<Event> events = RandomEvents(rng, count);
    replay::TraceWriterOptions options;
    options.events_per_chunk = std::uniform_int_distribution<std::size_t>(1, 500)(rng);
    options.compress = rng() % 2 == 0;
    SCOPED_TRACE(absl::StrCat("seed=", seed, " round=", round, " events=", count,
                              " per_chunk=", options.events_per_chunk));
    ExpectRoundTrip(TempPath("random.trace"), events, options);
  }
}

// ---- The writer's own checks.

TEST(TraceWriterTest, RejectsInvalidEventsNamingTheIndex) {
  const std::string path = TempPath("w.trace");
  auto writer = replay::TraceWriter::Open(path, FullHeader());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(AllocEvent(1, 8)).ok());
  Event bad = AllocEvent(2, 8);
  bad.alignment = 24;
  absl::Status s = (*writer)->Write(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.ToString(),
              AllOf(HasSubstr(path), HasSubstr("event 1: alignment 24 is not a power of two")));
  Event sized_free = FreeEvent(1);
  sized_free.size = 12;
  EXPECT_THAT((*writer)->Write(sized_free).ToString(), HasSubstr("event 1: free has a size 12"));
  EXPECT_THAT((*writer)->Write(AllocEvent(3, ~std::uint64_t{0})).ToString(),
              HasSubstr("event 1: size 18446744073709551615 exceeds the limit 2^48"));
  Event slotted_free = FreeEvent(1);
  slotted_free.slots = 1;
  EXPECT_THAT((*writer)->Write(slotted_free).ToString(),
              HasSubstr("event 1: free has 1 slots (expected 0: only alloc has slots)"));
  Event crowded = AllocEvent(5, 24);
  crowded.slots = 4;
  EXPECT_THAT((*writer)->Write(crowded).ToString(),
              HasSubstr("event 1: 4 slots need 32 bytes but the size is 24 (expected slots * 8 "
                        "<= size)"));
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ((*writer)->Write(AllocEvent(4, 8)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE((*writer)->Close().ok());
  absl::StatusOr<std::vector<Event>> events = ReadTrace(path);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(*events, std::vector<Event>{AllocEvent(1, 8)});
}

TEST(TraceWriterTest, UnwritablePath) {
  auto writer = replay::TraceWriter::Open("/nonexistent-dir/x.trace", FullHeader());
  ASSERT_FALSE(writer.ok());
  EXPECT_THAT(writer.status().ToString(), HasSubstr("/nonexistent-dir/x.trace"));
}

TEST(TraceWriterTest, DestroyedWithoutCloseLeavesNoFooter) {
  const std::string path = TempPath("unclosed.trace");
  {
    auto writer = replay::TraceWriter::Open(path, FullHeader(), {.events_per_chunk = 4});
    ASSERT_TRUE(writer.ok());
    for (const Event& e : TenEvents(1)) ASSERT_TRUE((*writer)->Write(e).ok());
  }
  absl::Status s = ReadTrace(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.ToString(),
              AllOf(HasSubstr(path), HasSubstr("event 8: the file ends without a footer")));
}

// ---- The reader's fast path (chunks as writers lay them out) against its
// general path (protobuf), on chunks protobuf reads but writers never write.

void AppendVarint(std::string* out, std::uint64_t v) {
  for (; v >= 0x80; v >>= 7) out->push_back(static_cast<char>(v | 0x80));
  out->push_back(static_cast<char>(v));
}

// A chunk's columns by hand: `packed` or one tag per value, optionally with
// the ids column split into two runs and an unknown field at the end.
std::string EncodeChunk(const traces::EventChunk& c, bool packed, bool split_ids,
                        bool unknown_field) {
  std::string out;
  AppendVarint(&out, 1 << 3);
  AppendVarint(&out, c.first_event());
  const auto column = [&](int field, auto values, auto encode) {
    if (values.empty()) return;
    const auto run = [&](int begin, int end) {
      if (packed) {
        std::string body;
        for (int i = begin; i < end; ++i) AppendVarint(&body, encode(values.Get(i)));
        AppendVarint(&out, field << 3 | 2);
        AppendVarint(&out, body.size());
        out += body;
      } else {
        for (int i = begin; i < end; ++i) {
          AppendVarint(&out, field << 3);
          AppendVarint(&out, encode(values.Get(i)));
        }
      }
    };
    if (field == 3 && split_ids) {
      run(0, values.size() / 2);
      run(values.size() / 2, values.size());
    } else {
      run(0, values.size());
    }
  };
  const auto plain = [](auto v) { return static_cast<std::uint64_t>(v); };
  const auto zigzag = [](std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
  };
  column(2, c.kinds(), plain);
  column(3, c.ids(), plain);
  column(4, c.new_ids(), plain);
  column(5, c.sizes(), plain);
  column(6, c.alignments(), plain);
  column(7, c.flavours(), plain);
  column(8, c.threads(), plain);
  column(9, c.time_deltas(), zigzag);
  column(10, c.sites(), plain);
  column(11, c.pool_hints(), plain);
  column(12, c.slots(), plain);
  if (unknown_field) {
    AppendVarint(&out, 15 << 3);
    AppendVarint(&out, 42);
  }
  return out;
}

// The varint decoders this CPU can run: shifts, and pext where it has BMI2.
std::vector<bool> PextSettings() {
  std::vector<bool> settings = {false};
  if (replay::internal::PextAvailable()) settings.push_back(true);
  return settings;
}

// Runs `body` once per varint decoder, restoring the reader's choice after.
void ForEachDecoder(const std::function<void()>& body) {
  const bool saved = replay::internal::UsePext();
  for (bool pext : PextSettings()) {
    SCOPED_TRACE(pext ? "pext decoder" : "shift decoder");
    replay::internal::UsePext() = pext;
    body();
  }
  replay::internal::UsePext() = saved;
}

// Ids of every varint length (1 to 10 bytes) at every offset of the
// decoder's 16-byte window, as a run of lengths that does not divide 16.
TEST(TraceReaderTest, VarintsOfEveryLengthAtEveryOffset) {
  std::vector<Event> events;
  for (std::uint64_t i = 0; i < 3000; ++i) {
    const int bytes = 1 + static_cast<int>(i * 7 % 10);
    // The largest value of `bytes` bytes, less a little.
    const std::uint64_t id =
        bytes == 10 ? ~std::uint64_t{0} - i : (std::uint64_t{1} << (7 * bytes)) - 1 - i % 64;
    events.push_back(FreeEvent(id));
    events.back().thread = static_cast<std::uint32_t>(id);  // Truncated, as uint32 columns are.
  }
  const std::string path = TempPath("lengths.trace");
  ASSERT_TRUE(WriteTrace(path, FullHeader(), events).ok());
  ForEachDecoder([&] {
    absl::StatusOr<std::vector<Event>> read = ReadTrace(path);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, events);
  });
}

// Cross-checks the fast path against protobuf on chunks of every shape.
void FastAndGeneralChunkPathsReadTheSameEvents(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Event> events = RandomEvents(rng, 9000);  // More than one reader batch.
  for (Event& e : events) e.time_ns = 0;                // MakeChunk writes no times.
  const traces::EventChunk chunk = MakeChunk(0, events);
  struct Shape {
    const char* name;
    bool packed, split_ids, unknown_field;
  };
  for (const Shape& shape :
       {Shape{"as written", true, false, false}, Shape{"unpacked", false, false, false},
        Shape{"ids in two runs", true, true, false}, Shape{"unknown field", true, false, true}}) {
    RawTrace raw;
    raw.Header(FullHeader())
        .Record(2, EncodeChunk(chunk, shape.packed, shape.split_ids, shape.unknown_field))
        .Footer(MakeFooter(events, 1));
    const std::string path = TempPath(std::string("shape-") + shape.name + ".trace");
    WriteFile(path, raw.bytes());
    absl::StatusOr<std::vector<Event>> read = ReadTrace(path);
    ASSERT_TRUE(read.ok()) << shape.name << ": " << read.status();
    EXPECT_EQ(*read, events) << shape.name;
  }
}

TEST(TraceReaderTest, FastAndGeneralChunkPathsReadTheSameEvents) {
  const std::uint64_t seed = testing_util::TestSeed();
  SCOPED_TRACE(absl::StrCat("seed=", seed));
  ForEachDecoder([&] { FastAndGeneralChunkPathsReadTheSameEvents(seed); });
}

// After SkipTimes the reader leaves times out and reads the rest alike.
TEST(TraceReaderTest, SkipTimesZeroesTimesOnly) {
  const std::uint64_t seed = testing_util::TestSeed();
  SCOPED_TRACE(absl::StrCat("seed=", seed));
  std::mt19937_64 rng(seed);
  const std::vector<Event> events = RandomEvents(rng, 10000);
  const std::string path = TempPath("skip-times.trace");
  ASSERT_TRUE(WriteTrace(path, FullHeader(), events).ok());
  absl::StatusOr<std::unique_ptr<replay::TraceReader>> reader = replay::TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  replay::EventBatch batch;
  std::vector<Event> read;
  std::size_t timed = 0;  // Events read before SkipTimes.
  for (;;) {
    ASSERT_TRUE((*reader)->NextBatch(&batch).ok());
    if (batch.empty()) break;
    EXPECT_EQ(batch.first(), read.size());
    batch.AppendRows(&read);
    if (timed == 0) {
      timed = read.size();
      (*reader)->SkipTimes();
    }
  }
  ASSERT_EQ(read.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    Event want = events[i];
    if (i >= timed) want.time_ns = 0;
    ASSERT_EQ(read[i], want) << "event " << i;
  }
}

TEST(TraceReaderTest, FastPathRejectsMalformedColumns) {
  ForEachDecoder([] {
    const std::vector<Event> events = TenEvents(1);
    std::string body = EncodeChunk(MakeChunk(0, events), true, false, false);
    // An empty packed column reads as absent (all zeros).
    std::string empty_column = body;
    AppendVarint(&empty_column, 11 << 3 | 2);
    AppendVarint(&empty_column, 0);
    RawTrace ok;
    ok.Header(FullHeader()).Record(2, empty_column).Footer(MakeFooter(events, 1));
    EXPECT_TRUE(ReadBytes(ok.bytes()).ok()) << ReadBytes(ok.bytes());
    // An 11-byte varint among ten sites: the chunk does not parse.
    std::string long_varint;
    AppendVarint(&long_varint, 1 << 3);
    AppendVarint(&long_varint, 0);
    std::string kinds(10, '\0');
    AppendVarint(&long_varint, 2 << 3 | 2);
    AppendVarint(&long_varint, kinds.size());
    long_varint += kinds;
    std::string sites(9, '\0');
    sites += std::string(10, '\x80') + '\x01';
    AppendVarint(&long_varint, 10 << 3 | 2);
    AppendVarint(&long_varint, sites.size());
    long_varint += sites;
    RawTrace bad;
    bad.Header(FullHeader()).Record(2, long_varint).Footer(MakeFooter(events, 1));
    EXPECT_THAT(ReadBytes(bad.bytes()).ToString(),
                HasSubstr("chunk 0 does not parse as a traces.EventChunk"));
    // A column that ends inside a varint goes to protobuf, which refuses it.
    std::string cut;
    AppendVarint(&cut, 2 << 3 | 2);
    AppendVarint(&cut, 2);
    cut += "\x01\x81";
    RawTrace cut_raw;
    cut_raw.Header(FullHeader()).Record(2, cut);
    EXPECT_THAT(ReadBytes(cut_raw.bytes()).ToString(), HasSubstr("does not parse"));
  });
}

// ---- Reader errors. Each builds a bad file and checks the message.

// A valid two-chunk trace (events 0-9 and 10-19) built by hand.
RawTrace ValidRaw() {
  std::vector<Event> all = TenEvents(1);
  const std::vector<Event> second = TenEvents(100);
  all.insert(all.end(), second.begin(), second.end());
  RawTrace raw;
  raw.Header(FullHeader()).Chunk(MakeChunk(0, TenEvents(1))).Chunk(MakeChunk(10, second));
  raw.Footer(MakeFooter(all, 2));
  return raw;
}

TEST(TraceReaderTest, HandBuiltTraceIsValid) {
  const std::string path = TempPath("good.trace");
  WriteFile(path, ValidRaw().bytes());
  absl::StatusOr<std::vector<Event>> events = ReadTrace(path);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 20u);
}

TEST(TraceReaderTest, MissingFile) {
  absl::Status s = ReadTrace("/nonexistent/missing.trace").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.ToString(), HasSubstr("/nonexistent/missing.trace: no such file"));
}

TEST(TraceReaderTest, WrongMagic) {
  std::string bytes = ValidRaw().bytes();
  bytes[0] = 'X';
  absl::Status s = ReadBytes(bytes, "magic.trace");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.ToString(), AllOf(HasSubstr("magic.trace: byte 0: not a workbench trace"),
                                  HasSubstr("expected the magic \"WBTRACE\"")));
  EXPECT_THAT(ReadBytes("").ToString(), HasSubstr("byte 0: not a workbench trace"));
  EXPECT_THAT(ReadBytes("# a text trace\nalloc 1 2\n").ToString(), HasSubstr("ImportTextTrace"));
}

TEST(TraceReaderTest, UnsupportedVersion) {
  RawTrace raw(99);
  raw.Header(FullHeader());
  absl::Status s = ReadBytes(raw.bytes(), "v99.trace");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.ToString(),
              HasSubstr("v99.trace: byte 7: unsupported format version 99 (this reader supports "
                        "version 1)"));
  traces::TraceHeader header = FullHeader();
  header.set_format_version(99);
  s = ReadBytes(RawTrace().Header(header).bytes(), "h99.trace");
  EXPECT_THAT(s.ToString(), HasSubstr("h99.trace: byte 8: header: unsupported format_version 99"));
}

TEST(TraceReaderTest, TruncatedAtEveryOffset) {
  std::mt19937_64 rng(3);
  const std::string path = TempPath("t.trace");
  ASSERT_TRUE(WriteTrace(path, FullHeader(), RandomEvents(rng, 50), {.events_per_chunk = 16}).ok());
  const std::string bytes = ReadFile(path);
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    absl::Status s = ReadBytes(bytes.substr(0, size), "cut.trace");
    ASSERT_FALSE(s.ok()) << "truncated to " << size;
    EXPECT_THAT(s.ToString(), HasSubstr("cut.trace: ")) << s;
    if (size >= 8) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "truncated to " << size << ": " << s;
      EXPECT_THAT(s.ToString(),
                  testing::AnyOf(HasSubstr("truncated"), HasSubstr("without a footer")))
          << s;
    }
  }
  // The exact messages at three places.
  EXPECT_THAT(ReadBytes(bytes.substr(0, 5)).ToString(), HasSubstr("byte 5: truncated file"));
  EXPECT_THAT(ReadBytes(bytes.substr(0, bytes.size() - 2)).ToString(),
              HasSubstr("truncated footer record after event 50: the file ends inside its 4-byte "
                        "checksum"));
}

TEST(TraceReaderTest, TruncatedZstdAtManyOffsets) {
  std::mt19937_64 rng(4);
  const std::string path = TempPath("t.trace.zst");
  ASSERT_TRUE(
      WriteTrace(path, FullHeader(), RandomEvents(rng, 500), {.events_per_chunk = 64}).ok());
  const std::string bytes = ReadFile(path);
  for (std::size_t size = 4; size < bytes.size(); size += 1 + size / 50) {
    absl::Status s = ReadBytes(bytes.substr(0, size), "cut.trace.zst");
    ASSERT_FALSE(s.ok()) << "truncated to " << size;
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_THAT(s.ToString(), HasSubstr("cut.trace.zst: decompressed byte ")) << s;
  }
  EXPECT_THAT(ReadBytes(bytes.substr(0, bytes.size() - 1)).ToString(),
              HasSubstr("zstd: the compressed stream ends inside a frame"));
}

TEST(TraceReaderTest, EveryFlippedByteIsCaught) {
  std::mt19937_64 rng(5);
  const std::string path = TempPath("f.trace");
  ASSERT_TRUE(WriteTrace(path, FullHeader(), RandomEvents(rng, 40), {.events_per_chunk = 16}).ok());
  const std::string bytes = ReadFile(path);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xFF}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      absl::Status s = ReadBytes(bad, "flip.trace");
      ASSERT_FALSE(s.ok()) << "byte " << i << " ^ " << int{mask};
      EXPECT_THAT(s.ToString(), HasSubstr("flip.trace: ")) << s;
    }
  }
}

TEST(TraceReaderTest, FlippedBytesInZstdAreCaught) {
  std::mt19937_64 rng(6);
  const std::string path = TempPath("f.trace.zst");
  const std::vector<Event> events = RandomEvents(rng, 300);
  ASSERT_TRUE(WriteTrace(path, FullHeader(), events).ok());
  const std::string bytes = ReadFile(path);
  int caught = 0;
  int total = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 3, ++total) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    const std::string bad_path = TempPath("flip.trace.zst");
    WriteFile(bad_path, bad);
    absl::StatusOr<std::vector<Event>> read = ReadTrace(bad_path);
    if (read.ok()) {
      // A flip zstd does not notice (e.g. in the frame header's window size)
      // must not change a single event: the content checksum would catch it.
      EXPECT_EQ(*read, events) << "byte " << i;
      continue;
    }
    ++caught;
    EXPECT_THAT(read.status().ToString(), HasSubstr("flip.trace.zst: ")) << read.status();
  }
  EXPECT_GT(caught, total * 9 / 10);
}

TEST(TraceReaderTest, ChecksumMismatch) {
  std::string bytes = ValidRaw().bytes();
  const std::size_t header_size = FullHeader().ByteSizeLong();
  // Magic (8), type (1), length (2 bytes for > 127), then the payload.
  ASSERT_GT(header_size, 127u);
  bytes[8 + 1 + 2 + 5] ^= 0x20;
  absl::Status s = ReadBytes(bytes, "crc.trace");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.ToString(), AllOf(HasSubstr("crc.trace: byte 8: header record checksum mismatch"),
                                  HasSubstr("(expected 0x"), HasSubstr(", found 0x")));
}

TEST(TraceReaderTest, UnknownRecordTypeAndOversizedRecord) {
  RawTrace raw;
  raw.Header(FullHeader()).Record(7, "xyz");
  EXPECT_THAT(ReadBytes(raw.bytes()).ToString(),
              HasSubstr("unknown record type 0x07 after event 0 (expected 1 header, 2 chunk or 3 "
                        "footer)"));
  RawTrace huge;
  huge.Header(FullHeader()).Raw(std::string("\x02\xff\xff\xff\xff\x0f", 6));
  EXPECT_THAT(ReadBytes(huge.bytes()).ToString(),
              HasSubstr("the chunk record claims 4294967295 payload bytes"));
  RawTrace overflow;
  overflow.Header(FullHeader()).Raw(std::string("\x02") + std::string(10, '\xff') + "\x01");
  EXPECT_THAT(ReadBytes(overflow.bytes()).ToString(), HasSubstr("varint overflow"));
}

TEST(TraceReaderTest, RecordsInTheWrongOrder) {
  EXPECT_THAT(ReadBytes(RawTrace().Chunk(MakeChunk(0, TenEvents(1))).bytes()).ToString(),
              HasSubstr("byte 8: expected the header record, found a chunk record"));
  EXPECT_THAT(ReadBytes(RawTrace().bytes()).ToString(),
              HasSubstr("byte 8: truncated file: it ends before the header record"));
  RawTrace two;
  two.Header(FullHeader()).Chunk(MakeChunk(0, TenEvents(1))).Header(FullHeader());
  EXPECT_THAT(ReadBytes(two.bytes()).ToString(), HasSubstr("event 10: a second header record"));
}

TEST(TraceReaderTest, ProtobufParseFailure) {
  RawTrace raw;
  raw.Header(FullHeader()).Record(2, "\xff\xff\xff\xff");
  absl::Status s = ReadBytes(raw.bytes(), "parse.trace");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.ToString(), HasSubstr("event 0: chunk 0 does not parse as a traces.EventChunk"));
  EXPECT_THAT(ReadBytes(RawTrace().Record(1, "\x0a\x05").bytes()).ToString(),
              HasSubstr("byte 8: the header record does not parse as a traces.TraceHeader"));
  RawTrace footer;
  footer.Header(FullHeader()).Record(3, "\x08");
  EXPECT_THAT(ReadBytes(footer.bytes()).ToString(),
              HasSubstr("footer record does not parse as a traces.TraceFooter"));
}

TEST(TraceReaderTest, ColumnLengthMismatch) {
  traces::EventChunk second = MakeChunk(10, TenEvents(100));
  second.mutable_sizes()->RemoveLast();
  RawTrace raw;
  raw.Header(FullHeader()).Chunk(MakeChunk(0, TenEvents(1))).Chunk(second);
  absl::Status s = ReadBytes(raw.bytes(), "columns.trace");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.ToString(),
              HasSubstr("columns.trace: event 10: chunk 1 has 10 kinds but 9 sizes (expected 10, "
                        "or 0 for all zeros)"));
  traces::EventChunk extra = MakeChunk(0, TenEvents(1));
  extra.add_pool_hints(0);
  EXPECT_THAT(ReadBytes(RawTrace().Header(FullHeader()).Chunk(extra).bytes()).ToString(),
              HasSubstr("event 0: chunk 0 has 10 kinds but 11 pool_hints"));
  traces::EventChunk short_slots = MakeChunk(0, TenEvents(1));
  short_slots.mutable_slots()->RemoveLast();
  EXPECT_THAT(ReadBytes(RawTrace().Header(FullHeader()).Chunk(short_slots).bytes()).ToString(),
              HasSubstr("event 0: chunk 0 has 10 kinds but 9 slots"));
  traces::EventChunk empty;
  EXPECT_THAT(ReadBytes(RawTrace().Header(FullHeader()).Chunk(empty).bytes()).ToString(),
              HasSubstr("event 0: chunk 0 has no events"));
}

// A trace whose second chunk's event 3 (event 13) was edited by `edit`.
absl::Status WithBadEvent(const std::function<void(traces::EventChunk&)>& edit,
                          const std::string& name) {
  traces::EventChunk second = MakeChunk(10, TenEvents(100));
  edit(second);
  RawTrace raw;
  raw.Header(FullHeader()).Chunk(MakeChunk(0, TenEvents(1))).Chunk(second);
  return ReadBytes(raw.bytes(), name);
}

TEST(TraceReaderTest, BadEventValues) {
  absl::Status s = WithBadEvent([](traces::EventChunk& c) { c.set_kinds(3, 8); }, "kind.trace");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.ToString(),
              HasSubstr("kind.trace: event 13: unknown event kind 8 (expected 0..7)"));
  EXPECT_THAT(
      WithBadEvent([](traces::EventChunk& c) { c.set_kinds(3, 0xFFFFFFFF); }, "k.trace").ToString(),
      HasSubstr("event 13: unknown event kind 4294967295"));
  EXPECT_THAT(
      WithBadEvent([](traces::EventChunk& c) { c.set_flavours(2, 10); }, "fl.trace").ToString(),
      HasSubstr("fl.trace: event 12: unknown flavour 10 (expected 0..9)"));
  EXPECT_THAT(
      WithBadEvent([](traces::EventChunk& c) { c.set_alignments(2, 24); }, "al.trace").ToString(),
      HasSubstr("al.trace: event 12: alignment 24 is not a power of two"));
  EXPECT_THAT(
      WithBadEvent([](traces::EventChunk& c) { c.set_alignments(2, 1ull << 63); }, "a.trace")
          .ToString(),
      HasSubstr("event 12: alignment 9223372036854775808 exceeds the limit 2^48"));
  EXPECT_THAT(WithBadEvent([](traces::EventChunk& c) { c.set_sizes(4, ~0ull - 1); }, "size.trace")
                  .ToString(),
              HasSubstr("size.trace: event 14: size 18446744073709551614 exceeds the limit 2^48 = "
                        "281474976710656"));
  // Exactly 2^48 is allowed.
  EXPECT_TRUE(WithBadEvent([](traces::EventChunk& c) { c.set_sizes(4, 1ull << 48); }, "max.trace")
                  .ToString()
                  .find("size") == std::string::npos);
  EXPECT_THAT(
      WithBadEvent([](traces::EventChunk& c) { c.set_sizes(3, 5); }, "free.trace").ToString(),
      HasSubstr("event 13: free has a size 5 (expected 0)"));
  EXPECT_THAT(
      WithBadEvent([](traces::EventChunk& c) { c.set_flavours(3, 1); }, "ff.trace").ToString(),
      HasSubstr("event 13: free has flavour calloc (expected malloc)"));
  EXPECT_THAT(WithBadEvent([](traces::EventChunk& c) { c.set_slots(3, 1); }, "fs.trace").ToString(),
              HasSubstr("fs.trace: event 13: free has 1 slots (expected 0"));
  // Event 12 is an alloc of 32 bytes: four slots fit, five do not.
  EXPECT_TRUE(WithBadEvent([](traces::EventChunk& c) { c.set_slots(2, 4); }, "s4.trace")
                  .ToString()
                  .find("slots") == std::string::npos);
  EXPECT_THAT(WithBadEvent([](traces::EventChunk& c) { c.set_slots(2, 5); }, "s5.trace").ToString(),
              HasSubstr("s5.trace: event 12: 5 slots need 40 bytes but the size is 32"));
}

TEST(TraceReaderTest, ChunkIndexNotContinuing) {
  RawTrace raw;
  raw.Header(FullHeader()).Chunk(MakeChunk(0, TenEvents(1))).Chunk(MakeChunk(12, TenEvents(100)));
  absl::Status s = ReadBytes(raw.bytes(), "index.trace");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.ToString(),
              HasSubstr("index.trace: event 10: chunk 1 starts at event 12 (expected 10"));
}

TEST(TraceReaderTest, FooterDisagreesWithTheBody) {
  std::vector<Event> all = TenEvents(1);
  const std::vector<Event> second = TenEvents(100);
  all.insert(all.end(), second.begin(), second.end());
  auto with_footer = [&](const traces::TraceFooter& footer) {
    RawTrace raw;
    raw.Header(FullHeader()).Chunk(MakeChunk(0, TenEvents(1))).Chunk(MakeChunk(10, second));
    return ReadBytes(raw.Footer(footer).bytes(), "footer.trace");
  };
  traces::TraceFooter footer = MakeFooter(all, 2);
  EXPECT_TRUE(with_footer(footer).ok());
  footer.set_event_count(21);
  absl::Status s = with_footer(footer);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.ToString(),
              HasSubstr("footer.trace: event 20: footer says 21 events but the trace holds 20"));
  footer = MakeFooter(all, 3);
  EXPECT_THAT(with_footer(footer).ToString(),
              HasSubstr("footer says 3 chunks but the trace holds 2"));
  footer = MakeFooter(all, 2);
  footer.set_events_per_kind(1, 9);
  EXPECT_THAT(with_footer(footer).ToString(),
              HasSubstr("footer says 9 free events but the trace holds 10"));
  footer = MakeFooter(all, 2);
  footer.set_bytes_allocated(1);
  EXPECT_THAT(with_footer(footer).ToString(),
              HasSubstr("footer says 1 bytes allocated but the trace holds 480"));
  footer = MakeFooter(all, 2);
  footer.add_events_per_kind(0);
  EXPECT_THAT(with_footer(footer).ToString(), HasSubstr("footer has 9 events_per_kind entries"));
  // Trailing zero counts may be left out.
  footer = MakeFooter(all, 2);
  while (footer.events_per_kind_size() > 2) footer.mutable_events_per_kind()->RemoveLast();
  EXPECT_TRUE(with_footer(footer).ok());
}

TEST(TraceReaderTest, MissingFooter) {
  RawTrace raw;
  raw.Header(FullHeader()).Chunk(MakeChunk(0, TenEvents(1)));
  absl::Status s = ReadBytes(raw.bytes(), "nofooter.trace");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.ToString(),
              HasSubstr("nofooter.trace: byte " + std::to_string(raw.bytes().size()) +
                        ": event 10: the file ends without a footer record (truncated after 1 "
                        "chunks)"));
}

TEST(TraceReaderTest, GarbageAfterFooter) {
  const std::string valid = ValidRaw().bytes();
  absl::Status s = ReadBytes(valid + "junk", "garbage.trace");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.ToString(), HasSubstr("garbage.trace: byte " + std::to_string(valid.size()) +
                                      ": unexpected data after the footer record"));
  EXPECT_FALSE(ReadBytes(valid + std::string(1, '\0')).ok());
}

TEST(TraceReaderTest, ErrorsAreSticky) {
  RawTrace raw;
  raw.Header(FullHeader()).Chunk(MakeChunk(0, TenEvents(1))).Chunk(MakeChunk(3, TenEvents(1)));
  const std::string path = TempPath("sticky.trace");
  WriteFile(path, raw.bytes());
  auto reader = replay::TraceReader::Open(path);
  ASSERT_TRUE(reader.ok());
  std::vector<Event> batch;
  ASSERT_TRUE((*reader)->Next(&batch).ok());
  EXPECT_EQ(batch.size(), 10u);
  absl::Status first = (*reader)->Next(&batch);
  EXPECT_FALSE(first.ok());
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ((*reader)->Next(&batch), first);
  EXPECT_EQ((*reader)->events_read(), 10u);
}

TEST(TraceReaderTest, MemoryReaderNamesTheGivenName) {
  auto reader = replay::internal::OpenTraceReaderFromMemory("in-memory", "nope");
  ASSERT_FALSE(reader.ok());
  EXPECT_THAT(std::string(reader.status().message()), StartsWith("in-memory: byte 0: "));
}

}  // namespace
}  // namespace replay_test
