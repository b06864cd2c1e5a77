// A run of consecutive trace events held column by column (a struct of
// arrays), as the chunks on disk are: what the trace reader decodes into and
// the replay engine dispatches from, so that neither builds a 64-byte Event
// per event. A column that is absent reads as all zeros, as in the format
// (traces/FORMAT.md). Storage comes from mmap and is reused batch to batch:
// in a replay child the heap belongs to the allocator under test.
#ifndef REPLAY_EVENT_BATCH_H_
#define REPLAY_EVENT_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "replay/event.h"
#include "replay/mmap_allocator.h"

namespace replay {

class EventBatch {
 public:
  // The 64-bit columns, then the 32-bit ones. Kinds are always present.
  enum Wide : int { kIds, kNewIds, kSizes, kAlignments, kTimes, kWideCount };
  enum Narrow : int { kFlavours, kThreads, kSites, kPoolHints, kSlots, kNarrowCount };

  std::uint64_t first() const { return first_; }  // Trace index of event 0.
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Kind values as stored (a reader has checked each is < kEventKindCount;
  // other sources may not have).
  const std::uint32_t* kinds() const { return kinds_.data(); }
  // A column, or null when it is absent (all zeros).
  const std::uint64_t* column(Wide c) const { return wide_present_[c] ? wide_[c].data() : nullptr; }
  const std::uint32_t* column(Narrow c) const {
    return narrow_present_[c] ? narrow_[c].data() : nullptr;
  }
  // Event i as a row (for consumers that want rows; kinds and flavours are
  // narrowed to their enums).
  Event Row(std::size_t i) const;
  // Appends every event as a row.
  void AppendRows(std::vector<Event>* rows) const;

  // Filling. Reset makes an empty-columned batch of `size` events; the
  // Mutable calls make a column present and return its `size` entries,
  // uninitialised.
  void Reset(std::uint64_t first, std::size_t size);
  std::uint32_t* MutableKinds() { return Grow(kinds_); }
  std::uint64_t* Mutable(Wide c) {
    wide_present_[c] = true;
    return Grow(wide_[c]);
  }
  std::uint32_t* Mutable(Narrow c) {
    narrow_present_[c] = true;
    return Grow(narrow_[c]);
  }
  // Makes the batch hold `rows` (their kinds, flavours and every column),
  // leaving out columns that are all zeros.
  void AssignRows(std::uint64_t first, absl::Span<const Event> rows);

 private:
  template <typename T>
  T* Grow(std::vector<T, MmapAllocator<T>>& v) {
    if (v.size() < size_) v.resize(size_);
    return v.data();
  }

  std::uint64_t first_ = 0;
  std::size_t size_ = 0;
  std::vector<std::uint32_t, MmapAllocator<std::uint32_t>> kinds_;
  std::vector<std::uint64_t, MmapAllocator<std::uint64_t>> wide_[kWideCount];
  std::vector<std::uint32_t, MmapAllocator<std::uint32_t>> narrow_[kNarrowCount];
  bool wide_present_[kWideCount] = {};
  bool narrow_present_[kNarrowCount] = {};
};

}  // namespace replay

#endif  // REPLAY_EVENT_BATCH_H_
