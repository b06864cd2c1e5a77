#include "traces/capture/id_map.h"

#include <sys/mman.h>

namespace capture {
namespace {

// A zeroed node from mmap (all-zero bytes are null pointers and zero ids).
template <typename T>
T* MapNode() {
  void* p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<T*>(p);
}

// The node at `where`, created if need be; when two threads race to create
// it, one CAS wins and the loser returns its node to the system.
template <typename T>
T* Child(std::atomic<T*>& where) {
  T* node = where.load(std::memory_order_acquire);
  if (node != nullptr) return node;
  T* fresh = MapNode<T>();
  if (fresh == nullptr) return nullptr;
  if (where.compare_exchange_strong(node, fresh, std::memory_order_acq_rel)) return fresh;
  munmap(fresh, sizeof(T));
  return node;
}

}  // namespace

std::atomic<std::uint64_t>* IdMap::CreateSlot(std::uintptr_t address) {
  Mid* mid = Child(top_[address >> (kGranuleBits + kLeafBits + kMidBits)]);
  if (mid == nullptr) return nullptr;
  Leaf* leaf = Child(mid->leaves[MidIndex(address)]);
  if (leaf == nullptr) return nullptr;
  return &leaf->ids[(address >> kGranuleBits) & ((1 << kLeafBits) - 1)];
}

std::size_t IdMap::Size() {
  std::size_t n = 0;
  for (std::atomic<Mid*>& top : top_) {
    Mid* mid = top.load(std::memory_order_acquire);
    if (mid == nullptr) continue;
    for (std::atomic<Leaf*>& leaf_ptr : mid->leaves) {
      Leaf* leaf = leaf_ptr.load(std::memory_order_acquire);
      if (leaf == nullptr) continue;
      for (std::atomic<std::uint64_t>& id : leaf->ids) n += id.load(std::memory_order_relaxed) != 0;
    }
  }
  return n;
}

void IdMap::Clear() {
  for (std::atomic<Mid*>& top : top_) {
    Mid* mid = top.exchange(nullptr);
    if (mid == nullptr) continue;
    for (std::atomic<Leaf*>& leaf : mid->leaves) {
      if (Leaf* l = leaf.load(); l != nullptr) munmap(l, sizeof(Leaf));
    }
    munmap(mid, sizeof(Mid));
  }
}

}  // namespace capture
