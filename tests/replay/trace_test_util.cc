#include "tests/replay/trace_test_util.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "replay/crc32c.h"
#include "replay/trace_format.h"

namespace replay_test {

using replay::Event;
using replay::EventKind;
using replay::Flavour;

std::string TempPath(const std::string& name) {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", counter++, "_", name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

traces::TraceHeader FullHeader() {
  traces::TraceHeader h;
  h.set_format_version(1);
  h.set_program("/usr/bin/cc1plus");
  h.add_command_line("cc1plus");
  h.add_command_line("-O2");
  h.add_command_line("a file with spaces \"and quotes\"\n\tand\\ escapes \xc3\xa9");
  h.add_command_line("");
  h.set_capture_tool("wbtrace-preload 0.1");
  h.set_capture_time_ns(1700000000123456789ull);
  h.set_page_size(4096);
  traces::ThreadInfo* t = h.add_threads();
  t->set_id(1);
  t->set_name("main");
  t = h.add_threads();
  t->set_id(2);
  t->set_name("worker 2");
  h.add_notes("captured on a quiet machine");
  h.add_notes("# not a header line: really");
  return h;
}

std::vector<Event> RandomEvents(std::mt19937_64& rng, std::size_t count) {
  std::vector<Event> events;
  events.reserve(count);
  auto pick = [&](std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng);
  };
  // Mostly small values, sometimes extreme ones.
  auto number = [&](std::uint64_t max) -> std::uint64_t {
    switch (pick(4)) {
      case 0:
        return 0;
      case 1:
        return pick(100);
      case 2:
        return max;
      default:
        return pick(max) + 1;
    }
  };
  constexpr std::uint64_t kMax = std::uint64_t{1} << 48;
  std::uint64_t time = 0;
  for (std::size_t i = 0; i < count; ++i) {
    Event e;
    e.kind = static_cast<EventKind>(pick(replay::kEventKindCount));
    if (e.kind != EventKind::kCollect) e.id = pick(2) ? pick(1000) : rng();
    switch (e.kind) {
      case EventKind::kAlloc:
        e.size = number(kMax);
        e.alignment = pick(3) == 0 ? 0 : std::uint64_t{1} << pick(49);
        e.flavour = static_cast<Flavour>(pick(replay::kFlavourCount));
        // Reference slots fill at most the whole object (slots * 8 <= size).
        if (pick(2) == 0) {
          e.slots =
              static_cast<std::uint32_t>(pick(std::min<std::uint64_t>(e.size / 8, 0xFFFFFFFF) + 1));
        }
        break;
      case EventKind::kRealloc:
        e.new_id = rng();
        e.size = number(kMax);
        break;
      case EventKind::kStore:
        e.size = number(kMax);
        e.new_id = pick(3) == 0 ? 0 : pick(1000);
        break;
      default:
        break;
    }
    e.thread =
        pick(4) == 0 ? static_cast<std::uint32_t>(rng()) : static_cast<std::uint32_t>(pick(3));
    // Times mostly increase, sometimes jump back (unsynchronised threads).
    time = pick(20) == 0 ? rng() : time + pick(5000);
    e.time_ns = time;
    e.site = pick(2) ? 0 : static_cast<std::uint32_t>(number(0xFFFFFFFF));
    e.pool_hint = pick(5) ? 0 : static_cast<std::uint32_t>(number(0xFFFFFFFF));
    events.push_back(e);
  }
  return events;
}

absl::Status WriteTrace(const std::string& path, const traces::TraceHeader& header,
                        const std::vector<Event>& events, replay::TraceWriterOptions options) {
  absl::StatusOr<std::unique_ptr<replay::TraceWriter>> writer =
      replay::TraceWriter::Open(path, header, options);
  if (!writer.ok()) return writer.status();
  for (const Event& e : events) {
    if (absl::Status s = (*writer)->Write(e); !s.ok()) return s;
  }
  return (*writer)->Close();
}

absl::StatusOr<std::vector<Event>> ReadTrace(const std::string& path, traces::TraceHeader* header) {
  absl::StatusOr<std::unique_ptr<replay::TraceReader>> reader = replay::TraceReader::Open(path);
  if (!reader.ok()) return reader.status();
  if (header != nullptr) *header = (*reader)->header();
  std::vector<Event> all;
  std::vector<Event> batch;
  while (true) {
    if (absl::Status s = (*reader)->Next(&batch); !s.ok()) return s;
    if (batch.empty()) break;
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

RawTrace::RawTrace(int version) {
  bytes_ = "WBTRACE";
  bytes_.push_back(static_cast<char>(version));
}

RawTrace& RawTrace::Record(int type, const std::string& payload) {
  bytes_.push_back(static_cast<char>(type));
  replay::internal::AppendVarint(&bytes_, payload.size());
  bytes_ += payload;
  const std::uint32_t crc = replay::Crc32c(payload.data(), payload.size());
  for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<char>(crc >> (8 * i)));
  return *this;
}

RawTrace& RawTrace::Header(const traces::TraceHeader& header) {
  return Record(1, header.SerializeAsString());
}
RawTrace& RawTrace::Chunk(const traces::EventChunk& chunk) {
  return Record(2, chunk.SerializeAsString());
}
RawTrace& RawTrace::Footer(const traces::TraceFooter& footer) {
  return Record(3, footer.SerializeAsString());
}
RawTrace& RawTrace::Raw(const std::string& bytes) {
  bytes_ += bytes;
  return *this;
}

traces::EventChunk MakeChunk(std::uint64_t first_event, const std::vector<Event>& events) {
  traces::EventChunk chunk;
  chunk.set_first_event(first_event);
  for (const Event& e : events) {
    chunk.add_kinds(static_cast<std::uint32_t>(e.kind));
    chunk.add_ids(e.id);
    chunk.add_new_ids(e.new_id);
    chunk.add_sizes(e.size);
    chunk.add_alignments(e.alignment);
    chunk.add_flavours(static_cast<std::uint32_t>(e.flavour));
    chunk.add_threads(e.thread);
    chunk.add_time_deltas(0);
    chunk.add_sites(e.site);
    chunk.add_pool_hints(e.pool_hint);
    chunk.add_slots(e.slots);
  }
  return chunk;
}

traces::TraceFooter MakeFooter(const std::vector<Event>& events, std::uint64_t chunks) {
  replay::internal::Totals totals;
  for (const Event& e : events) totals.Add(e);
  totals.chunk_count = chunks;
  return totals.ToFooter();
}

replay::Event AllocEvent(std::uint64_t id, std::uint64_t size, std::uint64_t alignment,
                         replay::Flavour flavour) {
  replay::Event e;
  e.kind = replay::EventKind::kAlloc;
  e.id = id;
  e.size = size;
  e.alignment = alignment;
  e.flavour = flavour;
  return e;
}

replay::Event FreeEvent(std::uint64_t id) {
  replay::Event e;
  e.kind = replay::EventKind::kFree;
  e.id = id;
  return e;
}

replay::Event ReallocEvent(std::uint64_t id, std::uint64_t new_id, std::uint64_t size) {
  replay::Event e;
  e.kind = replay::EventKind::kRealloc;
  e.id = id;
  e.new_id = new_id;
  e.size = size;
  return e;
}

}  // namespace replay_test
