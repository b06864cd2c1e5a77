#include "replay/trace_format.h"

#include "absl/strings/str_cat.h"

namespace replay::internal {
namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 (overlong forms,
// surrogates and code points above U+10FFFF are invalid).
std::size_t Utf8Length(const std::string& s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // Bounds of the second byte.
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

// Protobuf strings must be UTF-8, but command lines and paths are bytes:
// invalid bytes are written as "\xNN".
void MakeUtf8(std::string* s) {
  std::string out;
  for (std::size_t i = 0; i < s->size();) {
    const std::size_t n = Utf8Length(*s, i);
    if (n == 0) {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>((*s)[i]), absl::kZeroPad2));
      ++i;
    } else {
      out.append(*s, i, n);
      i += n;
    }
  }
  *s = std::move(out);
}

}  // namespace

void MakeHeaderUtf8(traces::TraceHeader* header) {
  MakeUtf8(header->mutable_program());
  MakeUtf8(header->mutable_capture_tool());
  for (std::string& arg : *header->mutable_command_line()) MakeUtf8(&arg);
  for (std::string& note : *header->mutable_notes()) MakeUtf8(&note);
  for (traces::ThreadInfo& thread : *header->mutable_threads()) MakeUtf8(thread.mutable_name());
}

const char* RecordTypeName(int type) {
  switch (type) {
    case kHeaderRecord:
      return "header";
    case kChunkRecord:
      return "chunk";
    case kFooterRecord:
      return "footer";
    default:
      return "unknown";
  }
}

std::string DescribeEventDefect(EventDefect defect, const Event& event) {
  const char* name = EventKindName(event.kind);
  switch (defect) {
    case EventDefect::kNone:
      return "";
    case EventDefect::kUnknownKind:
      return absl::StrCat("unknown event kind ", static_cast<int>(event.kind), " (expected 0..",
                          kEventKindCount - 1, ")");
    case EventDefect::kUnknownFlavour:
      return absl::StrCat("unknown flavour ", static_cast<int>(event.flavour), " (expected 0..",
                          kFlavourCount - 1, ")");
    case EventDefect::kUnusedId:
      return absl::StrCat(name, " has an id ", event.id, " (expected 0)");
    case EventDefect::kUnusedNewId:
      return absl::StrCat(name, " has a new id ", event.new_id, " (expected 0)");
    case EventDefect::kUnusedSize:
      return absl::StrCat(name, " has a size ", event.size, " (expected 0)");
    case EventDefect::kUnusedAlignment:
      return absl::StrCat(name, " has an alignment ", event.alignment, " (expected 0)");
    case EventDefect::kUnusedFlavour:
      return absl::StrCat(name, " has flavour ", FlavourName(event.flavour), " (expected malloc)");
    case EventDefect::kSizeTooLarge:
      return absl::StrCat(event.kind == EventKind::kStore ? "slot " : "size ", event.size,
                          " exceeds the limit 2^48 = ", kMaxSize);
    case EventDefect::kAlignmentNotPowerOfTwo:
      return absl::StrCat("alignment ", event.alignment, " is not a power of two");
    case EventDefect::kAlignmentTooLarge:
      return absl::StrCat("alignment ", event.alignment, " exceeds the limit 2^48 = ", kMaxSize);
    case EventDefect::kUnusedSlots:
      return absl::StrCat(name, " has ", event.slots, " slots (expected 0: only alloc has slots)");
    case EventDefect::kSlotsExceedSize:
      return absl::StrCat(event.slots, " slots need ", std::uint64_t{event.slots} * kSlotBytes,
                          " bytes but the size is ", event.size, " (expected slots * ", kSlotBytes,
                          " <= size)");
  }
  return "unknown defect";
}

traces::TraceFooter Totals::ToFooter() const {
  traces::TraceFooter footer;
  footer.set_event_count(event_count);
  footer.set_chunk_count(chunk_count);
  for (std::uint64_t n : per_kind) footer.add_events_per_kind(n);
  footer.set_bytes_allocated(bytes_allocated);
  return footer;
}

void AppendVarint(std::string* out, std::uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

}  // namespace replay::internal
