// The mutator's roots, registered by the client and scanned by collectors:
// MPS's roots with scanning functions. Strong roots keep objects alive;
// weak roots (such as a replay's id -> object table) are updated to follow
// moved objects and cleared for reclaimed ones, after tracing. Weak roots
// can be large (one entry per object), so they are scanned in steps: a
// weak scanner does about `*budget` entries' work, subtracts what it did,
// and says whether it has finished; the next call resumes where it stopped.
#ifndef CORE_GC_ROOTS_H_
#define CORE_GC_ROOTS_H_

#include <cstddef>
#include <vector>

#include "core/gc/format.h"

namespace core::gc {

class Roots {
 public:
  // Calls ss.Fix on each reference the root holds.
  using ScanFn = void (*)(ScanState& ss, void* closure);
  // Calls ss.FixWeak on up to about *budget references, resuming where the
  // last call stopped; reduces *budget; true when every reference is done
  // (and the next call starts again from the beginning).
  using WeakScanFn = bool (*)(ScanState& ss, void* closure, std::size_t* budget);

  int AddStrong(ScanFn scan, void* closure) {
    entries_.push_back(Entry{scan, nullptr, closure});
    return static_cast<int>(entries_.size()) - 1;
  }
  int AddWeak(WeakScanFn scan, void* closure) {
    entries_.push_back(Entry{nullptr, scan, closure});
    return static_cast<int>(entries_.size()) - 1;
  }
  void Remove(int id) {
    entries_[static_cast<std::size_t>(id)].strong = nullptr;
    entries_[static_cast<std::size_t>(id)].weak = nullptr;
  }

  void ScanStrong(ScanState& ss) const {
    for (const Entry& e : entries_) {
      if (e.strong != nullptr) e.strong(ss, e.closure);
    }
  }
  // Scans the weak roots within `budget` (entries); true when all are done.
  bool ScanWeak(ScanState& ss, std::size_t budget) {
    for (; weak_cursor_ < entries_.size(); ++weak_cursor_) {
      const Entry& e = entries_[weak_cursor_];
      if (e.weak == nullptr) continue;
      if (budget == 0 || !e.weak(ss, e.closure, &budget)) return false;
    }
    weak_cursor_ = 0;
    return true;
  }

 private:
  struct Entry {
    ScanFn strong;
    WeakScanFn weak;
    void* closure;
  };

  std::vector<Entry> entries_;
  std::size_t weak_cursor_ = 0;  // The weak root a resumed scan continues.
};

}  // namespace core::gc

#endif  // CORE_GC_ROOTS_H_
