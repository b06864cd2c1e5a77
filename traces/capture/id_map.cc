#include "traces/capture/id_map.h"

#include <sys/mman.h>

namespace capture {
namespace {

// Small: a program with a small heap keeps all 256 shards in cache.
constexpr std::size_t kInitialCapacity = 64;

template <typename T>
T* MapZeroed(std::size_t count) {
  void* p =
      mmap(nullptr, count * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<T*>(p);
}

}  // namespace

bool IdMap::Grow(Shard& shard) {
  const std::size_t capacity = shard.mask == 0 ? kInitialCapacity : 2 * (shard.mask + 1);
  Entry* table = MapZeroed<Entry>(capacity);
  if (table == nullptr) return false;
  const std::size_t mask = capacity - 1;
  if (shard.table != nullptr) {
    for (std::size_t i = 0; i <= shard.mask; ++i) {
      const Entry& e = shard.table[i];
      if (e.key == 0) continue;
      std::size_t j = Home(Hash(e.key), mask);
      while (table[j].key != 0) j = (j + 1) & mask;
      table[j] = e;
    }
    munmap(shard.table, (shard.mask + 1) * sizeof(Entry));
  }
  shard.table = table;
  shard.mask = mask;
  return true;
}

bool IdMap::Insert(std::uintptr_t address, std::uint64_t id) {
  const std::uint64_t hash = Hash(address);
  Shard& shard = ShardOf(shards_, hash);
  shard.lock.Lock();
  // Keep the load factor at most 3/4 so probes stay short.
  if ((shard.size + 1) * 4 > (shard.mask + 1) * 3 || shard.table == nullptr) {
    if (!Grow(shard)) {
      shard.lock.Unlock();
      return false;
    }
  }
  std::size_t i = Home(hash, shard.mask);
  while (shard.table[i].key != 0 && shard.table[i].key != address) i = (i + 1) & shard.mask;
  if (shard.table[i].key == 0) ++shard.size;
  shard.table[i] = Entry{address, id};
  shard.lock.Unlock();
  return true;
}

std::uint64_t IdMap::Remove(std::uintptr_t address) {
  const std::uint64_t hash = Hash(address);
  Shard& shard = ShardOf(shards_, hash);
  shard.lock.Lock();
  std::uint64_t id = 0;
  if (shard.table != nullptr) {
    const std::size_t mask = shard.mask;
    std::size_t i = Home(hash, mask);
    while (shard.table[i].key != 0 && shard.table[i].key != address) i = (i + 1) & mask;
    if (shard.table[i].key == address) {
      id = shard.table[i].id;
      --shard.size;
      // Backward-shift deletion: pull later entries of the cluster into the
      // hole when their home does not lie cyclically in (hole, j].
      for (std::size_t j = (i + 1) & mask; shard.table[j].key != 0; j = (j + 1) & mask) {
        const std::size_t home = Home(Hash(shard.table[j].key), mask);
        const bool home_in_range = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!home_in_range) {
          shard.table[i] = shard.table[j];
          i = j;
        }
      }
      shard.table[i] = Entry{0, 0};
    }
  }
  shard.lock.Unlock();
  return id;
}

std::uint64_t IdMap::Find(std::uintptr_t address) {
  const std::uint64_t hash = Hash(address);
  Shard& shard = ShardOf(shards_, hash);
  shard.lock.Lock();
  std::uint64_t id = 0;
  if (shard.table != nullptr) {
    std::size_t i = Home(hash, shard.mask);
    while (shard.table[i].key != 0 && shard.table[i].key != address) i = (i + 1) & shard.mask;
    id = shard.table[i].id;
  }
  shard.lock.Unlock();
  return id;
}

std::size_t IdMap::Size() {
  std::size_t n = 0;
  for (Shard& shard : shards_) {
    shard.lock.Lock();
    n += shard.size;
    shard.lock.Unlock();
  }
  return n;
}

void IdMap::LockAll() {
  for (Shard& shard : shards_) shard.lock.Lock();
}

void IdMap::UnlockAll() {
  for (Shard& shard : shards_) shard.lock.Unlock();
}

void IdMap::Clear() {
  for (Shard& shard : shards_) {
    shard.lock.Lock();
    if (shard.table != nullptr) munmap(shard.table, (shard.mask + 1) * sizeof(Entry));
    shard.table = nullptr;
    shard.mask = 0;
    shard.size = 0;
    shard.lock.Unlock();
  }
}

}  // namespace capture
