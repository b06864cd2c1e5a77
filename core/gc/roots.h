// The mutator's roots, registered by the client and scanned by collectors:
// MPS's roots with scanning functions. Strong roots keep objects alive;
// weak roots (such as a replay's id -> object table) are updated to follow
// moved objects and cleared for reclaimed ones, after tracing.
#ifndef CORE_GC_ROOTS_H_
#define CORE_GC_ROOTS_H_

#include <vector>

#include "core/gc/format.h"

namespace core::gc {

class Roots {
 public:
  // Calls ss.Fix (strong) or ss.FixWeak (weak) on each reference it holds.
  using ScanFn = void (*)(ScanState& ss, void* closure);

  int AddStrong(ScanFn scan, void* closure) { return Add(scan, closure, false); }
  int AddWeak(ScanFn scan, void* closure) { return Add(scan, closure, true); }
  void Remove(int id) { entries_[static_cast<std::size_t>(id)].scan = nullptr; }

  void ScanStrong(ScanState& ss) const { ScanKind(ss, false); }
  void ScanWeak(ScanState& ss) const { ScanKind(ss, true); }

 private:
  struct Entry {
    ScanFn scan;
    void* closure;
    bool weak;
  };
  int Add(ScanFn scan, void* closure, bool weak) {
    entries_.push_back(Entry{scan, closure, weak});
    return static_cast<int>(entries_.size()) - 1;
  }
  void ScanKind(ScanState& ss, bool weak) const {
    for (const Entry& e : entries_) {
      if (e.scan != nullptr && e.weak == weak) e.scan(ss, e.closure);
    }
  }

  std::vector<Entry> entries_;
};

}  // namespace core::gc

#endif  // CORE_GC_ROOTS_H_
