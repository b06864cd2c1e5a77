// A std allocator that takes memory straight from mmap, for the replay
// engine's own tables: the engine's bookkeeping must not land in the heap,
// or add to the time, of the allocator being measured (which, for system
// allocators, is this process's malloc). Meant for few, large allocations
// such as a hash table's backing array.
#ifndef REPLAY_MMAP_ALLOCATOR_H_
#define REPLAY_MMAP_ALLOCATOR_H_

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <new>

namespace replay {

// Has the kernel back the pages of [p, p + bytes) now, so that the first
// writes there take no page faults: for memory that is about to be written
// inside a timed pause. Best effort (kernels before 5.14 refuse).
inline void Prefault(void* p, std::size_t bytes) {
  if (bytes == 0) return;
  const auto page = static_cast<std::uintptr_t>(getpagesize());
  const auto begin = reinterpret_cast<std::uintptr_t>(p) & ~(page - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(p) + bytes;
  (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

template <typename T>
class MmapAllocator {
 public:
  using value_type = T;
  MmapAllocator() = default;
  template <typename U>
  MmapAllocator(const MmapAllocator<U>&) {}  // NOLINT: rebinding is implicit.

  T* allocate(std::size_t n) {
    void* p =
        mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) { munmap(p, n * sizeof(T)); }

  template <typename U>
  bool operator==(const MmapAllocator<U>&) const {
    return true;
  }
};

}  // namespace replay

#endif  // REPLAY_MMAP_ALLOCATOR_H_
