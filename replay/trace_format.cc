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

std::string EventProblem(const Event& event) {
  const int kind = static_cast<int>(event.kind);
  if (kind >= kEventKindCount) {
    return absl::StrCat("unknown event kind ", kind, " (expected 0..", kEventKindCount - 1, ")");
  }
  const int flavour = static_cast<int>(event.flavour);
  if (flavour >= kFlavourCount) {
    return absl::StrCat("unknown flavour ", flavour, " (expected 0..", kFlavourCount - 1, ")");
  }
  const char* name = EventKindName(event.kind);
  const bool uses_id = event.kind != EventKind::kCollect;
  const bool uses_new_id = event.kind == EventKind::kRealloc || event.kind == EventKind::kStore;
  const bool uses_size = event.kind == EventKind::kAlloc || event.kind == EventKind::kRealloc ||
                         event.kind == EventKind::kStore;
  const bool is_alloc = event.kind == EventKind::kAlloc;
  if (!uses_id && event.id != 0)
    return absl::StrCat(name, " has an id ", event.id, " (expected 0)");
  if (!uses_new_id && event.new_id != 0) {
    return absl::StrCat(name, " has a new id ", event.new_id, " (expected 0)");
  }
  if (!uses_size && event.size != 0) {
    return absl::StrCat(name, " has a size ", event.size, " (expected 0)");
  }
  if (!is_alloc && event.alignment != 0) {
    return absl::StrCat(name, " has an alignment ", event.alignment, " (expected 0)");
  }
  if (!is_alloc && event.flavour != Flavour::kMalloc) {
    return absl::StrCat(name, " has flavour ", FlavourName(event.flavour), " (expected malloc)");
  }
  if (event.size > kMaxSize) {
    return absl::StrCat(event.kind == EventKind::kStore ? "slot " : "size ", event.size,
                        " exceeds the limit 2^48 = ", kMaxSize);
  }
  if ((event.alignment & (event.alignment - 1)) != 0) {
    return absl::StrCat("alignment ", event.alignment, " is not a power of two");
  }
  if (event.alignment > kMaxSize) {
    return absl::StrCat("alignment ", event.alignment, " exceeds the limit 2^48 = ", kMaxSize);
  }
  return "";
}

void Totals::Add(const Event& event) {
  ++event_count;
  ++per_kind[static_cast<int>(event.kind)];
  if (event.kind == EventKind::kAlloc || event.kind == EventKind::kRealloc) {
    bytes_allocated += event.size;
  }
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
