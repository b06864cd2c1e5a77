#include "traces/importers/heaptrack.h"

#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replay/event.h"
#include "traces/importers/import_sink.h"
#include "traces/importers/line_reader.h"
#include "traces/importers/parse_util.h"

namespace traces {
namespace {

using replay::Event;
using replay::EventKind;

// heaptrack 1.x writes file format version 3; 1 and 2 differ only in how
// strings are written, which this importer does not read.
constexpr std::uint64_t kMinFileVersion = 1;
constexpr std::uint64_t kMaxFileVersion = 3;

class HeaptrackImporter {
 public:
  HeaptrackImporter(LineReader& reader, ImportSink& sink) : reader_(reader), sink_(sink) {}

  absl::Status Run() {
    return ForEachLine(reader_, sink_, &line_,
                       [this](const std::string& text) { return Handle(text); });
  }

 private:
  absl::Status Handle(absl::string_view text) {
    if (text.empty()) return absl::OkStatus();
    const char type = text[0];
    if (text.size() > 1 && text[1] != ' ') return Unknown(text);
    const absl::string_view rest = text.size() > 2 ? text.substr(2) : absl::string_view();
    switch (type) {
      case 'v':
        return Version(rest);
      case 'X':
        return Debuggee(rest);
      case 'I':
        return SystemInfo(rest);
      case 'a':
        return AllocationInfo(rest);
      case '+':
        return Allocate(rest);
      case '-':
        return Free(rest);
      case 'c':
        return TimeStamp(rest);
      case 'A':
        sink_.header().add_notes("heaptrack attached to a running process");
        return absl::OkStatus();
      case 's':
      case 't':
      case 'i':
      case 'R':
      case 'S':
      case '#':
        return absl::OkStatus();
    }
    return Unknown(text);
  }

  absl::Status Unknown(absl::string_view text) {
    return sink_.Bad(line_, absl::StrCat("unknown record '", text.substr(0, 40),
                                         "' (expected a record type v, X, I, s, t, i, a, +, "
                                         "-, c, R, A or S, then a space)"));
  }

  // Parses exactly `count` hex numbers into `values` and sets *ok; a bad
  // line goes to sink_.Bad (whose status is returned).
  absl::Status Numbers(absl::string_view rest, std::size_t count, const char* usage,
                       std::uint64_t* values, bool* ok) {
    *ok = false;
    const std::vector<absl::string_view> tokens = Tokens(rest);
    if (tokens.size() != count) {
      return sink_.Bad(line_, absl::StrCat("expected ", count, " hex number", count == 1 ? "" : "s",
                                           " (", usage, "), found ", tokens.size()));
    }
    for (std::size_t i = 0; i < count; ++i) {
      if (!ParseHex(tokens[i], &values[i])) {
        return sink_.Bad(line_,
                         absl::StrCat("'", tokens[i], "' is not a hex number (", usage, ")"));
      }
    }
    *ok = true;
    return absl::OkStatus();
  }

  absl::Status Version(absl::string_view rest) {
    std::uint64_t v[2];
    bool ok;
    if (absl::Status s = Numbers(rest, 2, "v HEAPTRACK_VERSION FILE_VERSION", v, &ok); !ok) {
      return s;
    }
    if (v[1] < kMinFileVersion || v[1] > kMaxFileVersion) {
      return sink_.Bad(line_, absl::StrCat("file format version ", v[1],
                                           " is not supported (expected ", kMinFileVersion, " to ",
                                           kMaxFileVersion, ", as heaptrack 1.x writes)"));
    }
    file_version_ = v[1];
    sink_.header().add_notes(
        absl::StrCat("heaptrack version ", absl::Hex(v[0]), ", file format version ", v[1]));
    return absl::OkStatus();
  }

  absl::Status Debuggee(absl::string_view rest) {
    const std::vector<absl::string_view> args = Tokens(rest);
    if (args.empty()) return sink_.Bad(line_, "expected the command line after 'X'");
    sink_.header().set_program(std::string(args[0]));
    for (absl::string_view arg : args) sink_.header().add_command_line(std::string(arg));
    return absl::OkStatus();
  }

  absl::Status SystemInfo(absl::string_view rest) {
    std::uint64_t v[2];
    bool ok;
    if (absl::Status s = Numbers(rest, 2, "I PAGE_SIZE PAGES", v, &ok); !ok) return s;
    if (v[0] <= std::numeric_limits<std::uint32_t>::max()) {
      sink_.header().set_page_size(static_cast<std::uint32_t>(v[0]));
    }
    return absl::OkStatus();
  }

  absl::Status AllocationInfo(absl::string_view rest) {
    std::uint64_t v[2];
    bool ok;
    if (absl::Status s = Numbers(rest, 2, "a SIZE TRACE", v, &ok); !ok) {
      // Keep the numbering of later infos: a skipped one is a zero-size hole.
      infos_.push_back(Info{0, 0, /*valid=*/false});
      live_.emplace_back();
      return s;
    }
    const std::uint32_t site =
        v[1] <= std::numeric_limits<std::uint32_t>::max() ? static_cast<std::uint32_t>(v[1]) : 0;
    infos_.push_back(Info{v[0], site, /*valid=*/true});
    live_.emplace_back();
    return absl::OkStatus();
  }

  // The allocation info named by a '+' or '-' record; *ok is false (and
  // the line went to sink_.Bad) if it is not a defined, valid info.
  absl::Status FindInfo(absl::string_view rest, const char* usage, std::uint64_t* index, bool* ok) {
    if (absl::Status s = Numbers(rest, 1, usage, index, ok); !*ok) return s;
    *ok = false;
    if (file_version_ == 0) {
      return sink_.Bad(line_,
                       "allocation before the 'v' record (expected 'v HEAPTRACK_VERSION "
                       "FILE_VERSION' first; files before heaptrack 1.0 are not supported)");
    }
    if (*index >= infos_.size()) {
      return sink_.Bad(line_, absl::StrCat("allocation info ", *index,
                                           " is not defined (expected "
                                           "an 'a' record for it first; ",
                                           infos_.size(), " so far)"));
    }
    if (!infos_[*index].valid) {
      return sink_.Bad(line_, absl::StrCat("allocation info ", *index, " was a bad record"));
    }
    *ok = true;
    return absl::OkStatus();
  }

  absl::Status Allocate(absl::string_view rest) {
    std::uint64_t index;
    bool ok;
    if (absl::Status s = FindInfo(rest, "+ ALLOCATION_INFO", &index, &ok); !ok) return s;
    Event e;
    e.kind = EventKind::kAlloc;
    e.id = next_id_;
    e.size = infos_[index].size;
    e.site = infos_[index].site;
    e.time_ns = time_ns_;
    if (absl::Status s = sink_.Write(line_, e); !s.ok()) return s;
    live_[index].push_back(next_id_++);
    return absl::OkStatus();
  }

  absl::Status Free(absl::string_view rest) {
    std::uint64_t index;
    bool ok;
    if (absl::Status s = FindInfo(rest, "- ALLOCATION_INFO", &index, &ok); !ok) return s;
    std::vector<std::uint64_t>& live = live_[index];
    if (live.empty()) {
      return sink_.Bad(line_, absl::StrCat("free of allocation info ", index,
                                           ", which has no live allocation (expected a '+ ",
                                           absl::Hex(index), "' before it)"));
    }
    Event e;
    e.kind = EventKind::kFree;
    e.id = live.back();  // LIFO: the most recent live allocation of this info.
    e.time_ns = time_ns_;
    if (absl::Status s = sink_.Write(line_, e); !s.ok()) return s;
    live.pop_back();
    return absl::OkStatus();
  }

  absl::Status TimeStamp(absl::string_view rest) {
    std::uint64_t ms;
    bool ok;
    if (absl::Status s = Numbers(rest, 1, "c MILLISECONDS", &ms, &ok); !ok) return s;
    if (ms > std::numeric_limits<std::uint64_t>::max() / 1000000) {
      return sink_.Bad(line_, absl::StrCat("time stamp ", ms, " ms is out of range"));
    }
    time_ns_ = ms * 1000000;
    return absl::OkStatus();
  }

  struct Info {
    std::uint64_t size;
    std::uint32_t site;  // heaptrack's trace index.
    bool valid;
  };

  LineReader& reader_;
  ImportSink& sink_;
  std::uint64_t line_ = 0;
  std::uint64_t file_version_ = 0;
  std::uint64_t time_ns_ = 0;
  std::uint64_t next_id_ = 1;
  std::vector<Info> infos_;
  std::vector<std::vector<std::uint64_t>> live_;  // Per info: live ids, oldest first.
};

}  // namespace

absl::Status ImportHeaptrack(const std::string& in_path, const std::string& out_path, bool lenient,
                             ImportStats* stats) {
  return ImportLines<HeaptrackImporter>(in_path, out_path, lenient, stats,
                                        "heaptrack (workbench import heaptrack)");
}

}  // namespace traces
