#include "replay/trace_format.h"

#include "absl/strings/str_cat.h"

namespace replay::internal {

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
