// The text form of a trace (grammar in traces/FORMAT.md): WriteTextTrace
// prints a binary trace, ImportTextTrace parses one back, both streaming.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "replay/trace_format.h"
#include "replay/trace_io.h"

namespace replay {
namespace {

constexpr std::size_t kMaxReportedErrors = 10;

std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", absl::Utf8SafeCEscape(s), "\"");
}

// A header string value: "quoted, C-escaped" or bare (trimmed).
bool ParseString(absl::string_view value, std::string* out, std::string* error) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty() || value.front() != '"') {
    *out = std::string(value);
    return true;
  }
  if (value.size() < 2 || value.back() != '"') {
    *error = "a string that starts with '\"' must end with '\"'";
    return false;
  }
  std::string unescape_error;
  if (!absl::CUnescape(value.substr(1, value.size() - 2), out, &unescape_error)) {
    *error = absl::StrCat("bad escape in string: ", unescape_error);
    return false;
  }
  return true;
}

template <typename T>
bool ParseNumber(absl::string_view text, T* out) {
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text.front()))) return false;
  return absl::SimpleAtoi(text, out);
}

struct KindSyntax {
  absl::string_view name;
  EventKind kind;
  int operands;
  const char* usage;
};

constexpr KindSyntax kKinds[] = {
    {"alloc", EventKind::kAlloc, 2, "alloc ID SIZE"},
    {"free", EventKind::kFree, 1, "free ID"},
    {"realloc", EventKind::kRealloc, 3, "realloc OLD_ID NEW_ID SIZE"},
    {"store", EventKind::kStore, 3, "store SOURCE_ID SLOT TARGET_ID"},
    {"root-add", EventKind::kRootAdd, 1, "root-add ID"},
    {"root-remove", EventKind::kRootRemove, 1, "root-remove ID"},
    {"death", EventKind::kDeath, 1, "death ID"},
    {"collect", EventKind::kCollect, 0, "collect"},
};

// Parses one event line (already known not to be blank or a comment).
// Returns "" or what is wrong.
std::string ParseEventLine(absl::string_view line, Event* event) {
  std::vector<absl::string_view> tokens =
      absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].front() == '#') {  // A trailing comment.
      tokens.resize(i);
      break;
    }
  }
  const KindSyntax* syntax = nullptr;
  for (const KindSyntax& k : kKinds) {
    if (tokens[0] == k.name) syntax = &k;
  }
  if (syntax == nullptr) {
    return absl::StrCat("unknown event '", tokens[0],
                        "' (expected alloc, free, realloc, store, root-add, root-remove, death "
                        "or collect)");
  }
  *event = Event();
  event->kind = syntax->kind;
  std::size_t next = 1;
  std::uint64_t operands[3] = {0, 0, 0};
  for (int i = 0; i < syntax->operands; ++i, ++next) {
    if (next >= tokens.size() || absl::StrContains(tokens[next], '=')) {
      return absl::StrCat("expected ", syntax->operands, " numbers after '", syntax->name, "' (",
                          syntax->usage, "), found ", i);
    }
    if (!ParseNumber(tokens[next], &operands[i])) {
      return absl::StrCat("'", tokens[next], "' is not a number (", syntax->usage, ")");
    }
  }
  switch (syntax->kind) {
    case EventKind::kAlloc:
      event->id = operands[0];
      event->size = operands[1];
      break;
    case EventKind::kRealloc:
      event->id = operands[0];
      event->new_id = operands[1];
      event->size = operands[2];
      break;
    case EventKind::kStore:
      event->id = operands[0];
      event->size = operands[1];
      event->new_id = operands[2];
      break;
    case EventKind::kCollect:
      break;
    default:
      event->id = operands[0];
      break;
  }
  std::vector<absl::string_view> seen;
  for (; next < tokens.size(); ++next) {
    const absl::string_view token = tokens[next];
    const std::size_t eq = token.find('=');
    if (eq == absl::string_view::npos) {
      return absl::StrCat("unexpected '", token, "' (", syntax->usage,
                          " takes no more numbers; options are key=value)");
    }
    const absl::string_view key = token.substr(0, eq);
    const absl::string_view value = token.substr(eq + 1);
    for (absl::string_view s : seen) {
      if (s == key) return absl::StrCat("option '", key, "' given twice");
    }
    seen.push_back(key);
    bool ok = true;
    if (key == "align" && syntax->kind == EventKind::kAlloc) {
      ok = ParseNumber(value, &event->alignment);
    } else if (key == "slots" && syntax->kind == EventKind::kAlloc) {
      ok = ParseNumber(value, &event->slots);
    } else if (key == "flavour" && syntax->kind == EventKind::kAlloc) {
      ok = false;
      for (int f = 0; f < kFlavourCount; ++f) {
        if (value == FlavourName(static_cast<Flavour>(f))) {
          event->flavour = static_cast<Flavour>(f);
          ok = true;
        }
      }
      if (!ok) {
        return absl::StrCat("unknown flavour '", value,
                            "' (expected malloc, calloc, new, new[], memalign, aligned_alloc, "
                            "posix_memalign, valloc, pvalloc or realloc)");
      }
    } else if (key == "thread") {
      ok = ParseNumber(value, &event->thread);
    } else if (key == "t") {
      ok = ParseNumber(value, &event->time_ns);
    } else if (key == "site") {
      ok = ParseNumber(value, &event->site);
    } else if (key == "hint") {
      ok = ParseNumber(value, &event->pool_hint);
    } else {
      return absl::StrCat("unknown option '", key, "' for ", syntax->name, " (expected ",
                          syntax->kind == EventKind::kAlloc ? "slots, align, flavour, " : "",
                          "thread, t, site or hint)");
    }
    if (!ok) return absl::StrCat("option ", key, ": '", value, "' is not a valid number");
  }
  return internal::EventProblem(*event);
}

// Applies a "# key: value" header line; returns "" or what is wrong. Sets
// *recognised to false (and changes nothing) for comments.
std::string ParseHeaderLine(absl::string_view line, traces::TraceHeader* header, bool* recognised) {
  *recognised = false;
  absl::string_view body = absl::StripAsciiWhitespace(line.substr(1));
  const std::size_t colon = body.find(':');
  if (colon == absl::string_view::npos) return "";
  const absl::string_view key = body.substr(0, colon);
  const absl::string_view value = absl::StripAsciiWhitespace(body.substr(colon + 1));
  std::string error;
  std::string text;
  *recognised = true;
  if (key == "format_version") {
    std::uint32_t version;
    if (!ParseNumber(value, &version) || version != internal::kFormatVersion) {
      return absl::StrCat("unsupported format_version '", value, "' (expected ",
                          internal::kFormatVersion, ")");
    }
    header->set_format_version(version);
  } else if (key == "program" || key == "arg" || key == "capture_tool" || key == "note") {
    if (!ParseString(value, &text, &error)) return absl::StrCat(key, ": ", error);
    if (key == "program") header->set_program(text);
    if (key == "arg") header->add_command_line(text);
    if (key == "capture_tool") header->set_capture_tool(text);
    if (key == "note") header->add_notes(text);
  } else if (key == "capture_time_ns") {
    std::uint64_t t;
    if (!ParseNumber(value, &t))
      return absl::StrCat("capture_time_ns: '", value, "' is not a number");
    header->set_capture_time_ns(t);
  } else if (key == "page_size") {
    std::uint32_t page;
    if (!ParseNumber(value, &page)) return absl::StrCat("page_size: '", value, "' is not a number");
    header->set_page_size(page);
  } else if (key == "thread") {
    const std::size_t space = value.find_first_of(" \t");
    std::uint32_t id;
    if (!ParseNumber(value.substr(0, space), &id)) {
      return absl::StrCat("thread: expected 'ID \"name\"', found '", value, "'");
    }
    if (space != absl::string_view::npos && !ParseString(value.substr(space), &text, &error)) {
      return absl::StrCat("thread: ", error);
    }
    traces::ThreadInfo* thread = header->add_threads();
    thread->set_id(id);
    thread->set_name(text);
  } else {
    *recognised = false;  // Another comment that happens to contain a colon.
  }
  return "";
}

}  // namespace

absl::Status WriteTextTrace(const std::string& in_path, std::ostream& out) {
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = TraceReader::Open(in_path);
  if (!reader.ok()) return reader.status();
  const traces::TraceHeader& h = (*reader)->header();
  out << "# workbench trace, text form (see traces/FORMAT.md)\n";
  out << "# format_version: " << h.format_version() << "\n";
  if (!h.program().empty()) out << "# program: " << Quote(h.program()) << "\n";
  for (const std::string& arg : h.command_line()) out << "# arg: " << Quote(arg) << "\n";
  if (!h.capture_tool().empty()) out << "# capture_tool: " << Quote(h.capture_tool()) << "\n";
  if (h.capture_time_ns() != 0) out << "# capture_time_ns: " << h.capture_time_ns() << "\n";
  if (h.page_size() != 0) out << "# page_size: " << h.page_size() << "\n";
  for (const traces::ThreadInfo& t : h.threads()) {
    out << "# thread: " << t.id() << " " << Quote(t.name()) << "\n";
  }
  for (const std::string& note : h.notes()) out << "# note: " << Quote(note) << "\n";
  std::vector<Event> batch;
  absl::Status status;
  while (true) {
    status = (*reader)->Next(&batch);
    if (!status.ok() || batch.empty()) break;
    for (const Event& event : batch) out << event << "\n";
  }
  if (status.ok()) out << "# end: " << (*reader)->events_read() << " events\n";
  return status;
}

absl::Status WriteTextTrace(const std::string& in_path, const std::string& out_path) {
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat(out_path, ": cannot create"));
  absl::Status status = WriteTextTrace(in_path, out);
  out.close();
  if (status.ok() && !out) status = absl::DataLossError(absl::StrCat(out_path, ": write error"));
  if (!status.ok()) std::remove(out_path.c_str());
  return status;
}

absl::Status ImportTextTrace(const std::string& in_path, const std::string& out_path, bool lenient,
                             TextImportStats* stats) {
  TextImportStats local;
  if (stats == nullptr) stats = &local;
  *stats = TextImportStats();
  std::ifstream in(in_path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(in_path, ": no such file (or not readable)"));
  }
  traces::TraceHeader header;
  std::unique_ptr<TraceWriter> writer;
  std::string line;
  std::uint64_t line_number = 0;
  absl::Status status;
  // A bad line: the error, or (lenient) counted and skipped.
  auto bad_line = [&](const std::string& problem) {
    const std::string message = absl::StrCat(in_path, ": line ", line_number, ": ", problem);
    if (!lenient) {
      status = absl::InvalidArgumentError(message);
      return false;
    }
    ++stats->skipped_lines;
    if (stats->first_errors.size() < kMaxReportedErrors) stats->first_errors.push_back(message);
    return true;
  };
  auto open_writer = [&]() {
    if (writer != nullptr) return true;
    absl::StatusOr<std::unique_ptr<TraceWriter>> w = TraceWriter::Open(out_path, header);
    if (!w.ok()) {
      status = w.status();
      return false;
    }
    writer = *std::move(w);
    return true;
  };
  bool ok = true;
  while (ok && std::getline(in, line)) {
    ++line_number;
    ++stats->lines;
    absl::string_view text = line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    text = absl::StripAsciiWhitespace(text);
    if (text.empty()) continue;
    if (text.front() == '#') {
      if (writer != nullptr) continue;  // Header lines only before the first event.
      bool recognised;
      if (std::string problem = ParseHeaderLine(text, &header, &recognised); !problem.empty()) {
        ok = bad_line(problem);
      }
      continue;
    }
    if (!open_writer()) break;
    Event event;
    if (std::string problem = ParseEventLine(text, &event); !problem.empty()) {
      ok = bad_line(problem);
      continue;
    }
    if (absl::Status s = writer->Write(event); !s.ok()) {
      status = s;
      break;
    }
    ++stats->events;
  }
  if (status.ok() && in.bad()) {
    status = absl::DataLossError(absl::StrCat(in_path, ": line ", line_number + 1, ": read error"));
  }
  if (status.ok() && open_writer()) status = writer->Close();
  if (!status.ok()) {
    writer.reset();
    std::remove(out_path.c_str());
  }
  return status;
}

absl::Status ImportTextTrace(const std::string& in_path, const std::string& out_path,
                             bool lenient) {
  TextImportStats stats;
  absl::Status status = ImportTextTrace(in_path, out_path, lenient, &stats);
  if (status.ok() && stats.skipped_lines > 0) {
    std::cerr << in_path << ": skipped " << stats.skipped_lines << " bad line"
              << (stats.skipped_lines == 1 ? "" : "s") << " of " << stats.lines << " ("
              << stats.events << " events imported):\n";
    for (const std::string& error : stats.first_errors) std::cerr << "  " << error << "\n";
    if (stats.skipped_lines > stats.first_errors.size()) std::cerr << "  ...\n";
  }
  return status;
}

}  // namespace replay
