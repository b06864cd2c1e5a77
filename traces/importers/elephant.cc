#include "traces/importers/elephant.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "replay/event.h"
#include "replay/trace_format.h"
#include "traces/importers/import_sink.h"
#include "traces/importers/line_reader.h"
#include "traces/importers/parse_util.h"

namespace traces {
namespace {

using replay::Event;
using replay::EventKind;

// Decimal (ET3), or hex with a "0x" prefix (ET1 ids).
bool ParseNumber(absl::string_view text, std::uint64_t* value) {
  if (absl::StartsWith(text, "0x") || absl::StartsWith(text, "0X")) return ParseHex(text, value);
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0]))) return false;
  return absl::SimpleAtoi(text, value);
}

// Reference slots of a new object: a reference array ("[L…" or "[[…")
// has one per element; a primitive array none; any other object one per
// 8-byte word, since ET does not say which fields are references.
std::uint32_t SlotsOf(absl::string_view type, bool array, std::uint64_t length,
                      std::uint64_t size) {
  const std::uint64_t words = size / replay::internal::kSlotBytes;
  std::uint64_t slots = words;
  if (array) {
    const bool references = absl::StartsWith(type, "[L") || absl::StartsWith(type, "[[");
    slots = references ? std::min(length, words) : 0;
  }
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(slots, 0xFFFFFFFF));
}

class ElephantImporter {
 public:
  ElephantImporter(LineReader& reader, ImportSink& sink) : reader_(reader), sink_(sink) {}

  absl::Status Run() {
    return ForEachLine(reader_, sink_, &line_, [this](const std::string& text) {
      const std::vector<absl::string_view> tokens = Tokens(text);
      return tokens.empty() ? absl::OkStatus() : Handle(tokens);
    });
  }

 private:
  absl::Status Handle(const std::vector<absl::string_view>& t) {
    const absl::string_view op = t[0];
    if (op == "A" || op == "N" || op == "I" || op == "P" || op == "V") return Allocate(t);
    if (op == "U") return Update(t);
    if (op == "D" || op == "R") return Simple(t);
    if (op == "M" || op == "E" || op == "X" || op == "T" || op == "H") return absl::OkStatus();
    return sink_.Bad(line_, absl::StrCat("unknown record '", op,
                                         "' (expected A, N, I, P, V, U, D, R, M, E, X, T or H)"));
  }

  // Parses tokens [first, first + count) as numbers into `values`.
  bool Numbers(const std::vector<absl::string_view>& t, std::size_t first, std::size_t count,
               std::uint64_t* values, std::string* error) {
    for (std::size_t i = 0; i < count; ++i) {
      if (!ParseNumber(t[first + i], &values[i])) {
        *error = absl::StrCat("'", t[first + i], "' is not a number");
        return false;
      }
    }
    return true;
  }

  absl::Status Allocate(const std::vector<absl::string_view>& t) {
    static constexpr const char* kUsage = "ID SIZE TYPE SITE [LENGTH] THREAD";
    if (t.size() != 6 && t.size() != 7) {
      return sink_.Bad(line_, absl::StrCat("expected ", kUsage, " after '", t[0], "', found ",
                                           t.size() - 1, " fields"));
    }
    const bool array = t.size() == 7;
    std::uint64_t id_size[2], site_etc[3] = {0, 0, 0};
    std::string error;
    if (!Numbers(t, 1, 2, id_size, &error) || !Numbers(t, 4, array ? 3 : 2, site_etc, &error)) {
      return sink_.Bad(line_, absl::StrCat(error, " (", t[0], " ", kUsage, ")"));
    }
    const std::uint64_t id = id_size[0], size = id_size[1];
    const std::uint64_t length = array ? site_etc[1] : 0;
    const std::uint64_t thread = array ? site_etc[2] : site_etc[1];
    if (id == 0) return sink_.Bad(line_, "object id 0 (expected non-zero: 0 is null)");
    if (objects_.contains(id)) {
      return sink_.Bad(line_, absl::StrCat("object ", id, " is allocated again"));
    }
    Event e;
    e.kind = EventKind::kAlloc;
    e.id = id;
    e.size = size;
    e.slots = SlotsOf(t[3], array, length, size);
    e.site = static_cast<std::uint32_t>(site_etc[0]);
    e.thread = static_cast<std::uint32_t>(thread);
    if (absl::Status s = Write(e); !s.ok()) return s;
    auto [type, inserted] =
        types_.try_emplace(std::string(t[3]), static_cast<std::uint32_t>(types_.size()));
    objects_[id] = ObjectInfo{type->second, e.slots};
    return absl::OkStatus();
  }

  // U OLD_TARGET OBJECT NEW_TARGET FIELD THREAD: object.field = new target.
  absl::Status Update(const std::vector<absl::string_view>& t) {
    static constexpr const char* kUsage = "U OLD_TARGET OBJECT NEW_TARGET FIELD THREAD";
    std::uint64_t v[5];
    std::string error;
    if (t.size() != 6) {
      return sink_.Bad(line_,
                       absl::StrCat("expected ", kUsage, ", found ", t.size() - 1, " fields"));
    }
    if (!Numbers(t, 1, 5, v, &error))
      return sink_.Bad(line_, absl::StrCat(error, " (", kUsage, ")"));
    const std::uint64_t object = v[1], target = v[2], field = v[3];
    auto it = objects_.find(object);
    if (it == objects_.end()) {
      return sink_.Bad(line_, absl::StrCat("update of object ", object,
                                           ", which was never allocated (expected an A/N/I/P/V "
                                           "record for it first)"));
    }
    if (target != 0 && !objects_.contains(target)) {
      return sink_.Bad(line_,
                       absl::StrCat("update to object ", target, ", which was never allocated"));
    }
    // Fields become slots per type, in order of first appearance.
    auto& fields = fields_[it->second.type];
    auto [slot, inserted] = fields.try_emplace(field, static_cast<std::uint32_t>(fields.size()));
    if (slot->second >= it->second.slots) {
      return sink_.Bad(line_, absl::StrCat("field ", field, " is reference ", slot->second + 1,
                                           " of object ", object, "'s type, which has room for ",
                                           it->second.slots, " (size / 8, or its array length)"));
    }
    Event e;
    e.kind = EventKind::kStore;
    e.id = object;
    e.size = slot->second;
    e.new_id = target;
    e.thread = static_cast<std::uint32_t>(v[4]);
    return Write(e);
  }

  // D ID THREAD (death) and R ID THREAD (root).
  absl::Status Simple(const std::vector<absl::string_view>& t) {
    std::uint64_t v[2];
    std::string error;
    if (t.size() != 3 || !Numbers(t, 1, 2, v, &error)) {
      return sink_.Bad(line_, absl::StrCat("expected ", t[0], " ID THREAD",
                                           error.empty() ? "" : absl::StrCat(": ", error)));
    }
    if (!objects_.contains(v[0])) {
      return sink_.Bad(line_, absl::StrCat(t[0] == "D" ? "death" : "root", " of object ", v[0],
                                           ", which was never allocated"));
    }
    Event e;
    e.kind = t[0] == "D" ? EventKind::kDeath : EventKind::kRootAdd;
    e.id = v[0];
    e.thread = static_cast<std::uint32_t>(v[1]);
    return Write(e);
  }

  absl::Status Write(const Event& e) { return sink_.Write(line_, e); }

  struct ObjectInfo {
    std::uint32_t type;
    std::uint32_t slots;
  };
  LineReader& reader_;
  ImportSink& sink_;
  std::uint64_t line_ = 0;
  absl::flat_hash_map<std::uint64_t, ObjectInfo> objects_;
  absl::flat_hash_map<std::string, std::uint32_t> types_;
  // Per type: field id -> slot.
  absl::flat_hash_map<std::uint32_t, absl::flat_hash_map<std::uint64_t, std::uint32_t>> fields_;
};

}  // namespace

absl::Status ImportElephant(const std::string& in_path, const std::string& out_path, bool lenient,
                            ImportStats* stats) {
  return ImportLines<ElephantImporter>(
      in_path, out_path, lenient, stats, "Elephant Tracks (workbench import elephant)",
      {"GC trace; ET roots are imprecise (never removed): validate with --lenient"});
}

}  // namespace traces
