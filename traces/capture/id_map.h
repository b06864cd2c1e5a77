// Address -> object id map for librecord.so: 256 shards, each an
// open-addressing table (linear probing, backward-shift deletion) behind its
// own spinlock, with memory from mmap. No malloc, no global lock: threads
// that touch different shards never meet. Constant-initialised, so it is
// usable before any constructor has run.
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
  static constexpr int kShardBits = 8;
  static constexpr int kShards = 1 << kShardBits;

  constexpr IdMap() = default;

  // Maps `address` (non-zero) to `id` (non-zero), replacing any id it had
  // (an address freed behind our back). False if memory ran out.
  bool Insert(std::uintptr_t address, std::uint64_t id);
  // Removes `address` and returns its id, or 0 if it was not mapped.
  std::uint64_t Remove(std::uintptr_t address);
  // The id of `address`, or 0.
  std::uint64_t Find(std::uintptr_t address);
  // Addresses mapped (sums the shards; not atomic as a whole).
  std::size_t Size();

  // Around fork(): the child then owns every lock it inherited.
  void LockAll();
  void UnlockAll();

  // Returns the tables to the system (tests; not used by the recorder,
  // which keeps its map until the process ends).
  void Clear();

 private:
  struct Entry {
    std::uintptr_t key;  // 0: empty.
    std::uint64_t id;
  };
  struct alignas(64) Shard {
    SpinLock lock;
    std::size_t mask = 0;  // Capacity - 1; the table is null while 0.
    std::size_t size = 0;
    Entry* table = nullptr;
  };

  static std::uint64_t Hash(std::uintptr_t address) {
    return (address >> 4) * 0x9E3779B97F4A7C15ull;
  }
  static Shard& ShardOf(Shard* shards, std::uint64_t hash) {
    return shards[hash >> (64 - kShardBits)];
  }
  static std::size_t Home(std::uint64_t hash, std::size_t mask) { return (hash >> 20) & mask; }
  static bool Grow(Shard& shard);

  Shard shards_[kShards];
};

}  // namespace capture

#endif  // TRACES_CAPTURE_ID_MAP_H_
