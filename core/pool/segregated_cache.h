// A segregated allocation cache (MPS's SAC, mps_sac_*): free lists of
// blocks, one per size class, in front of any pool. A free pushes the block
// on its class's list and an allocation of that class pops it, so a program
// that frees and reallocates blocks of similar sizes costs a push and a pop
// per pair instead of a trip through the pool's free structure (for MVFF,
// two descents of a coalescing tree, with branches that depend on the data).
//
// The price is the pool's policy: cached blocks stay allocated as far as
// the pool knows, are not coalesced, and are handed out again whatever
// their address, so first fit applies only when a class is refilled. A
// request is rounded up to its class's block size (internal
// fragmentation), and requests above the largest class go to the pool.
// Blocks must be freed with the size they were allocated with, as for the
// pool. Not thread-safe: one cache per thread, as in MPS.
// See core/pool/DESIGN.md.
#ifndef CORE_POOL_SEGREGATED_CACHE_H_
#define CORE_POOL_SEGREGATED_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>
#include <vector>

#include "core/base/address.h"
#include "core/base/check.h"
#include "core/base/function_ref.h"
#include "core/base/result.h"
#include "core/pool/pool.h"

namespace core {

// One size class, as MPS's mps_sac_class_s (without its frequency hint).
struct SacClass {
  std::size_t block_size;    // Largest request served; every block is this big.
  std::size_t cached_count;  // Blocks the class may hold; 0 sends requests to the pool.
};

struct SacStats {
  std::uint64_t fills = 0;           // Allocations that found their class empty.
  std::uint64_t blocks_filled = 0;   // Blocks those fills took from the pool.
  std::uint64_t empties = 0;         // Frees that found their class full.
  std::uint64_t blocks_emptied = 0;  // Blocks returned to the pool (flushes too).
  std::uint64_t large = 0;           // Allocations above the largest class.
  // Blocks the pool refused on their return: freed twice into the cache,
  // or never the pool's (client errors the fast path cannot see).
  std::uint64_t refused = 0;
};

class SegregatedCache {
 public:
  static constexpr std::size_t kMaxClasses = 255;
  // Entries in the size -> class table (one per step of the classes'
  // common power-of-two factor).
  static constexpr std::size_t kMaxTableSize = std::size_t{1} << 16;

  // kOk if the classes can be used: 1 to kMaxClasses of them, block sizes
  // strictly increasing and at least a word, cached counts below 2^32, and
  // the lookup table within kMaxTableSize; kParam otherwise.
  static Res Validate(std::span<const SacClass> classes);
  // Classes geometric in steps of about 1.5 from 16 bytes to 2 KiB, each
  // caching `cached_count` blocks.
  static std::vector<SacClass> DefaultClasses(std::size_t cached_count = 16);

  // `classes` must pass Validate; `pool` must outlive the cache.
  SegregatedCache(Pool* pool, std::span<const SacClass> classes);
  // Returns every cached block to the pool.
  ~SegregatedCache();
  SegregatedCache(const SegregatedCache&) = delete;
  SegregatedCache& operator=(const SegregatedCache&) = delete;

  // As Pool::Alloc and Pool::Free. A size of 0 is kParam.
  Res Alloc(std::size_t size, void** p);
  Res Free(void* p, std::size_t size);
  // Returns every cached block to the pool.
  void Flush();

  // Blocks and bytes held in the cache; blocks held by class `index`
  // (0 for the smallest).
  std::size_t CachedBlocks() const;
  std::size_t CachedBlocks(std::size_t index) const { return lists_[index].count; }
  std::size_t CachedBytes() const;
  // Visits the cached blocks (each its class's block size), class by class.
  void WalkCached(FunctionRef<bool(Range)> visit) const;
  const SacStats& stats() const { return stats_; }

  CheckResult Check() const;
  void Describe(std::ostream& os) const;

 private:
  // A class's blocks, linked through their first word.
  struct FreeList {
    void* head = nullptr;
    std::uint32_t count = 0;
    std::uint32_t limit = 0;
    std::size_t block_size = 0;
  };

  Res AllocSlow(std::size_t size, void** p);
  Res FreeSlow(void* p, std::size_t size);
  // Frees blocks from the head of `list` to the pool until `keep` remain.
  void Drain(FreeList& list, std::uint32_t keep);
  // The list for a request of `size`, or nullptr above the largest class
  // (and for 0, which wraps above it).
  FreeList* ListFor(std::size_t size) {
    const std::size_t index = (size - 1) >> shift_;
    return index < class_of_.size() ? &lists_[class_of_[index]] : nullptr;
  }

  Pool* pool_;
  std::vector<FreeList> lists_;         // One per class, smallest first.
  std::vector<std::uint8_t> class_of_;  // (size - 1) >> shift_ -> class.
  unsigned shift_ = 0;
  SacStats stats_;
};

// The fast paths, inline: a table lookup and a pop or push. Everything
// else (empty or full class, large block, bad argument) is out of line.
inline Res SegregatedCache::Alloc(std::size_t size, void** p) {
  FreeList* list = ListFor(size);
  if (list != nullptr && list->head != nullptr) [[likely]] {
    void* block = list->head;
    list->head = *static_cast<void**>(block);
    --list->count;
    *p = block;
    return Res::kOk;
  }
  return AllocSlow(size, p);
}

inline Res SegregatedCache::Free(void* p, std::size_t size) {
  FreeList* list = ListFor(size);
  if (list != nullptr && p != nullptr && list->count < list->limit) [[likely]] {
    *static_cast<void**>(p) = list->head;
    list->head = p;
    ++list->count;
    return Res::kOk;
  }
  return FreeSlow(p, size);
}

}  // namespace core

#endif  // CORE_POOL_SEGREGATED_CACHE_H_
