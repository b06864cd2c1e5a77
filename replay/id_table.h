// The replay engine's object-id -> block table. Recorders, importers and
// generators number objects in order, so ids are dense: ids below a bound
// index a flat array of 4-byte handles in address space reserved with mmap
// (the kernel commits pages as they are first touched). A handle names the
// block's slot in a slab that holds live blocks only and reuses the slots
// of freed ones, or the event that freed the id, for the double-free
// message. So a trace touches 4 bytes per id and 16 per block live at
// once, where a table of blocks indexed by id made the kernel zero 16
// bytes per id. Other ids fall back to a hash map. All memory comes from
// mmap: the table must not land in the heap of a system allocator under
// test.
#ifndef REPLAY_ID_TABLE_H_
#define REPLAY_ID_TABLE_H_

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "replay/mmap_allocator.h"

namespace replay {

// A block as the table keeps it: 16 bytes.
class Block {
 public:
  Block() = default;
  // A live block; size < 2^56 (traces cap sizes at 2^48), alignment a power
  // of two.
  Block(void* p, std::uint64_t size, std::uint64_t alignment)
      : p_(reinterpret_cast<std::uintptr_t>(p)),
        bits_(size | static_cast<std::uint64_t>(std::countr_zero(alignment)) << 56) {}
  static Block Freed(std::uint64_t event) { return Block(0, event | kFreedBit); }
  // A free slot of the id table's slab, linking to the next (as an index).
  static Block FreeSlot(std::uint32_t next) { return Block(0, next); }
  std::uint32_t next_free_slot() const { return static_cast<std::uint32_t>(bits_); }

  bool live() const { return p_ != 0; }
  void* p() const { return reinterpret_cast<void*>(p_); }
  // The address as a reference a collector may update (moved) or clear
  // (reclaimed): the id table is a weak root of a GC subject.
  std::uintptr_t* address() { return &p_; }
  std::uint64_t size() const { return bits_ & kSizeMask; }
  std::uint64_t alignment() const { return std::uint64_t{1} << (bits_ >> 56); }
  // Not live: whether it was freed, and at which event.
  bool freed() const { return !live() && (bits_ & kFreedBit) != 0; }
  std::uint64_t freed_at() const { return bits_ & ~kFreedBit; }

 private:
  static constexpr std::uint64_t kSizeMask = (std::uint64_t{1} << 56) - 1;
  static constexpr std::uint64_t kFreedBit = std::uint64_t{1} << 63;
  Block(std::uintptr_t p, std::uint64_t bits) : p_(p), bits_(bits) {}

  std::uintptr_t p_ = 0;
  std::uint64_t bits_ = 0;  // Live: size | log2(alignment) << 56.
};
static_assert(sizeof(Block) == 16);

class IdTable {
 public:
  IdTable() {
    // Reserve as much of the dense range as the system lets us.
    for (std::uint64_t slots = kMaxDenseSlots; slots >= kMinDenseSlots; slots /= 4) {
      void* handles = Reserve(slots * sizeof(Handle));
      void* slab = handles == nullptr ? nullptr : Reserve(slots * sizeof(Block));
      if (slab != nullptr) {
        handles_ = static_cast<Handle*>(handles);
        slab_ = static_cast<Block*>(slab);
        dense_slots_ = slots;
        last_slot_ = slots - 1;
        break;
      }
      if (handles != nullptr) munmap(handles, slots * sizeof(Handle));
    }
  }
  ~IdTable() {
    if (dense_slots_ != 0) {
      munmap(handles_, dense_slots_ * sizeof(Handle));
      munmap(slab_, dense_slots_ * sizeof(Block));
    }
  }
  IdTable(const IdTable&) = delete;
  IdTable& operator=(const IdTable&) = delete;

  // The live block of `id`, or null. Inline for dense ids, which are the
  // hot path; the hash map is out of line.
  Block* FindLive(std::uint64_t id) {
    if (id < dense_slots_) [[likely]] {
      const Handle h = handles_[id];
      if (!HoldsSlot(h)) return nullptr;
      Block* b = &slab_[h - 1];
      return b->live() ? b : nullptr;
    }
    return FindLiveSparse(id);
  }

  // Whether the block of `id` stays where it is while it lives (dense ids),
  // so that a collector may hold its address.
  bool IsStable(std::uint64_t id) const { return id < dense_slots_; }

  // Starts loading the handle of `id`: the engine knows the ids of the next
  // events in its batch, and the handle of an old object is a cache miss.
  // Branch-free: GCC 12 drops a prefetch that is the only statement under
  // an if, and a prefetch of the last handle for a sparse id costs nothing.
  void Prefetch(std::uint64_t id) const { __builtin_prefetch(&handles_[std::min(id, last_slot_)]); }
  // Then, some events later, the block its handle names (the handle is in
  // cache by then): a slot freed long ago may be a miss too.
  void PrefetchBlock(std::uint64_t id) const {
    const Handle h = handles_[std::min(id, last_slot_)];
    __builtin_prefetch(&slab_[HoldsSlot(h) ? h - 1 : 0]);
  }

  // The block for a new live block of `id` (the caller fills it, with a
  // non-null p), or null if `id` is live already.
  Block* Insert(std::uint64_t id) {
    if (id < dense_slots_) [[likely]] {
      Handle& h = handles_[id];
      dense_end_ = std::max(dense_end_, id + 1);
      if (HoldsSlot(h)) {
        // Live, or cleared by a collector and not yet buried: its slot.
        Block* b = &slab_[h - 1];
        return b->live() ? nullptr : b;
      }
      const std::uint32_t slot = TakeSlot();
      h = slot + 1;
      return &slab_[slot];
    }
    return InsertSparse(id);
  }

  // Marks the block `b` of `id` (live, or cleared by a collector) freed at
  // event `event`. Sparse ids keep a bounded number of such records.
  void Bury(std::uint64_t id, Block* b, std::uint64_t event) {
    if (id < dense_slots_) [[likely]] {
      const auto slot = static_cast<std::uint32_t>(b - slab_);
      *b = Block::FreeSlot(free_slot_);
      free_slot_ = slot;
      handles_[id] =
          event < kFarEvent ? kFreedBit | static_cast<Handle>(event) : FarFreed(id, event);
    } else {
      BurySparse(id, b, event);
    }
  }

  // The event that last freed `id`, if it is not live and that is known.
  std::optional<std::uint64_t> FreedAt(std::uint64_t id) const {
    if (id < dense_slots_) {
      const Handle h = handles_[id];
      if ((h & kFreedBit) == 0) return std::nullopt;
      if ((h & ~kFreedBit) != kFarEvent) return h & ~kFreedBit;
      return far_freed_.at(id);
    }
    const auto it = sparse_.find(id);
    if (it == sparse_.end() || !it->second.freed()) return std::nullopt;
    return it->second.freed_at();
  }

  // The live block holding address `a` (a zero-byte block holds its own
  // address), and its id. A walk of the whole table: for a visualizer's
  // hover, never the replay's hot path.
  std::optional<std::pair<std::uint64_t, Block>> FindContaining(std::uintptr_t a) const {
    const auto holds = [a](const Block& b) {
      const auto p = reinterpret_cast<std::uintptr_t>(b.p());
      return b.live() && p <= a && a - p < std::max<std::uint64_t>(b.size(), 1);
    };
    for (std::uint64_t id = 0; id < dense_end_; ++id) {
      const Block* b = DenseSlot(id);
      if (b != nullptr && holds(*b)) return std::make_pair(id, *b);
    }
    for (const auto& [id, block] : sparse_) {
      if (holds(block)) return std::make_pair(id, block);
    }
    return std::nullopt;
  }

  // Calls f(id, block) for every live block.
  template <typename F>
  void ForEachLive(F f) {
    for (std::uint64_t id = 0; id < dense_end_; ++id) {
      Block* b = DenseSlot(id);
      if (b != nullptr && b->live()) f(id, *b);
    }
    ForEachSparseLive(f);
  }

  // Calls f(id, block) for every live block of a sparse id.
  template <typename F>
  void ForEachSparseLive(F f) {
    for (auto& [id, block] : sparse_) {
      if (block.live()) f(id, block);
    }
  }

  // Calls f(id, block) for every live block, then forgets them all.
  template <typename F>
  void DrainLive(F f) {
    ForEachLive(f);
    sparse_.clear();
    far_freed_.clear();
    if (dense_end_ > 0) madvise(handles_, dense_end_ * sizeof(Handle), MADV_DONTNEED);
    if (slab_end_ > 0) madvise(slab_, slab_end_ * sizeof(Block), MADV_DONTNEED);
    dense_end_ = 0;
    slab_end_ = 0;
    free_slot_ = kNoSlot;
  }

  // The invariants: every dense handle below dense_end_ that names a slot
  // names a distinct slot in use, no handle names a slot on the free list,
  // and the slots in use and on the free list are all that were handed
  // out. Costs a walk of the table: for tests.
  bool Check() const {
    std::vector<bool> named(slab_end_), free(slab_end_);
    std::uint64_t in_use = 0, on_list = 0;
    for (std::uint64_t id = 0; id < dense_end_; ++id) {
      const Handle h = handles_[id];
      if (!HoldsSlot(h)) continue;
      if (h - 1 >= slab_end_ || named[h - 1]) return false;
      named[h - 1] = true;
      ++in_use;
    }
    for (std::uint32_t s = free_slot_; s != kNoSlot; s = slab_[s].next_free_slot()) {
      if (s >= slab_end_ || named[s] || free[s]) return false;
      free[s] = true;
      ++on_list;
    }
    for (std::uint64_t id = dense_end_; id < std::min<std::uint64_t>(dense_end_ + 64, dense_slots_);
         ++id) {
      if (handles_[id] != 0) return false;  // Nothing past the end was touched.
    }
    return in_use + on_list == slab_end_;
  }

 private:
  // A dense id's handle: 0, never allocated; below kFreedBit, its slot in
  // the slab plus one; with kFreedBit, the event that freed it, or
  // kFarEvent for one past 2^31 - 1 (kept in far_freed_).
  using Handle = std::uint32_t;
  static constexpr Handle kFreedBit = Handle{1} << 31;
  static constexpr Handle kFarEvent = kFreedBit - 1;
  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
  static bool HoldsSlot(Handle h) { return h - 1 < kFreedBit - 1; }

  static void* Reserve(std::uint64_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    // Huge pages. Handles are touched in id order, so they take far fewer
    // faults. Slab slots are reused in no useful order, and a collector's
    // weak scan reads them by id: with 4 KiB pages most of those reads
    // missed the TLB (GCBench, incremental AMC: `weak ns` 17% lower).
    // The first huge page's worth stays on small pages, so that a small
    // replay never waits for a huge page to be found and zeroed.
    constexpr std::uint64_t kHugePage = std::uint64_t{2} << 20;
    if (bytes > kHugePage)
      madvise(static_cast<char*>(p) + kHugePage, bytes - kHugePage, MADV_HUGEPAGE);
    return p;
  }

  // The slot of a dense id's live (or collector-cleared) block, or null.
  Block* DenseSlot(std::uint64_t id) const {
    const Handle h = handles_[id];
    return HoldsSlot(h) ? &slab_[h - 1] : nullptr;
  }

  // A free slot of the slab: the last freed, or a fresh one.
  std::uint32_t TakeSlot() {
    if (free_slot_ != kNoSlot) {
      const std::uint32_t slot = free_slot_;
      free_slot_ = slab_[slot].next_free_slot();
      return slot;
    }
    return static_cast<std::uint32_t>(slab_end_++);
  }

  [[gnu::noinline]] Handle FarFreed(std::uint64_t id, std::uint64_t event) {
    far_freed_[id] = event;
    return kFreedBit | kFarEvent;
  }
  [[gnu::noinline]] Block* FindLiveSparse(std::uint64_t id) {
    auto it = sparse_.find(id);
    return it != sparse_.end() && it->second.live() ? &it->second : nullptr;
  }
  [[gnu::noinline]] void BurySparse(std::uint64_t id, Block* b, std::uint64_t event) {
    if (sparse_.size() < kMaxSparse) {
      *b = Block::Freed(event);
    } else {
      sparse_.erase(id);
    }
  }
  [[gnu::noinline]] Block* InsertSparse(std::uint64_t id) {
    Block* b = &sparse_[id];
    return b->live() ? nullptr : b;
  }

  // 2^30 ids: 4 GiB of address space for handles (and as much room for
  // live blocks in the slab), of which only the pages in use are ever
  // committed. Slots are numbered in 31 bits.
  static constexpr std::uint64_t kMaxDenseSlots = std::uint64_t{1} << 30;
  static constexpr std::uint64_t kMinDenseSlots = std::uint64_t{1} << 16;
  static constexpr std::size_t kMaxSparse = std::size_t{1} << 22;

  // Without a dense range, a handle that prefetches may point at.
  static inline Handle no_handle_ = 0;
  Handle* handles_ = &no_handle_;
  Block* slab_ = nullptr;
  std::uint64_t dense_slots_ = 0;
  std::uint64_t last_slot_ = 0;        // Of the dense range, for prefetches.
  std::uint64_t dense_end_ = 0;        // Above the highest dense id used.
  std::uint64_t slab_end_ = 0;         // Slots ever handed out.
  std::uint32_t free_slot_ = kNoSlot;  // Free slots, linked through the slab.
  template <typename K, typename V>
  using MmapMap = absl::flat_hash_map<K, V, absl::Hash<K>, std::equal_to<K>,
                                      MmapAllocator<std::pair<const K, V>>>;
  MmapMap<std::uint64_t, Block> sparse_;
  MmapMap<std::uint64_t, std::uint64_t> far_freed_;  // Dense ids freed past kFarEvent.
};

}  // namespace replay

#endif  // REPLAY_ID_TABLE_H_
