// Address -> object id map for librecord.so: a three-level radix table over
// the 48-bit address space at 16-byte granularity (like a page table), with
// nodes from mmap, created on first use and published with one CAS. No
// malloc and no lock: a slot belongs to the one live block at its address,
// so inserting and removing are plain atomic stores, and blocks that an
// allocator hands out side by side have their ids side by side (few cache
// misses, where a hash table misses once per operation). Constant-
// initialised, so it is usable before any constructor has run. It holds
// 64-bit words; what they mean is the recorder's (DESIGN.md: ids and
// tombstones).
//
// It relies on live blocks being at least 16 bytes apart, as glibc's are
// (its smallest chunk is 32 bytes); see DESIGN.md.
#ifndef TRACES_CAPTURE_ID_MAP_H_
#define TRACES_CAPTURE_ID_MAP_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace capture {

class SpinLock {
 public:
  void Lock() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) __builtin_ia32_pause();
    }
  }
  bool TryLock() { return !locked_.exchange(true, std::memory_order_acquire); }
  void Unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

class IdMap {
 public:
  // Address bits [47:36] pick a middle node, [35:22] a leaf, [21:4] a slot:
  // a leaf covers 4 MiB of address space with 2 MiB of ids, one huge page
  // where the leaf is dense (see Slot).
  static constexpr int kTopBits = 12;
  static constexpr int kMidBits = 14;
  static constexpr int kLeafBits = 18;
  static constexpr int kGranuleBits = 4;
  static constexpr int kAddressBits = kGranuleBits + kLeafBits + kMidBits + kTopBits;

  constexpr IdMap() = default;

  // The word for `address` (below 2^48, 16-byte aligned), zero until first
  // stored. With `create` its nodes are made if need be. Null if the address
  // is out of range, or its nodes do not exist (and not `create`) or cannot
  // be made. A slot is only ever used by the thread that owns the block at
  // its address, so callers load and store it, with no read-modify-write.
  // A leaf made for a `dense` address (a small block: its neighbours are
  // blocks too) asks for a huge page: a large live set's ids then cost few
  // TLB misses. Other leaves (isolated large blocks) touch 4 KiB pages only.
  std::atomic<std::uint64_t>* Slot(std::uintptr_t address, bool create, bool dense = false) {
    if ((address >> kAddressBits) != 0) return nullptr;
    Mid* mid =
        top_[address >> (kGranuleBits + kLeafBits + kMidBits)].load(std::memory_order_acquire);
    Leaf* leaf =
        mid == nullptr ? nullptr : mid->leaves[MidIndex(address)].load(std::memory_order_acquire);
    if (leaf != nullptr) return &leaf->ids[(address >> kGranuleBits) & ((1 << kLeafBits) - 1)];
    return create ? CreateSlot(address, dense) : nullptr;
  }
  // Slots holding a non-zero word: walks every leaf (for tests).
  std::size_t Size();
  // Returns every node to the system. Not thread-safe (for tests; the
  // recorder keeps its map until the process ends).
  void Clear();

 private:
  struct Leaf {
    std::atomic<std::uint64_t> ids[1 << kLeafBits];
  };
  struct Mid {
    std::atomic<Leaf*> leaves[1 << kMidBits];
  };

  static std::size_t MidIndex(std::uintptr_t address) {
    return (address >> (kGranuleBits + kLeafBits)) & ((1 << kMidBits) - 1);
  }
  // The slow path of Slot: makes the missing nodes.
  std::atomic<std::uint64_t>* CreateSlot(std::uintptr_t address, bool dense);

  std::atomic<Mid*> top_[1 << kTopBits] = {};
};

}  // namespace capture

#endif  // TRACES_CAPTURE_ID_MAP_H_
