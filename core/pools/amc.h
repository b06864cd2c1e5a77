// AMC: MPS's automatic mostly-copying pool, generational, after MLWorks'
// condemned -> survivors scheme. Objects (in a gc::Format) are bump-
// allocated in nursery segments; a collection condemns the nursery and any
// generation of the chain that is over its capacity, copies what the roots
// reach into to-space segments of the next generation (Cheney scan), keeps
// large objects in place (marked, non-moving segments), promotes pinned
// segments in place (Bartlett's mostly-copying), and returns from-space to
// the arena. Design: core/pools/AMC.md.
#ifndef CORE_POOLS_AMC_H_
#define CORE_POOLS_AMC_H_

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "core/gc/format.h"
#include "core/gc/object_format.h"
#include "core/gc/phase.h"
#include "core/gc/roots.h"
#include "core/gc/segment_index.h"
#include "core/pool/pool.h"

namespace core {

struct AmcGeneration {
  std::size_t capacity;  // Collect the generation when it holds more.
  double mortality;      // Expected fraction dying (MPS's chain parameter).
};

struct AmcOptions {
  // MPS's default chain; objects surviving the last generation of the
  // chain go to a top generation that only full collections condemn.
  std::vector<AmcGeneration> chain = {{8u << 20, 0.85}, {36u << 20, 0.45}};
  std::size_t segment_size = 64u << 10;  // Nursery and to-space segments.
  std::size_t large_size = 32u << 10;    // Objects this big or bigger never move.
  // Keep some from-space segments, as many as any collection has taken for
  // to-space (at most a nursery's worth), as warm to-space for the next
  // one instead of returning them to the arena (which would hand them to
  // the nursery). Copying then writes to pages
  // already touched, and while the heap grows it is the mutator's
  // allocation, not the collection's pause, that faults in fresh pages.
  bool copy_reserve = true;
};

struct AmcStats {
  std::uint64_t collections = 0;
  std::vector<std::uint64_t> collections_by_generation;  // By the oldest condemned.
  std::uint64_t condemned = 0;                           // Bytes in condemned segments.
  std::uint64_t copied = 0;                              // Bytes copied (objects).
  std::uint64_t promoted = 0;      // Bytes kept in place and promoted (large, pinned).
  std::uint64_t reclaimed = 0;     // Bytes of from-space freed (to the arena or the copy reserve).
  std::uint64_t scanned = 0;       // Bytes of objects scanned.
  std::uint64_t reserve_used = 0;  // Bytes of to-space taken from the copy reserve.
  // Time tracing: fixing the roots and scanning the remembered set and the
  // grey objects, which is where objects are copied. Copying throughput
  // is copied / trace_ns.
  std::uint64_t trace_ns = 0;
  std::uint64_t weak_ns = 0;     // Time fixing weak roots (an id table: entry by entry).
  std::uint64_t reclaim_ns = 0;  // Time freeing from-space and ending collections.
};

class Amc final : public Pool, private gc::Fixer {
 public:
  // `format` and `roots` must outlive the pool.
  [[nodiscard]] static Res Create(Arena* arena, const gc::Format* format, gc::Roots* roots,
                                  const AmcOptions& options, std::unique_ptr<Amc>* pool);
  ~Amc() override;

  const char* class_name() const override { return "AMC"; }

  // Allocates `size` bytes (a multiple of the format's alignment) for an
  // object the caller initialises before it next calls the pool. Never
  // collects: callers check NeedsCollection() and collect at a safe point.
  Res Alloc(std::size_t size, void** p) override;
  // Objects die by becoming unreachable; an explicit free is refused.
  Res Free(void*, std::size_t) override { return Res::kParam; }

  // The nursery is over its capacity and no collection is running.
  bool NeedsCollection() const;

  // The write barrier: call after storing `target` into a slot of the
  // object at `obj`.
  void NoteStore(Addr obj, Addr target);

  // Collections run in steps: StartCollection condemns (the nursery and
  // generations over capacity, or everything if `full`), Step does about
  // `budget` bytes of scanning and copying and says when it is done.
  Res StartCollection(bool full);
  Res Step(std::size_t budget, bool* done);
  // A whole collection (finishing one that is running).
  Res Collect(bool full);
  gc::Phase phase() const { return phase_; }
  // The read barrier for incremental collection: call before the mutator
  // uses a reference it holds outside the roots (e.g. from a weak table).
  void FixMutatorRef(Addr* ref);
  // Keeps the segment of `obj` in place in the next collection.
  void Pin(Addr obj);

  std::size_t TotalSize() const override;
  std::size_t FreeSize() const override;
  void WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const override;
  // Visits every object (not padding, not forwarded copies) in address order.
  void WalkObjects(FunctionRef<void(Addr obj)> visit) const;
  CheckResult Check() const override;
  void Describe(std::ostream& os) const override;

  const AmcStats& stats() const { return stats_; }
  int generations() const { return static_cast<int>(gen_bytes_.size()); }
  std::size_t GenerationBytes(int gen) const { return gen_bytes_[static_cast<std::size_t>(gen)]; }
  // The oldest generation the running (or last) collection condemned; -1
  // before the first.
  int condemned_generation() const { return last_condemned_; }
  // While a collection runs: the memory it concerns by colour, in address
  // order. From-space objects are condemned or forwarded, to-space is
  // black up to its scan point and grey beyond, large objects by their
  // mark, remembered segments grey until scanned.
  void WalkTraceColors(FunctionRef<void(Range, gc::TraceColor)> visit) const;
  // The object (or, mid-collection, forwarded old copy) that holds `a`: its
  // start, or 0 if `a` is in no object (free, padding, not the pool's).
  // Walks the segment: for tools, not the mutator.
  Addr ObjectContaining(Addr a) const;
  // The generation of the segment holding `a`, or -1 if none does.
  int GenerationOf(Addr a) const {
    const Seg* seg = SegOf(a);
    return seg == nullptr ? -1 : seg->gen;
  }
  // Whether `a` points into memory a collection has condemned.
  bool IsCondemned(Addr a) const { return phase_ != gc::Phase::kIdle && IsWhite(a); }

 private:
  struct Seg {
    Range range;
    int gen;
    Addr fill;  // Objects end here.
    Addr scan;  // To-space: scanned up to here.
    // The remembered set: its references point only into this generation
    // or older ones (the write barrier lowers it; a collection that scans
    // the segment raises it, since what it reached was promoted).
    int min_gen = 0;
    bool large = false;
    bool white = false;
    bool pinned = false;
    bool marked = false;  // Large objects: reached in this collection.
    bool queued = false;  // On the grey list.
    SegmentType type = SegmentType::kNursery;
  };

  Amc(Arena* arena, const gc::Format* format, gc::Roots* roots, const AmcOptions& options);

  Res NewSegment(int gen, std::size_t size, SegmentType type, bool large, Seg** seg);
  // Memory for a new segment: to-space from the copy reserve when it has
  // a segment of that size, else from the arena (giving the reserve back
  // first if the arena is out of memory for it).
  Res AcquireFor(std::size_t size, SegmentType type, Range* range);
  // Keeps a freed from-space segment in the copy reserve if the reserve
  // is under its target; false if the caller should release it.
  bool KeepInReserve(Range range);
  // The most the reserve's target may be (the chain must not be empty).
  std::size_t ReserveCap() const;
  // Returns reserve segments to the arena until it holds at most `keep` bytes.
  void ReleaseReserve(std::size_t keep);
  void Retype(Seg& seg, SegmentType type);
  Seg* SegOf(Addr a) const;
  int TopGeneration() const { return static_cast<int>(gen_bytes_.size()) - 1; }
  // Budget units per weak reference fixed (about a slot's worth of work).
  static constexpr std::size_t kWeakEntryCost = 16;
  SegmentType TypeFor(int gen) const {
    return gen == 0 ? SegmentType::kNursery : SegmentType::kGeneration;
  }
  void CloseSegment(Seg* seg);  // Pads what is left after its fill.
  // The youngest generation the objects of `seg` refer to (INT_MAX: none),
  // for Check.
  int YoungestReferenced(const Seg& seg) const;
  void ScanRange(gc::ScanState& ss, Addr from, Addr to);
  void ScanRoots();
  bool ScanGrey(std::size_t budget);
  void Reclaim();
  void SetPhase(gc::Phase phase);
  void MakeGrey(Seg* seg) {
    if (seg->queued) return;
    seg->queued = true;
    grey_.push_back(seg);
  }

  // Condemns (or frees) a segment: its flag, and its pages' in the index.
  void SetWhite(Seg& seg, bool white);
  bool IsWhite(Addr a) const;

  // gc::Fixer
  void Fix(gc::ScanState& ss, Addr* ref) override;
  void FixWeak(Addr* ref) override;
  // The body of Fix, for a format known at compile time (the engine's
  // gc::ObjectFormat: its calls inline) or any gc::Format (virtual calls).
  template <class F>
  [[gnu::always_inline]] inline void FixWith(const F& format, Addr* ref);
  // FixWith's slow path: closes generation `gen`'s to-space segment and
  // opens one with room for `size` bytes; null (and copy_res_ set) if the
  // arena has no memory for it.
  [[gnu::noinline]] Seg* NextCopySegment(int gen, std::size_t size);

  const gc::Format* format_;
  // format_ when it is a gc::ObjectFormat, else null: the fix path's fast case.
  const gc::ObjectFormat* object_format_;
  gc::Roots* roots_;
  AmcOptions options_;
  std::map<Addr, Seg> segs_;     // By base: ordered walks.
  gc::SegmentIndex<Seg> index_;  // By any address: the fix path.
  std::vector<std::size_t> gen_bytes_;
  Seg* alloc_seg_ = nullptr;      // Current nursery segment.
  std::vector<Seg*> copy_seg_;    // Current to-space segment per generation.
  std::vector<Seg*> grey_;        // Segments with unscanned objects.
  std::vector<Seg*> remembered_;  // Surviving segments still to scan as roots.
  std::vector<Range> reserve_;    // The copy reserve: idle segment_size segments.
  std::size_t reserve_bytes_ = 0;
  std::size_t reserve_target_ = 0;  // Bytes the reserve is refilled to.
  std::size_t to_space_taken_ = 0;  // Bytes of to-space this collection acquired.
  std::uint64_t white_zones_ = 0;
  Res copy_res_ = Res::kOk;  // The first failure to get to-space, if any.
  int condemned_gen_ = -1;
  int last_condemned_ = -1;
  gc::Phase phase_ = gc::Phase::kIdle;
  std::uint64_t collection_ = 0;
  AmcStats stats_;
};

}  // namespace core

#endif  // CORE_POOLS_AMC_H_
