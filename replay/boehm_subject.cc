#include "replay/boehm_subject.h"

#include <gc/gc.h>

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
    for (auto& [addr, cells] : roots_) {
      for (core::Addr* cell : cells) GC_FREE(cell);
    }
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

  void NoteRoot(core::Addr obj, bool added) override {
    std::vector<core::Addr*>& cells = roots_[obj];
    if (added) {
      auto* cell = static_cast<core::Addr*>(GC_MALLOC_UNCOLLECTABLE(sizeof(core::Addr)));
      *cell = obj;
      cells.push_back(cell);
    } else if (!cells.empty()) {
      GC_FREE(cells.back());
      cells.pop_back();
      if (cells.empty()) roots_.erase(obj);
    }
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
  absl::flat_hash_map<core::Addr, std::vector<core::Addr*>> roots_;
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
