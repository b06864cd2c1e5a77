// The Observer is how the arena, pools and (later) the collector report what
// happens to memory, for metrics and the visualizer. The core calls it; it
// never depends on what implements it. With no observer attached each
// report costs one predictable branch (see ObserverSlot).
#ifndef CORE_OBSERVE_OBSERVER_H_
#define CORE_OBSERVE_OBSERVER_H_

#include <cstdint>

#include "core/arena/segment_type.h"
#include "core/base/address.h"
#include "core/gc/phase.h"

namespace core {

class Pool;

class Observer {
 public:
  virtual ~Observer() = default;

  // Grains [range) were allocated to `pool` (nullptr: the arena itself).
  virtual void OnSegmentAcquired(Range range, const Pool* pool, SegmentType type) {
    (void)range, (void)pool, (void)type;
  }
  // Grains [range) went back to the arena.
  virtual void OnSegmentReleased(Range range, const Pool* pool) { (void)range, (void)pool; }
  // Grains [range) changed type (e.g. nursery -> from-space).
  virtual void OnSegmentRetyped(Range range, const Pool* pool, SegmentType from, SegmentType to) {
    (void)range, (void)pool, (void)from, (void)to;
  }
  // Address space was reserved (true) or released (false) from the OS.
  virtual void OnReserve(Range range, bool reserved) { (void)range, (void)reserved; }
  // Memory was committed (true) or decommitted (false).
  virtual void OnCommit(Range range, bool committed) { (void)range, (void)committed; }
  // Collection number `collection` of `pool` entered `phase` (kIdle: ended).
  virtual void OnCollectionPhase(const Pool* pool, std::uint64_t collection, gc::Phase phase) {
    (void)pool, (void)collection, (void)phase;
  }
};

// Holds an optional observer. Call sites write
//   if (auto* o = observer_.get()) [[unlikely]] o->OnX(...);
// so an unobserved arena pays one well-predicted branch per report.
class ObserverSlot {
 public:
  Observer* get() const { return observer_; }
  void set(Observer* observer) { observer_ = observer; }

 private:
  Observer* observer_ = nullptr;
};

}  // namespace core

#endif  // CORE_OBSERVE_OBSERVER_H_
