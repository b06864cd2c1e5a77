// The replay engine's side of a GC trace: the mutator. It lays objects out
// in the engine's object format, keeps the roots (a multiset of ids) and
// the register (the object the last ALLOC returned, held until the next),
// registers them (strong) and the id table (weak) with the collector,
// applies STORE and ROOT events through the collector's barriers, lets it
// collect at allocations, times every pause, and with --verify checks the
// heap after every collection against its own graph of ids: the sanity
// check of MMTk. Semantics: traces/FORMAT.md, "GC traces".
#ifndef REPLAY_GC_MUTATOR_H_
#define REPLAY_GC_MUTATOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/gc/roots.h"
#include "replay/event.h"
#include "replay/gc_subject.h"
#include "replay/id_table.h"
#include "replay/mmap_allocator.h"

namespace replay {

// Pause and utilisation figures of one replay.
struct GcMetrics {
  std::uint64_t collections = 0;  // Finished collections.
  std::uint64_t pauses = 0;       // Polls or COLLECTs that did collection work.
  double gc_seconds = 0;
  double max_pause = 0;  // Seconds.
  double p99_pause = 0;
  double mmu_10ms = 1;  // Minimum mutator utilisation over 10 ms windows.
  double mmu_50ms = 1;
  std::uint64_t peak_survivors = 0;  // Most bytes left after a collection.
};

class GcMutator {
 public:
  // Invalid argument: the trace broke a rule (a semantic error); any other
  // code: the collector failed or was caught out (a fatal error).
  // `on_pause` (optional) hears of every pause: its event and length.
  GcMutator(GcSubject* gc, IdTable* table, bool verify,
            std::function<void(std::uint64_t, double)> on_pause = nullptr);
  ~GcMutator();
  GcMutator(const GcMutator&) = delete;
  GcMutator& operator=(const GcMutator&) = delete;

  absl::Status Alloc(const Event& e, std::uint64_t index);
  absl::Status Store(const Event& e, std::uint64_t index);
  absl::Status RootAdd(const Event& e, std::uint64_t index);
  absl::Status RootRemove(const Event& e, std::uint64_t index);
  absl::Status Collect(std::uint64_t index);

  // Called before the id table is emptied at the end of a replay: a
  // collector that holds table slots (Boehm's disappearing links) lets go.
  void DropTableSlots();

  // Bytes of objects allocated and not yet reclaimed.
  std::uint64_t occupancy() const { return occupancy_; }
  // Pause figures, utilisation over the wall-clock time since the mutator
  // was made.
  GcMetrics Metrics() const;

 private:
  struct Root {
    core::Addr addr;
    std::uint32_t count;
  };
  template <typename K, typename V>
  using Map = absl::flat_hash_map<K, V, absl::Hash<K>, std::equal_to<K>,
                                  MmapAllocator<std::pair<const K, V>>>;
  template <typename T>
  using Vector = std::vector<T, MmapAllocator<T>>;

  static void ScanRoots(core::gc::ScanState& ss, void* self);
  static bool ScanTable(core::gc::ScanState& ss, void* self, std::size_t* budget);

  // A live object by id, through the read barrier; 0 (with *why) if not.
  core::Addr Use(std::uint64_t id, std::string* why);
  // Runs `collect` (a Poll or a Collect) as one timed pause, then, when a
  // collection finished, accounts for it and (verify) checks the heap.
  template <typename F>
  absl::Status Pause(std::uint64_t index, F collect);
  // A pause in event `index`.
  void NotePause(std::uint64_t index, const TimedPause& pause);
  absl::Status AfterCollection();
  absl::Status Verify();

  GcSubject* gc_;
  IdTable* table_;
  const bool verify_;
  int roots_id_ = -1, table_id_ = -1;
  Map<std::uint64_t, Root> roots_;
  core::Addr register_ = 0;
  std::uint64_t register_id_ = 0;
  // Ids allocated since the last collection started; a collection that
  // condemns only the young can only have reclaimed the first young_mark_.
  Vector<std::uint64_t> young_;
  std::size_t young_mark_ = 0;
  // Ids that survived a collection and have not been found dead since.
  Vector<std::uint64_t> old_;
  // Where a resumed weak scan of the table continues: old_ is compacted
  // from old_read_ to old_write_ (unless old_done_), then young_ is read
  // from young_read_.
  std::size_t old_read_ = 0, old_write_ = 0, young_read_ = 0;
  bool old_done_ = false;
  std::uint64_t collecting_index_ = 0;  // Event of the running collection's end.
  std::uint64_t occupancy_ = 0;
  std::function<void(std::uint64_t, double)> on_pause_;
  // The pauses: start and length, seconds since the first.
  Vector<std::pair<double, double>> pauses_;
  double clock_origin_;
  GcMetrics metrics_;
  // --verify: the trace's own object graph, by ids.
  Map<std::uint64_t, std::vector<std::uint64_t>> graph_;
  Map<std::uint64_t, std::uint64_t> payload_;  // Id -> payload bytes.
};

}  // namespace replay

#endif  // REPLAY_GC_MUTATOR_H_
