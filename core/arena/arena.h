// The arena: the source of all memory for pools. It reserves address space
// in chunks, commits and decommits it in grains, and keeps a map that says,
// for every grain, which pool owns it, its segment type and whether it is
// committed. See core/arena/DESIGN.md.
//
// Two backings share all of the logic: a virtual-memory arena reserves
// chunks with mmap(PROT_NONE) and grows by further chunks; a client arena
// manages one caller-provided buffer, never calls mmap, and so gives the
// same addresses on every run.
#ifndef CORE_ARENA_ARENA_H_
#define CORE_ARENA_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <ostream>
#include <vector>

#include "core/arena/node_store.h"
#include "core/arena/segment_type.h"
#include "core/base/address.h"
#include "core/base/check.h"
#include "core/base/function_ref.h"
#include "core/base/result.h"
#include "core/land/cbs.h"
#include "core/observe/observer.h"

namespace core {

class Pool;

struct ArenaOptions {
  // Commit granularity; 0 means the OS page size. A power of two, and for a
  // virtual-memory arena a multiple of the page size.
  std::size_t grain_size = 0;
  // Address space reserved per chunk (virtual-memory arenas); a request
  // larger than a chunk gets a chunk of its own.
  std::size_t chunk_size = std::size_t{16} << 20;
  // Align each chunk to its size (MLWorks' 16 MiB spaces are aligned).
  bool align_chunks = false;
  // Total address space the arena may reserve.
  std::size_t reserve_limit = std::numeric_limits<std::size_t>::max();
  // Committed bytes (pools' and the arena's own) may not exceed this.
  std::size_t commit_limit = std::numeric_limits<std::size_t>::max();
  // Free grains may stay committed while they are at most this fraction of
  // all committed memory (MPS's default spare is 0.75).
  double spare = 0.75;
  // Virtual-memory arenas: commit and touch this many bytes at creation,
  // kept as spare memory that the fraction above never trims (a heap sized
  // up front, like a JVM's -Xms with AlwaysPreTouch). Pools then reuse warm
  // pages instead of faulting fresh ones while the heap grows to this size.
  // Rounded up to grains; kCommitLimit at creation if over the limit.
  std::size_t precommit = 0;

  // MLWorks' heap geometry: 16 MiB aligned spaces of 64 KiB blocks.
  static ArenaOptions MlWorks();
};

// Everything the arena knows about one grain.
struct GrainInfo {
  std::uint32_t pool_id;  // 0: no pool (free, or the arena's own control).
  SegmentType type;
  std::uint8_t flags;  // kGrain* bits below.
  std::uint16_t reserved;
};
inline constexpr std::uint8_t kGrainCommitted = 1;  // Backed by memory.
inline constexpr std::uint8_t kGrainAllocated = 2;  // Owned by a pool or the arena.
inline constexpr std::uint8_t kGrainHead = 4;       // First grain of a segment.

// A run of grains allocated together: what Pool::WalkSegments reports.
struct Segment {
  Range range;
  const Pool* pool;  // nullptr for the arena's own control segments.
  SegmentType type;
};

struct ArenaStats {
  std::uint64_t reserve_calls = 0;   // Chunks reserved (VM) or adopted (client).
  std::uint64_t release_calls = 0;   // Chunks given back to the OS.
  std::uint64_t commit_calls = 0;    // Ranges committed.
  std::uint64_t decommit_calls = 0;  // Ranges decommitted.
  std::size_t reserved = 0;          // Bytes of address space reserved.
  std::size_t committed = 0;         // Bytes committed, control included.
  std::size_t control = 0;           // Of which the arena's own tables.
  std::size_t spare = 0;             // Of which free but committed.
  std::size_t in_use = 0;            // Bytes allocated to pools.
  std::size_t commit_limit = 0;
};

class Arena {
 public:
  // A virtual-memory arena with one chunk reserved up front.
  [[nodiscard]] static Res CreateVirtual(const ArenaOptions& options,
                                         std::unique_ptr<Arena>* arena);
  // A client arena over [base, base + size): the buffer must outlive the
  // arena, and is never returned or unmapped by it.
  [[nodiscard]] static Res CreateClient(void* base, std::size_t size, const ArenaOptions& options,
                                        std::unique_ptr<Arena>* arena);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Allocates a segment of `size` bytes (rounded up to grains), committed,
  // owned by `pool`, at the lowest (or, if `high`, the highest) free address.
  // kCommitLimit if committing would pass the limit; kResource if no address
  // space can be had. The arena is unchanged on failure.
  // `pool_id` is what RegisterPool returned (0: the arena's client itself).
  Res Alloc(std::size_t size, std::uint32_t pool_id, SegmentType type, bool high, Range* segment);
  // Frees grain-aligned `range`, every grain of which is allocated to one
  // pool. It may be part of a segment. kParam if it is not such a range.
  Res Free(Range range);
  // Changes the type of allocated grains `range`, reporting it to the observer.
  Res Retype(Range range, SegmentType type);

  // Pools register when they are created, so grains can name their owner;
  // the id is what they pass to Alloc. Unregistering frees what the pool
  // still holds.
  std::uint32_t RegisterPool(const Pool* pool);
  void UnregisterPool(std::uint32_t pool_id);
  // The bytes currently allocated to a pool.
  std::size_t PoolBytes(std::uint32_t pool_id) const;

  // What the arena knows about the grain containing `addr`; false if `addr`
  // is outside every chunk.
  bool Lookup(Addr addr, GrainInfo* info) const;
  // The segment containing `addr`, if it is allocated.
  bool SegmentOf(Addr addr, Segment* segment) const;
  const Pool* PoolOf(std::uint32_t pool_id) const;
  // Visits allocated segments in address order (of one pool, if given).
  void WalkSegments(FunctionRef<bool(const Segment&)> visit, const Pool* pool = nullptr) const;
  // Visits every chunk's grains, for maps: the callback gets the chunk range
  // and its grain table.
  void WalkChunks(FunctionRef<void(Range chunk, const GrainInfo* grains)> visit) const;

  // While a hold is on, frees leave spare memory above the spare fraction
  // committed, and the last hold's end trims once. A pool freeing many
  // segments at once (a collector's reclaim) holds trimming for the loop,
  // so the OS sees a few decommits of adjacent spare grains instead of one
  // per segment. Holds never let committed memory pass the commit limit:
  // frees only lower it.
  class TrimHold {
   public:
    explicit TrimHold(Arena* arena) : arena_(arena) { arena_->HoldTrim(); }
    ~TrimHold() { arena_->ReleaseTrim(); }
    TrimHold(const TrimHold&) = delete;
    TrimHold& operator=(const TrimHold&) = delete;

   private:
    Arena* arena_;
  };
  void HoldTrim();
  void ReleaseTrim();

  // Lowers or raises the commit limit. Spare memory is decommitted to meet
  // a lower limit; kFail if memory in use exceeds it (limit unchanged).
  Res SetCommitLimit(std::size_t limit);
  void SetSpare(double spare);
  // Decommits all spare memory.
  void PurgeSpare();

  std::size_t grain_size() const { return grain_size_; }
  bool is_client() const { return client_; }
  ArenaStats stats() const;
  void set_observer(Observer* observer) { observer_.set(observer); }
  Observer* observer() const { return observer_.get(); }

  CheckResult Check() const;
  void Describe(std::ostream& os) const;

 private:
  struct Chunk;
  explicit Arena(const ArenaOptions& options, bool client);

  // Reserves (VM) or adopts (client) a chunk and makes its header.
  Res AddChunk(Addr base, std::size_t size, bool owned);
  // Reserves a new VM chunk able to hold `size` bytes.
  Res Extend(std::size_t size);
  Chunk* ChunkOf(Addr addr) const;
  GrainInfo& Grain(Chunk* chunk, Addr addr) const;

  Res CommitRange(Range range);
  void DecommitRange(Range range);
  // Decommits spare memory until spare <= max(spare_fraction_ * committed,
  // spare_floor_), or, with `all`, entirely.
  void TrimSpare(bool all);
  // Decommits `bytes` (rounded up to grains) of spare memory, or all there is.
  void DecommitSpare(std::size_t bytes);
  void FreeAllLocked(std::uint32_t pool_id);
  // One arena operation adds at most two blocks across its two lands; keep
  // this many committed node units ready (twice as many before an Alloc).
  static constexpr std::size_t kNodeReserve = 4;
  // Commits header grains until the node store has `units` ready.
  Res EnsureNodeReserve(std::size_t units);
  std::size_t SpareAllowance() const;
  // Commits, touches and frees `bytes` as untrimmed spare (precommit).
  Res Precommit(std::size_t bytes);
  Res FreeLocked(Range range);
  CheckResult CheckLocked() const;

  mutable std::mutex mutex_;
  const std::size_t grain_size_;
  const std::size_t chunk_size_;
  const bool align_chunks_;
  const bool client_;
  const std::size_t reserve_limit_;
  std::size_t commit_limit_;
  double spare_fraction_;
  std::size_t spare_floor_ = 0;  // Spare memory never trimmed (precommit).
  int trim_holds_ = 0;           // HoldTrim calls not yet released.

  std::vector<Chunk*> chunks_;           // Sorted by base.
  NodeStore node_store_;                 // Tree nodes for both lands, from chunk headers.
  Cbs free_land_;                        // Every free grain, committed or not.
  Cbs spare_land_;                       // The free grains that are committed.
  std::vector<const Pool*> pools_;       // Indexed by pool id; [0] unused.
  std::vector<std::size_t> pool_bytes_;  // Bytes allocated, by pool id.
  std::vector<std::uint32_t> free_pool_ids_;
  ArenaStats stats_;
  ObserverSlot observer_;
};

}  // namespace core

#endif  // CORE_ARENA_ARENA_H_
