#include "replay/event_batch.h"

namespace replay {

Event EventBatch::Row(std::size_t i) const {
  auto wide = [&](Wide c) -> std::uint64_t { return wide_present_[c] ? wide_[c][i] : 0; };
  auto narrow = [&](Narrow c) -> std::uint32_t { return narrow_present_[c] ? narrow_[c][i] : 0; };
  Event e;
  e.kind = static_cast<EventKind>(kinds_[i]);
  e.flavour = static_cast<Flavour>(narrow(kFlavours));
  e.thread = narrow(kThreads);
  e.id = wide(kIds);
  e.new_id = wide(kNewIds);
  e.size = wide(kSizes);
  e.alignment = wide(kAlignments);
  e.time_ns = wide(kTimes);
  e.site = narrow(kSites);
  e.pool_hint = narrow(kPoolHints);
  e.slots = narrow(kSlots);
  return e;
}

void EventBatch::AppendRows(std::vector<Event>* rows) const {
  rows->reserve(rows->size() + size_);
  for (std::size_t i = 0; i < size_; ++i) rows->push_back(Row(i));
}

void EventBatch::Reset(std::uint64_t first, std::size_t size) {
  first_ = first;
  size_ = size;
  for (bool& present : wide_present_) present = false;
  for (bool& present : narrow_present_) present = false;
}

void EventBatch::AssignRows(std::uint64_t first, absl::Span<const Event> rows) {
  Reset(first, rows.size());
  std::uint32_t* kinds = MutableKinds();
  for (std::size_t i = 0; i < rows.size(); ++i) kinds[i] = static_cast<std::uint32_t>(rows[i].kind);
  // One column at a time, made present only if some row needs it.
  auto fill = [&](auto column, auto get) {
    bool any = false;
    for (const Event& e : rows) any |= get(e) != 0;
    if (!any) return;
    auto* out = Mutable(column);
    for (std::size_t i = 0; i < rows.size(); ++i) out[i] = get(rows[i]);
  };
  fill(kIds, [](const Event& e) { return e.id; });
  fill(kNewIds, [](const Event& e) { return e.new_id; });
  fill(kSizes, [](const Event& e) { return e.size; });
  fill(kAlignments, [](const Event& e) { return e.alignment; });
  fill(kTimes, [](const Event& e) { return e.time_ns; });
  fill(kFlavours, [](const Event& e) { return static_cast<std::uint32_t>(e.flavour); });
  fill(kThreads, [](const Event& e) { return e.thread; });
  fill(kSites, [](const Event& e) { return e.site; });
  fill(kPoolHints, [](const Event& e) { return e.pool_hint; });
  fill(kSlots, [](const Event& e) { return e.slots; });
}

}  // namespace replay
