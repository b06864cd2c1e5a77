#include "replay/boehm_subject.h"

#include <gc/gc.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "replay/clock.h"
#include "replay/gc_subject.h"

namespace replay {
namespace {

// Boehm reports collections through one global callback.
std::vector<TimedPause>* g_pauses = nullptr;
TimedPause g_pause;
std::uint64_t g_collections = 0;
std::uint64_t g_faults = 0;  // In collections.
std::uint64_t g_faults_at_start = 0;

void OnCollectionEvent(GC_EventType event) {
  if (event == GC_EVENT_START) {
    g_faults_at_start = MinorFaults();
    g_pause.start = MonotonicSeconds();
  } else if (event == GC_EVENT_END) {
    ++g_collections;
    g_pause.length = MonotonicSeconds() - g_pause.start;
    g_faults += MinorFaults() - g_faults_at_start;
    if (g_pauses != nullptr) g_pauses->push_back(g_pause);
  }
}

// The engine's roots where Boehm scans them: a cell for each distinct
// rooted address, in one uncollectable array. (A cell allocated with
// Boehm for each ROOT_ADD and freed at its ROOT_REMOVE was a tenth of
// GCBench's replay, all of it charged to Boehm.)
class RootCells {
 public:
  RootCells() = default;
  ~RootCells() {
    if (cells_ != nullptr) GC_FREE(cells_);
  }
  RootCells(const RootCells&) = delete;
  RootCells& operator=(const RootCells&) = delete;

  // Roots `obj` once more; false if Boehm has no memory for a new cell.
  bool Add(core::Addr obj) {
    auto [it, inserted] = slots_.try_emplace(obj, Slot{0, 0});
    if (inserted) {
      if (free_.empty() && !Grow()) {
        slots_.erase(it);
        return false;
      }
      it->second.index = free_.back();
      free_.pop_back();
      cells_[it->second.index] = obj;
    }
    ++it->second.count;
    return true;
  }
  // Unroots `obj` once (it was rooted).
  void Remove(core::Addr obj) {
    auto it = slots_.find(obj);
    if (it == slots_.end() || --it->second.count > 0) return;
    cells_[it->second.index] = 0;
    free_.push_back(it->second.index);
    slots_.erase(it);
  }

 private:
  struct Slot {
    std::uint32_t index;
    std::uint32_t count;
  };

  bool Grow() {
    const std::size_t capacity = std::max<std::size_t>(64, 2 * capacity_);
    if (capacity > std::numeric_limits<std::uint32_t>::max()) return false;
    auto* cells = static_cast<core::Addr*>(GC_MALLOC_UNCOLLECTABLE(capacity * sizeof(core::Addr)));
    if (cells == nullptr) return false;
    std::copy(cells_, cells_ + capacity_, cells);
    std::fill(cells + capacity_, cells + capacity, core::Addr{0});
    // Highest first, so the lowest cells are taken first.
    for (std::size_t i = capacity; i > capacity_; --i)
      free_.push_back(static_cast<std::uint32_t>(i - 1));
    if (cells_ != nullptr) GC_FREE(cells_);
    cells_ = cells;
    capacity_ = capacity;
    return true;
  }

  absl::flat_hash_map<core::Addr, Slot> slots_;
  std::vector<std::uint32_t> free_;
  core::Addr* cells_ = nullptr;
  std::size_t capacity_ = 0;
};

class BoehmSubject final : public GcSubject {
 public:
  explicit BoehmSubject(const PolicySpec& spec) : GcSubject(spec.text) {
    GC_INIT();
    GC_set_on_collection_event(&OnCollectionEvent);
    g_pauses = &pauses_;
    collections_at_start_ = g_collections;
    faults_at_start_ = g_faults;
    allocated_at_start_ = GC_get_total_bytes();
    register_ = static_cast<core::Addr*>(GC_MALLOC_UNCOLLECTABLE(sizeof(core::Addr)));
  }
  ~BoehmSubject() override {
    g_pauses = nullptr;
    GC_FREE(register_);
  }

  core::gc::Roots& roots() override { return unused_roots_; }
  // Boehm finds roots itself, and clears the id table through
  // disappearing links.
  bool ScansRoots() const override { return false; }
  bool PollDue() const override { return false; }  // Boehm collects inside GC_MALLOC.
  absl::Status Poll(bool* collected) override {
    *collected = false;
    return absl::OkStatus();
  }
  absl::Status Collect(bool) override {
    ++collect_calls_;
    // The engine times this pause itself: the callback's record of it
    // would count it twice.
    const std::size_t recorded = pauses_.size();
    GC_gcollect();
    pauses_.resize(recorded);
    return absl::OkStatus();
  }
  bool Collecting() const override { return false; }
  // Boehm's own pauses come through TakePauses.
  std::uint64_t work_count() const override { return collect_calls_; }
  bool YoungOnly() const override { return false; }

  core::Addr AllocateObject(std::size_t bytes) override {
    void* p = GC_MALLOC(bytes);
    if (p == nullptr) failure_ = absl::StrCat("GC_MALLOC(", bytes, ") returned null");
    return reinterpret_cast<core::Addr>(p);
  }
  void NoteStore(core::Addr, core::Addr) override {}
  void BeforeUse(core::Addr*) override {}
  bool IsValidObject(core::Addr a) const override {
    return GC_base(reinterpret_cast<void*>(a)) == reinterpret_cast<void*>(a);
  }

  absl::Status NoteRoot(core::Addr obj, bool added) override {
    if (!added) {
      roots_.Remove(obj);
    } else if (!roots_.Add(obj)) {
      return absl::ResourceExhaustedError("Boehm has no memory for another root");
    }
    return absl::OkStatus();
  }
  void NoteRegister(core::Addr obj) override { *register_ = obj; }
  void NoteAllocated(core::Addr obj, core::Addr* table_slot) override {
    // The hidden link keeps the id table weak: Boehm clears the slot when
    // the object dies.
    if (table_slot != nullptr) {
      (void)GC_general_register_disappearing_link(reinterpret_cast<void**>(table_slot),
                                                  reinterpret_cast<void*>(obj));
    }
  }
  void NoteTableSlotDropped(core::Addr* table_slot) override {
    // The table is going: Boehm must not clear the slot after that.
    (void)GC_unregister_disappearing_link(reinterpret_cast<void**>(table_slot));
  }
  void TakePauses(std::vector<TimedPause>* out) override {
    out->insert(out->end(), pauses_.begin(), pauses_.end());
    pauses_.clear();
  }

  std::string FailureReason() const override { return failure_; }
  // What Boehm holds from the system: its heap less what it unmapped.
  std::size_t Footprint() const override {
    const std::size_t footprint = GC_get_heap_size() - GC_get_unmapped_bytes();
    peak_ = std::max(peak_, footprint);
    return footprint;
  }
  std::size_t PeakFootprint() const override { return peak_; }
  std::uint64_t HeapBytes() const override { return GC_get_heap_size() - GC_get_free_bytes(); }
  // This replay's share of Boehm's process-wide figures (in one process,
  // as under --in_process, replays share its heap).
  std::vector<std::pair<std::string, std::uint64_t>> GcCounters() const override {
    return {{"collections", g_collections - collections_at_start_},
            {"heap bytes", HeapBytes()},
            {"total allocated", GC_get_total_bytes() - allocated_at_start_}};
  }
  std::vector<std::pair<std::string, std::uint64_t>> Counters() const override {
    auto counters = GcCounters();
    counters.emplace_back("pause faults", g_faults - faults_at_start_);
    return counters;
  }

 private:
  core::gc::Roots unused_roots_;  // Boehm finds roots by itself.
  core::Addr* register_;
  RootCells roots_;
  std::vector<TimedPause> pauses_;
  std::string failure_;
  mutable std::size_t peak_ = 0;
  std::uint64_t collect_calls_ = 0;
  std::uint64_t collections_at_start_ = 0;
  std::uint64_t allocated_at_start_ = 0;
  std::uint64_t faults_at_start_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Subject>> MakeBoehmSubject(const PolicySpec& spec) {
  if (absl::Status s = spec.CheckKnownKeys({}); !s.ok()) return s;
#if defined(__SANITIZE_ADDRESS__)
  return absl::UnavailableError(absl::StrCat(
      "policy '", spec.text,
      "': the Boehm collector is not replayed in a sanitizer build (it scans memory the "
      "sanitizer poisons)"));
#else
  return std::make_unique<BoehmSubject>(spec);
#endif
}

}  // namespace replay
