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

// Reads a raw log's header, executable and command line into *info and,
// if `records` is not null, its records (a torn last record is dropped and
// *torn set).
absl::Status ReadLog(const std::string& path, RawLogInfo* info, std::vector<RawRecord>* records,
                     bool* torn) {
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
        absl::StrCat(path, ": not a librecord raw log (expected the magic WRAWLOG1)"));
  }
  const std::uint64_t start = sizeof(h) + std::uint64_t{h.exe_bytes} + h.cmdline_bytes;
  if (file_size < start) {
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
  if (records == nullptr) return absl::OkStatus();
  records->resize((file_size - start) / sizeof(RawRecord));
  *torn = (file_size - start) % sizeof(RawRecord) != 0;
  if (!in.read(reinterpret_cast<char*>(records->data()), records->size() * sizeof(RawRecord))) {
    return absl::DataLossError(absl::StrCat(path, ": cannot read the records"));
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

replay::Event ToEvent(const RawRecord& r) {
  replay::Event e;
  switch (r.kind) {
    case RawKind::kAlloc:
      e.kind = replay::EventKind::kAlloc;
      e.id = r.id != 0 ? r.id : r.seq;  // Set by Normalise for reallocs made allocs.
      e.size = r.size;
      e.flavour = static_cast<replay::Flavour>(r.flavour);
      e.alignment = r.align_log2 == 0 ? 0 : std::uint64_t{1} << (r.align_log2 - 1);
      break;
    case RawKind::kFree:
      e.kind = replay::EventKind::kFree;
      e.id = r.id;
      break;
    case RawKind::kRealloc:
    case RawKind::kUsableSize:
    case RawKind::kClock:
      e.kind = replay::EventKind::kRealloc;
      e.id = r.id;
      e.new_id = r.moved ? r.seq : r.id;
      e.size = r.size;
      break;
  }
  return e;
}

// Maps the record clock to ns since the image started: a straight line
// through the earliest and latest calibration points.
struct TickClock {
  std::uint64_t init_ticks;
  double ns_per_tick;
  std::uint64_t Ns(std::uint64_t ticks) const {
    return ticks <= init_ticks ? 0 : std::uint64_t(double(ticks - init_ticks) * ns_per_tick);
  }
};

TickClock Calibrate(const RawLogHeader& header, const std::vector<RawRecord>& records) {
  std::uint64_t first_ticks = header.init_ticks, first_ns = header.init_mono_ns;
  std::uint64_t last_ticks = first_ticks, last_ns = first_ns;
  for (const RawRecord& r : records) {
    if (r.kind != RawKind::kClock || r.size <= last_ticks || r.ticks < last_ns) continue;
    last_ticks = r.size;
    last_ns = r.ticks;
  }
  const double rate =
      last_ticks > first_ticks ? double(last_ns - first_ns) / double(last_ticks - first_ticks) : 0;
  return TickClock{header.init_ticks, rate};
}

struct Totals {
  std::uint64_t unknown_blocks = 0;
  std::uint64_t usable_size_calls = 0;
  std::uint64_t peak_live_bytes = 0;
};

// The sizes of the live blocks by id. Ids are the log's own sequence
// numbers, so a dense array indexed from the first one holds nearly all of
// them with few cache misses (a hash table missed on every lookup); ids
// from elsewhere (a fork parent's) go to a small hash table.
class LiveSizes {
 public:
  static constexpr std::uint64_t kDead = ~std::uint64_t{0};

  explicit LiveSizes(const std::vector<RawRecord>& records) {
    for (const RawRecord& r : records) {
      if (r.kind == RawKind::kClock) continue;
      first_ = std::min(first_, r.seq);
      last_ = std::max(last_, r.seq);
    }
    if (first_ <= last_) dense_.assign(last_ - first_ + 1, kDead);
  }

  // The size of live block `id`, or kDead.
  std::uint64_t Get(std::uint64_t id) const {
    if (id >= first_ && id <= last_) return dense_[id - first_];
    auto it = sparse_.find(id);
    return it == sparse_.end() ? kDead : it->second;
  }
  void Set(std::uint64_t id, std::uint64_t size) {
    if (id >= first_ && id <= last_) {
      dense_[id - first_] = size;
    } else if (size == kDead) {
      sparse_.erase(id);
    } else {
      sparse_[id] = size;
    }
  }

 private:
  std::uint64_t first_ = ~std::uint64_t{0};
  std::uint64_t last_ = 0;
  std::vector<std::uint64_t> dense_;
  absl::flat_hash_map<std::uint64_t, std::uint64_t> sparse_;
};

// Makes the records (in sequence order) a consistent trace, in place: a
// free of a block never seen allocated becomes a kClock record (skipped),
// a realloc of one becomes its allocation (kAlloc with that id).
absl::Status Normalise(const std::string& path, std::vector<RawRecord>& records, Totals* totals) {
  LiveSizes live(records);
  std::uint64_t live_bytes = 0;
  for (RawRecord& r : records) {
    totals->usable_size_calls += r.kind == RawKind::kUsableSize;
    if (r.kind == RawKind::kUsableSize || r.kind == RawKind::kClock) continue;
    std::uint64_t new_id = r.seq;
    if (r.kind != RawKind::kAlloc) {
      const std::uint64_t old_size = live.Get(r.id);
      if (old_size == LiveSizes::kDead) {
        ++totals->unknown_blocks;
        if (r.kind == RawKind::kFree) {
          r.kind = RawKind::kClock;
          continue;
        }
        r.id = r.moved ? r.seq : r.id;
        r.kind = RawKind::kAlloc;
        r.flavour = static_cast<std::uint8_t>(replay::Flavour::kRealloc);
      } else {
        live_bytes -= old_size;
        live.Set(r.id, LiveSizes::kDead);
      }
      if (r.kind == RawKind::kFree) continue;
      new_id = r.kind == RawKind::kAlloc ? r.id : (r.moved ? r.seq : r.id);
    }
    if (live.Get(new_id) != LiveSizes::kDead || r.size == LiveSizes::kDead) {
      return absl::InternalError(absl::StrCat(path, ": record ", r.seq, ": id ", new_id,
                                              " allocated twice (a librecord bug)"));
    }
    live.Set(new_id, r.size);
    live_bytes += r.size;
    totals->peak_live_bytes = std::max(totals->peak_live_bytes, live_bytes);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<RawLogInfo>> ListRawLogs(const std::string& dir) {
  std::error_code error;
  std::vector<RawLogInfo> logs;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("raw.", 0) != 0 || !name.ends_with(".log")) continue;
    RawLogInfo info;
    if (absl::Status s = ReadLog(entry.path().string(), &info, nullptr, nullptr); !s.ok()) {
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
  std::vector<RawRecord> records;
  bool truncated = false;
  if (absl::Status s = ReadLog(log.path, &info, &records, &truncated); !s.ok()) return s;
  // Each thread's flushes are in order and threads interleave; sorting by
  // sequence number restores the one order of the process (already sorted
  // when one thread did everything).
  const TickClock clock = Calibrate(info.header, records);
  std::erase_if(records, [](const RawRecord& r) { return r.kind == RawKind::kClock; });
  auto by_seq = [](const RawRecord& a, const RawRecord& b) { return a.seq < b.seq; };
  if (!std::is_sorted(records.begin(), records.end(), by_seq)) {
    std::sort(records.begin(), records.end(), by_seq);
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
  for (const RawRecord& r : records) {
    if (r.kind != RawKind::kClock) ThreadOf(r.tid);
  }
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
  if (absl::Status s = Normalise(log.path, records, &totals); !s.ok()) return s;
  summary.unknown_blocks = totals.unknown_blocks;
  summary.usable_size_calls = totals.usable_size_calls;
  summary.peak_live_bytes = totals.peak_live_bytes;
  if (options.sites) {
    for (const RawRecord& r : records) {
      if (r.site != 0 && site_index.try_emplace(r.site, site_addresses.size() + 1).second) {
        site_addresses.push_back(r.site);
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
  if (truncated) header.add_notes("the raw log ended inside a record (the process was killed?)");
  for (std::size_t i = 0; i < site_addresses.size(); ++i) {
    header.add_notes(absl::StrCat("site ", i + 1, ": ", DescribeSite(site_addresses[i], maps)));
  }

  absl::StatusOr<std::unique_ptr<replay::TraceWriter>> writer =
      replay::TraceWriter::Open(out_path, header);
  if (!writer.ok()) return writer.status();
  std::uint32_t last_tid = 0, last_thread = 0;
  for (const RawRecord& r : records) {
    if (r.kind == RawKind::kUsableSize || r.kind == RawKind::kClock) continue;
    replay::Event e = ToEvent(r);
    if (r.tid != last_tid) {
      last_tid = r.tid;
      last_thread = ThreadOf(r.tid);
    }
    e.thread = last_thread;
    e.time_ns = clock.Ns(r.ticks);
    if (options.sites && r.site != 0) e.site = site_index.find(r.site)->second;
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
