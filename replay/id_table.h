// The replay engine's object-id -> block table. Recorders, importers and
// generators number objects in order, so ids are dense: ids below a bound
// index a flat array of slots in address space reserved with mmap (the
// kernel commits pages as they are first touched), which makes the lookup
// on every event one indexed load. Other ids fall back to a hash map. A freed
// slot remembers the event that freed it, for the double-free message. All
// memory comes from mmap: the table must not land in the heap of a system
// allocator under test.
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

#include "absl/container/flat_hash_map.h"
#include "replay/mmap_allocator.h"

namespace replay {

// One slot: 16 bytes, so a table of ten million ids is 160 MB of address
// space of which the kernel commits what is touched.
class Block {
 public:
  Block() = default;
  // A live block; size < 2^56 (traces cap sizes at 2^48), alignment a power
  // of two.
  Block(void* p, std::uint64_t size, std::uint64_t alignment)
      : p_(reinterpret_cast<std::uintptr_t>(p)),
        bits_(size | static_cast<std::uint64_t>(std::countr_zero(alignment)) << 56) {}
  static Block Freed(std::uint64_t event) { return Block(0, event | kFreedBit); }

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
      void* p = mmap(nullptr, slots * sizeof(Block), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p != MAP_FAILED) {
        // Ids are touched in order: huge pages take far fewer faults.
        madvise(p, slots * sizeof(Block), MADV_HUGEPAGE);
        dense_ = static_cast<Block*>(p);
        dense_slots_ = slots;
        last_slot_ = slots - 1;
        break;
      }
    }
  }
  ~IdTable() {
    if (dense_slots_ != 0) munmap(dense_, dense_slots_ * sizeof(Block));
  }
  IdTable(const IdTable&) = delete;
  IdTable& operator=(const IdTable&) = delete;

  // The live block of `id`, or null. Inline for dense ids, which are the
  // hot path; the hash map is out of line.
  Block* FindLive(std::uint64_t id) {
    if (id < dense_slots_) [[likely]] {
      Block* b = &dense_[id];
      return b->live() ? b : nullptr;
    }
    return FindLiveSparse(id);
  }

  // Whether the slot of `id` stays where it is for the table's life (dense
  // ids), so that a collector may hold its address.
  bool IsStable(std::uint64_t id) const { return id < dense_slots_; }

  // Starts loading the slot of `id`: the engine knows the ids of the next
  // events in its batch, and a slot of an old object is a cache miss.
  // Branch-free: GCC 12 drops a prefetch that is the only statement under
  // an if, and a prefetch of the last slot for a sparse id costs nothing.
  void Prefetch(std::uint64_t id) const { __builtin_prefetch(&dense_[std::min(id, last_slot_)]); }

  // The slot for a new live block of `id` (the caller fills it, with a
  // non-null p), or null if `id` is live already.
  Block* Insert(std::uint64_t id) {
    if (id < dense_slots_) [[likely]] {
      Block* b = &dense_[id];
      dense_end_ = std::max(dense_end_, id + 1);
      return b->live() ? nullptr : b;
    }
    return InsertSparse(id);
  }

  // Marks the live block `b` of `id` freed at event `event`. Sparse ids keep
  // a bounded number of such records.
  void Bury(std::uint64_t id, Block* b, std::uint64_t event) {
    if (id < dense_slots_) [[likely]] {
      *b = Block::Freed(event);
    } else {
      BurySparse(id, b, event);
    }
  }

  // The event that last freed `id`, if it is not live and that is known.
  std::optional<std::uint64_t> FreedAt(std::uint64_t id) const {
    const Block* b = nullptr;
    if (id < dense_slots_) {
      b = &dense_[id];
    } else if (auto it = sparse_.find(id); it != sparse_.end()) {
      b = &it->second;
    }
    if (b == nullptr || !b->freed()) return std::nullopt;
    return b->freed_at();
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
      if (holds(dense_[id])) return std::make_pair(id, dense_[id]);
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
      if (dense_[id].live()) f(id, dense_[id]);
    }
    for (auto& [id, block] : sparse_) {
      if (block.live()) f(id, block);
    }
  }

  // Calls f(id, block) for the live blocks of dense ids from `from` on,
  // within `*budget` (reducing it); returns the id to resume at, or
  // dense_limit() when the dense ids are done.
  template <typename F>
  std::uint64_t ForEachDenseLive(std::uint64_t from, std::size_t* budget, F f) {
    // A live block costs one unit; so do every kDeadPerUnit dead slots
    // stepped over, so that a table of millions of dead ids is still
    // walked in bounded steps.
    constexpr std::uint64_t kDeadPerUnit = 32;
    std::uint64_t id = from, dead = 0;
    for (; id<dense_end_&& * budget> 0; ++id) {
      if (dense_[id].live()) {
        f(id, dense_[id]);
        --*budget;
      } else if (++dead == kDeadPerUnit) {
        dead = 0;
        --*budget;
      }
    }
    return id < dense_end_ ? id : dense_limit();
  }
  std::uint64_t dense_limit() const { return dense_slots_; }
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
    for (std::uint64_t id = 0; id < dense_end_; ++id) {
      if (dense_[id].live()) f(id, dense_[id]);
    }
    for (auto& [id, block] : sparse_) {
      if (block.live()) f(id, block);
    }
    sparse_.clear();
    if (dense_end_ > 0) madvise(dense_, dense_end_ * sizeof(Block), MADV_DONTNEED);
    dense_end_ = 0;
  }

 private:
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

  // 2^30 slots: 16 GiB of address space, of which only the pages of ids in
  // use are ever committed.
  static constexpr std::uint64_t kMaxDenseSlots = std::uint64_t{1} << 30;
  static constexpr std::uint64_t kMinDenseSlots = std::uint64_t{1} << 16;
  static constexpr std::size_t kMaxSparse = std::size_t{1} << 22;

  // Without a dense range, a slot that prefetches may point at.
  static inline Block no_slot_;
  Block* dense_ = &no_slot_;
  std::uint64_t dense_slots_ = 0;
  std::uint64_t last_slot_ = 0;  // Of the dense range, for prefetches.
  std::uint64_t dense_end_ = 0;  // Above the highest dense id used.
  absl::flat_hash_map<std::uint64_t, Block, absl::Hash<std::uint64_t>, std::equal_to<std::uint64_t>,
                      MmapAllocator<std::pair<const std::uint64_t, Block>>>
      sparse_;
};

}  // namespace replay

#endif  // REPLAY_ID_TABLE_H_
