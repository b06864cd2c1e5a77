// A subject that collects garbage: objects are allocated in the engine's
// object format (core/gc/object_format.h) and die by becoming unreachable
// from the roots the engine registers with it. The engine drives it with the
// GC events of a trace (STORE, ROOT_ADD, ROOT_REMOVE, COLLECT) and tells it
// where it may collect (Poll, between events).
#ifndef REPLAY_GC_SUBJECT_H_
#define REPLAY_GC_SUBJECT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/base/address.h"
#include "core/base/function_ref.h"
#include "core/gc/phase.h"
#include "core/gc/roots.h"
#include "replay/subject.h"

namespace replay {

// A pause a collector timed itself: start and length in seconds of
// CLOCK_MONOTONIC (MonotonicSeconds).
struct TimedPause {
  double start = 0;
  double length = 0;
};

class GcSubject : public Subject {
 public:
  // A GC trace frees nothing: the manual interface is refused.
  void* Allocate(std::size_t, std::size_t) final { return nullptr; }
  void Free(void*, std::size_t, std::size_t) final {}
  GcSubject* AsGc() final { return this; }

  // Where the engine registers its roots (strong) and id table (weak).
  virtual core::gc::Roots& roots() = 0;

  // A safe point before an allocation: start, step or finish a collection
  // as the policy decides. Sets *collected when a collection finished.
  virtual absl::Status Poll(bool* collected) = 0;
  // Whether Poll might do collection work now: cheap, so that the engine
  // times (two clock reads) only the polls that may pause.
  virtual bool PollDue() const { return true; }
  // A whole collection now (COLLECT events ask for a full one).
  virtual absl::Status Collect(bool full) = 0;
  // How many times the collector has done collection work (steps, or whole
  // collections): a poll that leaves it unchanged was no pause.
  virtual std::uint64_t work_count() const = 0;
  // Whether a collection is under way (incremental).
  virtual bool Collecting() const = 0;
  // Whether the collection under way, or the last one, condemned only
  // objects allocated since the one before (so only their ids can die).
  virtual bool YoungOnly() const = 0;
  // Whether the collector scans roots() (its weak roots among them), so
  // that the mutator's weak scan of the id table runs.
  virtual bool ScansRoots() const { return true; }

  // A new object of `bytes` (a multiple of 16), or 0 (see FailureReason).
  virtual core::Addr AllocateObject(std::size_t bytes) = 0;
  // The write barrier: `target` was stored into a slot of `obj`.
  virtual void NoteStore(core::Addr obj, core::Addr target) = 0;
  // The read barrier: the engine is about to use the reference in *ref
  // (from its weak id table).
  virtual void BeforeUse(core::Addr* ref) = 0;
  // Whether `a` is an object address the collector holds and has not
  // condemned or freed (for the verifier).
  virtual bool IsValidObject(core::Addr a) const = 0;

  // For collectors that keep roots and weak references their own way
  // (Boehm): the engine's roots changed (an error if the collector has no
  // memory to hold a new one), it allocated an object whose id-table slot
  // is `table_slot`, and pauses it could not time itself (taken inside
  // allocation): appended to *out.
  virtual absl::Status NoteRoot(core::Addr obj, bool added) {
    (void)obj, (void)added;
    return absl::OkStatus();
  }
  virtual void NoteRegister(core::Addr obj) { (void)obj; }
  virtual void NoteAllocated(core::Addr obj, core::Addr* table_slot) {
    (void)obj, (void)table_slot;
  }
  // The replay is over and the table slot of a still-live object is about
  // to go: a collector that was given it must forget it.
  virtual void NoteTableSlotDropped(core::Addr* table_slot) { (void)table_slot; }
  virtual void TakePauses(std::vector<TimedPause>* out) { (void)out; }

  // Bytes of objects the collector holds now: after a collection, what
  // survived it.
  virtual std::uint64_t HeapBytes() const = 0;
  // Collection counters for the report, e.g. {"copied", bytes}. The
  // stop-the-world collectors' Counters() add "pause faults": the page
  // faults taken in their collections, which on a virtual machine can cost
  // more than the work (a first touch of a page costs about 2 us here).
  virtual std::vector<std::pair<std::string, std::uint64_t>> GcCounters() const = 0;

  // For the visualizer, while the replay is stopped between events. The
  // memory a running collection concerns, by colour, in address order:
  virtual void WalkTraceColors(
      core::FunctionRef<void(core::Range, core::gc::TraceColor)> visit) const {
    (void)visit;
  }
  // Bytes in each generation, youngest first (empty: no generations).
  virtual std::vector<std::uint64_t> GenerationSizes() const { return {}; }
  // The object that holds address `a`, as the collector's heap has it.
  struct HeapObject {
    core::Addr base;
    std::uint64_t id;         // From its header (of the new copy, if forwarded).
    std::uint64_t bytes;      // Header, slots and payload.
    core::Addr forwarded_to;  // Mid-collection, an old copy's new address (else 0).
    int generation;           // -1: the collector has none.
  };
  virtual std::optional<HeapObject> ObjectAt(core::Addr a) const {
    (void)a;
    return std::nullopt;
  }

 protected:
  using Subject::Subject;
};

}  // namespace replay

#endif  // REPLAY_GC_SUBJECT_H_
