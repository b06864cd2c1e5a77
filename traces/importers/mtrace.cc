#include "traces/importers/mtrace.h"

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "replay/event.h"
#include "traces/importers/import_sink.h"
#include "traces/importers/line_reader.h"
#include "traces/importers/parse_util.h"

namespace traces {
namespace {

using replay::Event;
using replay::EventKind;

std::string Address(std::uint64_t address) { return absl::StrCat("0x", absl::Hex(address)); }

// One mtrace line, split into its parts.
struct Line {
  absl::string_view caller;  // Empty when there is no "@ " prefix.
  char op = 0;
  std::vector<absl::string_view> operands;
};

// Returns "" or what is wrong with the line's shape.
std::string Split(absl::string_view text, Line* line) {
  if (absl::StartsWith(text, "@ ")) {
    // "@ FILE:(SYM+OFF)[ADDR] " or "@ [ADDR] ": the caller ends at the first "] ".
    const std::size_t end = text.find("] ");
    if (end == absl::string_view::npos) {
      return "expected '@ CALLER[ADDRESS] ' before the operation (no '] ' found)";
    }
    line->caller = text.substr(2, end + 1 - 2);
    text = absl::StripLeadingAsciiWhitespace(text.substr(end + 2));
  }
  std::vector<absl::string_view> tokens = Tokens(text);
  if (tokens.empty() || tokens[0].size() != 1) {
    return absl::StrCat("expected an operation (+, -, <, >, ! or =), found '", text, "'");
  }
  line->op = tokens[0][0];
  line->operands.assign(tokens.begin() + 1, tokens.end());
  return "";
}

class MtraceImporter {
 public:
  MtraceImporter(LineReader& reader, ImportSink& sink) : reader_(reader), sink_(sink) {}

  absl::Status Run() {
    if (absl::Status s = ForEachLine(
            reader_, sink_, &line_,
            [this](const std::string& text) { return Handle(absl::StripAsciiWhitespace(text)); });
        !s.ok()) {
      return s;
    }
    if (pending_.has_value()) return DanglingRealloc();
    return absl::OkStatus();
  }

 private:
  absl::Status Handle(absl::string_view text) {
    if (text.empty()) return absl::OkStatus();
    Line line;
    if (std::string problem = Split(text, &line); !problem.empty())
      return sink_.Bad(line_, problem);
    if (pending_.has_value() && line.op != '>') {
      if (absl::Status s = DanglingRealloc(); !s.ok()) return s;
    }
    switch (line.op) {
      case '=':  // "= Start", "= End".
        return absl::OkStatus();
      case '+':
        return Allocate(line);
      case '-':
        return Free(line);
      case '<':
        return ReallocOld(line);
      case '>':
        return ReallocNew(line);
      case '!':  // A failed realloc: the old block stays as it was.
        return Operands(line, 2, "! ADDRESS SIZE", nullptr, nullptr);
    }
    return sink_.Bad(line_, absl::StrCat("unknown operation '", std::string(1, line.op),
                                         "' (expected +, -, <, >, ! or =)"));
  }

  // Parses `count` hex operands (address, size); "(nil)" is address 0.
  absl::Status Operands(const Line& line, std::size_t count, const char* usage,
                        std::uint64_t* address, std::uint64_t* size) {
    if (line.operands.size() != count) {
      return sink_.Bad(line_, absl::StrCat("expected ", count, " operand", count == 1 ? "" : "s",
                                           " (", usage, "), found ", line.operands.size()));
    }
    std::uint64_t values[2] = {0, 0};
    for (std::size_t i = 0; i < count; ++i) {
      if (i == 0 && line.operands[0] == "(nil)") continue;
      if (!ParseHex(line.operands[i], &values[i])) {
        return sink_.Bad(line_, absl::StrCat("'", line.operands[i], "' is not a hex ",
                                             i == 0 ? "address" : "size", " (", usage, ")"));
      }
    }
    if (address != nullptr) *address = values[0];
    if (size != nullptr) *size = values[1];
    return absl::OkStatus();
  }

  // The call-site index of the line's caller (0: none).
  std::uint32_t Site(absl::string_view caller) {
    if (caller.empty()) return 0;
    auto [it, inserted] = sites_.try_emplace(caller, static_cast<std::uint32_t>(sites_.size() + 1));
    return it->second;
  }

  absl::Status Allocate(const Line& line) {
    std::uint64_t address = kBad, size = 0;
    if (absl::Status s = Operands(line, 2, "+ ADDRESS SIZE", &address, &size);
        !s.ok() || address == kBad) {
      return s;
    }
    if (address == 0) return absl::OkStatus();  // A failed allocation.
    if (live_.contains(address)) {
      return sink_.Bad(line_, absl::StrCat("address ", Address(address),
                                           " is allocated again while live (expected a '-' "
                                           "for it first)"));
    }
    Event e;
    e.kind = EventKind::kAlloc;
    e.id = next_id_;
    e.size = size;
    e.site = Site(line.caller);
    return Emit(e, address);
  }

  absl::Status Free(const Line& line) {
    std::uint64_t address = kBad;
    if (absl::Status s = Operands(line, 1, "- ADDRESS", &address, nullptr);
        !s.ok() || address == kBad) {
      return s;
    }
    if (address == 0) return absl::OkStatus();  // free(NULL).
    auto it = live_.find(address);
    if (it == live_.end()) {
      return sink_.Bad(line_, absl::StrCat("free of ", Address(address),
                                           ", which is not live (expected an earlier '+' or "
                                           "'>' for it)"));
    }
    Event e;
    e.kind = EventKind::kFree;
    e.id = it->second;
    e.site = Site(line.caller);
    if (absl::Status s = sink_.Write(line_, e); !s.ok()) return s;
    live_.erase(it);
    return absl::OkStatus();
  }

  absl::Status ReallocOld(const Line& line) {
    std::uint64_t address = kBad;
    if (absl::Status s = Operands(line, 1, "< ADDRESS", &address, nullptr);
        !s.ok() || address == kBad) {
      return s;
    }
    pending_ = Pending{address, line_};
    return absl::OkStatus();
  }

  absl::Status ReallocNew(const Line& line) {
    if (!pending_.has_value()) {
      return sink_.Bad(line_, "'>' without the '<' line of its realloc just before it");
    }
    const Pending old = *pending_;
    pending_.reset();
    std::uint64_t address = kBad, size = 0;
    if (absl::Status s = Operands(line, 2, "> ADDRESS SIZE", &address, &size);
        !s.ok() || address == kBad) {
      return s;
    }
    auto it = live_.find(old.address);
    if (it == live_.end()) {
      return sink_.Bad(old.line, absl::StrCat("realloc of ", Address(old.address),
                                              ", which is not live (expected an earlier '+' "
                                              "or '>' for it)"));
    }
    if (address != old.address && live_.contains(address)) {
      return sink_.Bad(line_, absl::StrCat("realloc to ", Address(address),
                                           ", which is already live (expected a '-' for it "
                                           "first)"));
    }
    Event e;
    e.kind = EventKind::kRealloc;
    e.id = it->second;
    // Moving gives the block a new id; resizing in place keeps it.
    e.new_id = address == old.address ? it->second : next_id_;
    e.size = size;
    e.site = Site(line.caller);
    if (absl::Status s = sink_.Write(line_, e); !s.ok()) return s;
    live_.erase(it);
    live_[address] = e.new_id;
    if (e.new_id == next_id_) ++next_id_;
    return absl::OkStatus();
  }

  // Writes an ALLOC of the next id at `address`.
  absl::Status Emit(const Event& e, std::uint64_t address) {
    if (absl::Status s = sink_.Write(line_, e); !s.ok()) return s;
    live_[address] = next_id_++;
    return absl::OkStatus();
  }

  absl::Status DanglingRealloc() {
    const Pending old = *pending_;
    pending_.reset();
    return sink_.Bad(old.line, absl::StrCat("realloc of ", Address(old.address),
                                            ": '<' must be followed by its '> ADDRESS SIZE' "
                                            "line"));
  }

  // Operands left unparsed (a skipped bad line) leave this sentinel.
  static constexpr std::uint64_t kBad = ~std::uint64_t{0};
  struct Pending {
    std::uint64_t address;
    std::uint64_t line;
  };

  LineReader& reader_;
  ImportSink& sink_;
  std::uint64_t line_ = 0;
  std::uint64_t next_id_ = 1;
  absl::flat_hash_map<std::uint64_t, std::uint64_t> live_;  // Address -> id.
  absl::flat_hash_map<std::string, std::uint32_t> sites_;   // Caller -> site.
  std::optional<Pending> pending_;                          // A '<' awaiting its '>'.
};

}  // namespace

absl::Status ImportMtrace(const std::string& in_path, const std::string& out_path, bool lenient,
                          ImportStats* stats) {
  return ImportLines<MtraceImporter>(in_path, out_path, lenient, stats,
                                     "glibc mtrace (workbench import mtrace)");
}

}  // namespace traces
