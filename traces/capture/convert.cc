#include "traces/capture/convert.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "replay/event.h"
#include "replay/trace_io.h"

namespace capture {
namespace {

// One event of a raw log, with the words that continue it folded in.
// 48 bytes: a process's events are all in memory at once, to be sorted.
struct LogEvent {
  std::uint64_t order = 0;  // RawId(key, buffer): also the raw id of a block it makes.
  // The raw id of the block it acts on (kFree, kRealloc, kUsableSize); after
  // Normalise, the trace id of the block it makes or acts on.
  std::uint64_t block = 0;
  std::uint64_t new_block = 0;  // After Normalise: a REALLOC's new trace id.
  std::uint64_t size = 0;
  std::uint64_t site = 0;
  std::uint32_t tid = 0;
  RawKind kind = RawKind::kAlloc;
  std::uint8_t flavour = 0;
  std::uint8_t align_code = 0;
  bool moved = false;
};

// A calibration point: CLOCK_MONOTONIC and the record clock together.
struct ClockPoint {
  std::uint64_t mono_ns, ticks;
};

// What ReadLog finds after the header: the events in file order, the
// latest calibration point, and whether the log ended inside a record.
struct LogContents {
  std::vector<LogEvent> events;
  ClockPoint last_clock{};
  bool torn = false;
};

// Appends the events of a chunk's words (raw_log.h).
void AddWords(const RawChunk& chunk, const std::vector<std::uint64_t>& words,
              std::vector<LogEvent>* events) {
  std::uint64_t key = chunk.base_key;
  for (const std::uint64_t word : words) {
    const std::uint64_t payload = WordPayload(word);
    const RawKind kind = WordKind(word);
    if (kind == RawKind::kKey) {
      key = payload;
      continue;
    }
    if (kind > RawKind::kUsableSize) {
      if (events->empty()) continue;
      LogEvent& e = events->back();
      switch (kind) {
        case RawKind::kSize:
          e.size = payload;
          break;
        case RawKind::kAlign:
          e.align_code = std::uint8_t(payload);
          break;
        case RawKind::kBlockKey:
          e.block = RawId(payload, BufferOf(e.block));
          break;
        case RawKind::kSite:
          e.site = payload;
          break;
        default:
          break;  // Unknown: skipped.
      }
      continue;
    }
    key += WordDelta(word);
    LogEvent& e = events->emplace_back();
    e.order = RawId(key, chunk.buffer);
    e.tid = chunk.tid;
    e.kind = kind;
    if (kind == RawKind::kAlloc) {
      e.size = payload >> 4;
      e.flavour = std::uint8_t(payload & 15);
    } else {
      const std::uint64_t age = (payload >> 16) & ((std::uint64_t{1} << kAgeBits) - 1);
      e.block = RawId(key - age, std::uint32_t(payload & 0xffff));
      e.moved = (payload >> 47) & 1;
    }
  }
}

// Reads a raw log's header, executable and command line into *info and,
// if `out` is not null, its events (a torn last chunk is cut short and
// out->torn set).
absl::Status ReadLog(const std::string& path, RawLogInfo* info, LogContents* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const std::uint64_t file_size = in.tellg();
  in.seekg(0);
  RawLogHeader& h = info->header;
  if (!in.read(reinterpret_cast<char*>(&h), sizeof(h))) {
    return absl::DataLossError(absl::StrCat(path, ": raw log of ", file_size,
                                            " bytes is shorter than its ", sizeof(h),
                                            "-byte header"));
  }
  if (h.magic != kRawLogMagic) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a librecord raw log (expected the magic WRAWLOG2)"));
  }
  std::uint64_t pos = sizeof(h) + std::uint64_t{h.exe_bytes} + h.cmdline_bytes;
  if (file_size < pos) {
    return absl::DataLossError(absl::StrCat(path, ": raw log ends inside its command line"));
  }
  info->path = path;
  info->exe.resize(h.exe_bytes);
  std::string cmdline(h.cmdline_bytes, '\0');
  in.read(info->exe.data(), h.exe_bytes);
  in.read(cmdline.data(), h.cmdline_bytes);
  if (!cmdline.empty() && cmdline.back() == '\0') cmdline.pop_back();
  info->argv.clear();
  if (!cmdline.empty()) info->argv = absl::StrSplit(cmdline, '\0');
  if (out == nullptr) return absl::OkStatus();
  out->events.reserve((file_size - pos) / sizeof(std::uint64_t));
  out->last_clock = {h.init_mono_ns, h.init_ticks};
  std::vector<std::uint64_t> words;
  while (pos < file_size) {
    RawChunk chunk;
    if (file_size - pos < sizeof(chunk)) {
      out->torn = true;
      break;
    }
    in.read(reinterpret_cast<char*>(&chunk), sizeof(chunk));
    pos += sizeof(chunk);
    words.resize(std::min<std::uint64_t>(chunk.words, (file_size - pos) / sizeof(std::uint64_t)));
    out->torn = words.size() < chunk.words;
    if (!in.read(reinterpret_cast<char*>(words.data()), words.size() * sizeof(std::uint64_t))) {
      return absl::DataLossError(absl::StrCat(path, ": cannot read the records"));
    }
    pos += words.size() * sizeof(std::uint64_t);
    if (chunk.ticks > out->last_clock.ticks && chunk.mono_ns >= out->last_clock.mono_ns) {
      out->last_clock = {chunk.mono_ns, chunk.ticks};
    }
    AddWords(chunk, words, &out->events);
    if (out->torn) break;
  }
  return absl::OkStatus();
}

// The maps file librecord wrote next to a log: (start, end, offset, module).
struct Mapping {
  std::uint64_t start, end, offset;
  std::string module;
};

std::vector<Mapping> ReadMaps(const std::string& log_path) {
  std::vector<Mapping> maps;
  std::string path = log_path;
  path.replace(path.rfind(".log"), 4, ".maps");
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    // "start-end perms offset dev inode path"
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode, module;
    fields >> range >> perms >> offset >> dev >> inode;
    std::getline(fields >> std::ws, module);
    const std::size_t dash = range.find('-');
    Mapping m;
    if (dash == std::string::npos || module.empty() || perms.find('x') == std::string::npos ||
        !absl::SimpleHexAtoi(range.substr(0, dash), &m.start) ||
        !absl::SimpleHexAtoi(range.substr(dash + 1), &m.end) ||
        !absl::SimpleHexAtoi(offset, &m.offset)) {
      continue;
    }
    m.module = module;
    maps.push_back(m);
  }
  return maps;
}

std::string DescribeSite(std::uint64_t address, const std::vector<Mapping>& maps) {
  for (const Mapping& m : maps) {
    if (address >= m.start && address < m.end) {
      return absl::StrCat(m.module, "+0x", absl::Hex(address - m.start + m.offset));
    }
  }
  return absl::StrCat("0x", absl::Hex(address));
}

// Maps order keys to ns since the image started: keys count record-clock
// ticks from key_base_ticks, and ticks map to ns by a straight line through
// the earliest and latest calibration points.
struct TickClock {
  std::uint64_t key_base_ticks;
  std::uint64_t init_ticks;
  double ns_per_tick;
  std::uint64_t Ns(std::uint64_t key) const {
    const std::uint64_t ticks = key_base_ticks + (key << kKeyTickShift);
    return ticks <= init_ticks ? 0 : std::uint64_t(double(ticks - init_ticks) * ns_per_tick);
  }
};

TickClock Calibrate(const RawLogHeader& header, const ClockPoint& last) {
  const double rate = last.ticks > header.init_ticks ? double(last.mono_ns - header.init_mono_ns) /
                                                           double(last.ticks - header.init_ticks)
                                                     : 0;
  return TickClock{header.key_base_ticks, header.init_ticks, rate};
}

struct Totals {
  std::uint64_t unknown_blocks = 0;
  std::uint64_t usable_size_calls = 0;
  std::uint64_t peak_live_bytes = 0;
};

// Makes the events (in order) a consistent trace, in place: raw ids become
// trace ids (1, 2, ... in order of allocation; a block keeps its id through
// an in-place realloc), a free of a block never seen allocated is dropped
// (made a kUsableSize, which is skipped), a realloc of one becomes its
// allocation.
absl::Status Normalise(const std::string& path, std::vector<LogEvent>& events, Totals* totals) {
  struct Block {
    std::uint64_t trace_id, size;
  };
  absl::flat_hash_map<std::uint64_t, Block> live;  // By raw id.
  std::uint64_t live_bytes = 0, next_id = 1;
  for (LogEvent& e : events) {
    if (e.kind == RawKind::kUsableSize) {
      ++totals->usable_size_calls;
      continue;
    }
    std::uint64_t trace_id = 0;
    if (e.kind != RawKind::kAlloc) {
      auto it = live.find(e.block);
      if (it == live.end()) {
        ++totals->unknown_blocks;
        if (e.kind == RawKind::kFree) {
          e.kind = RawKind::kUsableSize;
          continue;
        }
        e.kind = RawKind::kAlloc;
        e.flavour = static_cast<std::uint8_t>(replay::Flavour::kRealloc);
      } else {
        trace_id = it->second.trace_id;
        live_bytes -= it->second.size;
        live.erase(it);
      }
    }
    e.block = trace_id;
    if (e.kind == RawKind::kFree) continue;
    e.new_block = e.kind == RawKind::kRealloc && !e.moved ? trace_id : next_id++;
    if (e.kind == RawKind::kAlloc) e.block = e.new_block;
    if (!live.try_emplace(e.order, Block{e.new_block, e.size}).second) {
      return absl::InternalError(
          absl::StrCat(path, ": raw id ", e.order, " allocated twice (a librecord bug)"));
    }
    live_bytes += e.size;
    totals->peak_live_bytes = std::max(totals->peak_live_bytes, live_bytes);
  }
  return absl::OkStatus();
}

// A normalised event as the trace has it.
replay::Event ToEvent(const LogEvent& l) {
  replay::Event e;
  e.id = l.block;
  switch (l.kind) {
    case RawKind::kAlloc:
      e.kind = replay::EventKind::kAlloc;
      e.size = l.size;
      e.flavour = static_cast<replay::Flavour>(l.flavour);
      e.alignment = l.align_code == 0 ? 0 : std::uint64_t{1} << (l.align_code - 1);
      break;
    case RawKind::kFree:
      e.kind = replay::EventKind::kFree;
      break;
    default:
      e.kind = replay::EventKind::kRealloc;
      e.size = l.size;
      e.new_id = l.new_block;
      break;
  }
  return e;
}

}  // namespace

absl::StatusOr<std::vector<RawLogInfo>> ListRawLogs(const std::string& dir) {
  std::error_code error;
  std::vector<RawLogInfo> logs;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("raw.", 0) != 0 || !name.ends_with(".log")) continue;
    RawLogInfo info;
    if (absl::Status s = ReadLog(entry.path().string(), &info, nullptr); !s.ok()) {
      return s;
    }
    logs.push_back(std::move(info));
  }
  if (error) return absl::NotFoundError(absl::StrCat(dir, ": cannot list: ", error.message()));
  std::sort(logs.begin(), logs.end(), [](const RawLogInfo& a, const RawLogInfo& b) {
    return std::pair(a.header.pid, a.header.init_mono_ns) <
           std::pair(b.header.pid, b.header.init_mono_ns);
  });
  return logs;
}

absl::StatusOr<TraceSummary> ConvertRawLog(const RawLogInfo& log, const std::string& out_path,
                                           const ConvertOptions& options) {
  RawLogInfo info;
  LogContents raw;
  if (absl::Status s = ReadLog(log.path, &info, &raw); !s.ok()) return s;
  std::vector<LogEvent>& events = raw.events;
  // Each thread's chunks are in order and threads interleave; sorting by
  // (key, buffer) gives the one order of the process (already sorted when
  // one thread did everything).
  const TickClock clock = Calibrate(info.header, raw.last_clock);
  auto by_order = [](const LogEvent& a, const LogEvent& b) { return a.order < b.order; };
  if (!std::is_sorted(events.begin(), events.end(), by_order)) {
    std::sort(events.begin(), events.end(), by_order);
  }

  // Threads numbered 1, 2, ... in order of first event; the main thread
  // (tid == pid) is "main".
  std::map<std::uint32_t, std::uint32_t> thread_index;
  std::vector<std::uint32_t> thread_tids;
  auto ThreadOf = [&](std::uint32_t tid) {
    auto [it, inserted] = thread_index.try_emplace(tid, thread_tids.size() + 1);
    if (inserted) thread_tids.push_back(tid);
    return it->second;
  };
  for (const LogEvent& e : events) ThreadOf(e.tid);
  std::vector<Mapping> maps;
  if (options.sites) maps = ReadMaps(log.path);
  absl::flat_hash_map<std::uint64_t, std::uint32_t> site_index;
  std::vector<std::uint64_t> site_addresses;

  traces::TraceHeader header;
  header.set_program(info.exe);
  for (const std::string& arg : info.argv) header.add_command_line(arg);
  header.set_capture_tool("workbench record");
  header.set_capture_time_ns(info.header.init_real_ns);
  header.set_page_size(info.header.page_size);
  for (std::size_t i = 0; i < thread_tids.size(); ++i) {
    traces::ThreadInfo* t = header.add_threads();
    t->set_id(static_cast<std::uint32_t>(i + 1));
    t->set_name(thread_tids[i] == info.header.pid ? std::string("main")
                                                  : absl::StrCat("tid ", thread_tids[i]));
  }
  header.add_notes(absl::StrCat("pid ", info.header.pid, ", parent ", info.header.ppid,
                                info.header.forked ? ", a fork child" : ""));

  TraceSummary summary;
  summary.path = out_path;
  summary.pid = info.header.pid;
  summary.program = info.exe;
  summary.threads = static_cast<std::uint32_t>(thread_tids.size());
  Totals totals;
  if (absl::Status s = Normalise(log.path, events, &totals); !s.ok()) return s;
  summary.unknown_blocks = totals.unknown_blocks;
  summary.usable_size_calls = totals.usable_size_calls;
  summary.peak_live_bytes = totals.peak_live_bytes;
  if (options.sites) {
    for (const LogEvent& e : events) {
      const std::uint64_t site = e.site;
      if (site != 0 && site_index.try_emplace(site, site_addresses.size() + 1).second) {
        site_addresses.push_back(site);
      }
    }
  }
  if (summary.unknown_blocks != 0) {
    header.add_notes(absl::StrCat(summary.unknown_blocks,
                                  " frees or reallocs of blocks allocated before recording "
                                  "(or by a fork parent): frees left out, reallocs made allocs"));
  }
  if (summary.usable_size_calls != 0) {
    header.add_notes(absl::StrCat("malloc_usable_size calls: ", summary.usable_size_calls));
  }
  if (raw.torn) header.add_notes("the raw log ended inside a record (the process was killed?)");
  for (std::size_t i = 0; i < site_addresses.size(); ++i) {
    header.add_notes(absl::StrCat("site ", i + 1, ": ", DescribeSite(site_addresses[i], maps)));
  }

  absl::StatusOr<std::unique_ptr<replay::TraceWriter>> writer =
      replay::TraceWriter::Open(out_path, header);
  if (!writer.ok()) return writer.status();
  std::uint32_t last_tid = 0, last_thread = 0;
  for (const LogEvent& l : events) {
    if (l.kind == RawKind::kUsableSize) continue;
    replay::Event e = ToEvent(l);
    if (l.tid != last_tid) {
      last_tid = l.tid;
      last_thread = ThreadOf(l.tid);
    }
    e.thread = last_thread;
    e.time_ns = clock.Ns(KeyOf(l.order));
    if (options.sites && l.site != 0) e.site = site_index.find(l.site)->second;
    if (absl::Status s = (*writer)->Write(e); !s.ok()) return s;
    ++summary.events;
    summary.allocs += e.kind == replay::EventKind::kAlloc;
    summary.frees += e.kind == replay::EventKind::kFree;
    summary.reallocs += e.kind == replay::EventKind::kRealloc;
  }
  if (absl::Status s = (*writer)->Close(); !s.ok()) return s;
  return summary;
}

}  // namespace capture
