// AMS: MPS's automatic mark-sweep pool, non-moving. Objects (in a
// gc::Format) live in segments of one size class each (16-byte steps up to
// 2 KiB; larger objects get a segment of their own), with an allocation and
// a mark bit per slot. A collection marks from the roots (grey stack),
// sweeps unmarked slots free and returns empty segments to the arena. It
// runs in steps: incremental marking keeps Dijkstra's invariant with a
// write barrier (NoteStore shades the stored object) and shades what the
// mutator takes from outside the roots (FixMutatorRef); objects allocated
// during marking are black. Design: core/pools/AMC.md.
#ifndef CORE_POOLS_AMS_H_
#define CORE_POOLS_AMS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "core/gc/format.h"
#include "core/gc/phase.h"
#include "core/gc/roots.h"
#include "core/gc/segment_index.h"
#include "core/pool/pool.h"

namespace core {

struct AmsOptions {
  std::size_t segment_size = 64u << 10;
  std::size_t max_class = 2048;  // Larger objects get their own segment.
  // Collect when this many bytes were allocated since the last collection,
  // or as many as survived it, whichever is more.
  std::size_t collect_after = 8u << 20;
};

struct AmsStats {
  std::uint64_t collections = 0;
  std::uint64_t marked = 0;     // Bytes of objects found live.
  std::uint64_t swept = 0;      // Bytes of objects found dead.
  std::uint64_t reclaimed = 0;  // Bytes of segments returned to the arena.
  std::uint64_t scanned = 0;
  std::uint64_t mark_ns = 0;   // Time fixing the roots and marking.
  std::uint64_t weak_ns = 0;   // Time fixing weak roots (an id table: entry by entry).
  std::uint64_t sweep_ns = 0;  // Time sweeping.
};

class Ams final : public Pool, private gc::Fixer {
 public:
  [[nodiscard]] static Res Create(Arena* arena, const gc::Format* format, gc::Roots* roots,
                                  const AmsOptions& options, std::unique_ptr<Ams>* pool);
  ~Ams() override;

  const char* class_name() const override { return "AMS"; }
  Res Alloc(std::size_t size, void** p) override;
  Res Free(void*, std::size_t) override { return Res::kParam; }

  bool NeedsCollection() const;
  void NoteStore(Addr obj, Addr target);
  Res StartCollection();
  Res Step(std::size_t budget, bool* done);
  Res Collect();
  gc::Phase phase() const { return phase_; }
  void FixMutatorRef(Addr* ref);
  // While a collection runs: allocated objects by colour (unmarked:
  // condemned; marked: grey until scanned, then black), in address order.
  void WalkTraceColors(FunctionRef<void(Range, gc::TraceColor)> visit) const;
  // The allocated object that holds `a`: its start, or 0 if none does.
  Addr ObjectContaining(Addr a) const;
  // Whether `a` is the start of an allocated object.
  bool IsObject(Addr a) const;

  std::size_t TotalSize() const override;
  std::size_t FreeSize() const override;
  void WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const override;
  CheckResult Check() const override;
  void Describe(std::ostream& os) const override;

  const AmsStats& stats() const { return stats_; }
  std::size_t allocated_bytes() const { return allocated_; }

 private:
  struct Seg {
    Range range;
    std::size_t slot_size;
    std::size_t slots;
    std::size_t free_slots;
    std::size_t cursor = 0;                  // Where to look for a free slot next.
    std::vector<std::uint64_t> alloc, mark;  // Bit per slot.
    bool white = false;
    bool listed = false;  // In with_space_ (once at most).
  };
  static bool Bit(const std::vector<std::uint64_t>& bits, std::size_t i) {
    return (bits[i / 64] >> (i % 64)) & 1;
  }
  static void SetBit(std::vector<std::uint64_t>& bits, std::size_t i) {
    bits[i / 64] |= std::uint64_t{1} << (i % 64);
  }

  static constexpr std::size_t kWeakEntryCost = 16;      // Budget units per weak reference.
  static constexpr std::size_t kSweepBytesPerUnit = 64;  // Segment bytes swept per budget unit.

  Ams(Arena* arena, const gc::Format* format, gc::Roots* roots, const AmsOptions& options);
  Seg* SegOf(Addr a) const;
  std::size_t ClassOf(std::size_t size) const;
  Res NewSegment(std::size_t slot_size, std::size_t bytes, Seg** seg);
  void Shade(Seg* seg, Addr obj);
  bool Mark(std::size_t budget);
  // Sweeps condemned segments from sweep_from_ on, until about `budget`
  // work is done; true when every one is swept.
  bool Sweep(std::size_t budget);
  void SweepSegment(Seg& seg);  // May release it.
  void List(Seg* seg);          // Into with_space_, if not there.
  void Unlist(Seg* seg);        // Out of it (a segment going back to the arena).
  void SetPhase(gc::Phase phase);

  void SetWhite(Seg& seg, bool white);  // Its flag, and its pages' in the index.
  bool IsWhite(Addr a) const;

  void Fix(gc::ScanState& ss, Addr* ref) override;
  void FixWeak(Addr* ref) override;

  const gc::Format* format_;
  gc::Roots* roots_;
  AmsOptions options_;
  std::map<Addr, Seg> segs_;                   // By base: ordered walks.
  gc::SegmentIndex<Seg> index_;                // By any address: the fix path.
  std::vector<std::vector<Seg*>> with_space_;  // By class: segments with free slots.
  std::vector<Addr> grey_;
  bool weak_done_ = false;  // Reclaim: weak references fixed; sweeping.
  Addr sweep_from_ = 0;     // Reclaim: the next segment to sweep is at or above.
  std::uint64_t white_zones_ = 0;
  std::size_t allocated_ = 0;  // Bytes in allocated slots.
  std::size_t since_collection_ = 0;
  std::size_t survived_ = 0;
  gc::Phase phase_ = gc::Phase::kIdle;
  std::uint64_t collection_ = 0;
  AmsStats stats_;
};

}  // namespace core

#endif  // CORE_POOLS_AMS_H_
