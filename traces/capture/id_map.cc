#include "traces/capture/id_map.h"

#include <sys/mman.h>

namespace capture {
namespace {

void* MapZeroed(std::size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// A zeroed node from mmap (all-zero bytes are null pointers and zero ids).
// A `huge` one is aligned to its size and asks for transparent huge pages
// (where the system has none, it gets small pages as any other).
template <typename T>
T* MapNode(bool huge) {
  if (!huge) return static_cast<T*>(MapZeroed(sizeof(T)));
  char* p = static_cast<char*>(MapZeroed(2 * sizeof(T)));
  if (p == nullptr) return nullptr;
  const std::uintptr_t start =
      (reinterpret_cast<std::uintptr_t>(p) + sizeof(T) - 1) & ~(sizeof(T) - 1);
  char* node = reinterpret_cast<char*>(start);
  if (node != p) munmap(p, node - p);
  munmap(node + sizeof(T), p + sizeof(T) - node);
  madvise(node, sizeof(T), MADV_HUGEPAGE);
  return reinterpret_cast<T*>(node);
}

// The node at `where`, created if need be; when two threads race to create
// it, one CAS wins and the loser returns its node to the system.
template <typename T>
T* Child(std::atomic<T*>& where, bool huge) {
  T* node = where.load(std::memory_order_acquire);
  if (node != nullptr) return node;
  T* fresh = MapNode<T>(huge);
  if (fresh == nullptr) return nullptr;
  if (where.compare_exchange_strong(node, fresh, std::memory_order_acq_rel)) return fresh;
  munmap(fresh, sizeof(T));
  return node;
}

}  // namespace

std::atomic<std::uint64_t>* IdMap::CreateSlot(std::uintptr_t address, bool dense) {
  Mid* mid = Child(top_[address >> (kGranuleBits + kLeafBits + kMidBits)], /*huge=*/false);
  if (mid == nullptr) return nullptr;
  Leaf* leaf = Child(mid->leaves[MidIndex(address)], dense);
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
