#include "replay/gc_mutator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/gc/object_format.h"
#include "replay/block_pattern.h"
#include "replay/clock.h"

namespace replay {
namespace {

using core::Addr;
using core::gc::ObjectFormat;

absl::Status TraceError(const std::string& what) { return absl::InvalidArgumentError(what); }

// Minimum mutator utilisation (Cheng & Blelloch) over windows of `window`
// seconds in a run of `total` seconds with the given pauses (start, length;
// sorted, disjoint). The worst window starts at a pause's start or ends at a
// pause's end, so only those 2n windows are measured, each in O(log n) with
// prefix sums of pause time.
double Mmu(const std::vector<std::pair<double, double>>& pauses, double total, double window) {
  if (pauses.empty() || total <= 0) return 1;
  std::vector<double> before(pauses.size() + 1, 0);  // Pause time before pause i.
  for (std::size_t i = 0; i < pauses.size(); ++i) before[i + 1] = before[i] + pauses[i].second;
  // Paused time in [0, t).
  const auto paused_until = [&](double t) {
    const auto it = std::upper_bound(pauses.begin(), pauses.end(), t,
                                     [](double v, const auto& p) { return v < p.first; });
    const std::size_t n = static_cast<std::size_t>(it - pauses.begin());  // Started before t.
    if (n == 0) return 0.0;
    const auto& last = pauses[n - 1];
    return before[n - 1] + std::min(last.second, t - last.first);
  };
  if (total <= window) return std::max(0.0, 1 - before.back() / window);
  double worst = 0;
  for (const auto& [start, length] : pauses) {
    for (double lo : {start, start + length - window}) {
      lo = std::clamp(lo, 0.0, total - window);
      worst = std::max(worst, paused_until(lo + window) - paused_until(lo));
    }
  }
  return std::max(0.0, 1 - worst / window);
}

}  // namespace

GcMutator::GcMutator(GcSubject* gc, IdTable* table, bool verify,
                     std::function<void(std::uint64_t, double)> on_pause)
    : gc_(gc),
      table_(table),
      verify_(verify),
      on_pause_(std::move(on_pause)),
      clock_origin_(MonotonicSeconds()) {
  roots_id_ = gc_->roots().AddStrong(&ScanRoots, this);
  table_id_ = gc_->roots().AddWeak(&ScanTable, this);
}

GcMutator::~GcMutator() {
  gc_->roots().Remove(roots_id_);
  gc_->roots().Remove(table_id_);
}

void GcMutator::ScanRoots(core::gc::ScanState& ss, void* closure) {
  auto* self = static_cast<GcMutator*>(closure);
  for (auto& [id, root] : self->roots_) ss.Fix(&root.addr);
  ss.Fix(&self->register_);
}

bool GcMutator::ScanTable(core::gc::ScanState& ss, void* closure, std::size_t* budget) {
  auto* self = static_cast<GcMutator*>(closure);
  // Fixes the entry of `id`, burying it if its object died; true while it
  // lives on.
  const auto fix = [&](std::uint64_t id) {
    Block* block = self->table_->FindLive(id);
    if (block == nullptr) return false;
    ss.FixWeak(block->address());
    if (block->live()) return true;
    self->table_->Bury(id, block, self->collecting_index_);
    return false;
  };
  // The ids of every live entry are in old_ (survivors of a collection) or
  // young_ (allocated since), so the table is never walked by id: a trace
  // with millions of dead ids costs nothing here.
  if (!self->gc_->YoungOnly() && !self->old_done_) {
    // Old objects can die too: keep the survivors, in place.
    for (; self->old_read_ < self->old_.size(); ++self->old_read_) {
      if (*budget == 0) return false;
      --*budget;
      const std::uint64_t id = self->old_[self->old_read_];
      if (fix(id)) self->old_[self->old_write_++] = id;
    }
    self->old_.resize(self->old_write_);
    self->old_done_ = true;  // Young survivors are appended from here on.
  }
  // Objects allocated since the last collection; their survivors are old.
  for (std::uint64_t& at = self->young_read_; at < self->young_mark_; ++at) {
    if (*budget == 0) return false;
    --*budget;
    if (fix(self->young_[at])) self->old_.push_back(self->young_[at]);
  }
  self->old_read_ = self->old_write_ = self->young_read_ = 0;
  self->old_done_ = false;
  return true;
}

void GcMutator::DropTableSlots() {
  // Only a collector that keeps weak references its own way was given
  // slots (NoteAllocated); the others scan the table as a root.
  if (gc_->ScansRoots()) return;
  table_->ForEachLive([&](std::uint64_t id, Block& block) {
    if (table_->IsStable(id)) gc_->NoteTableSlotDropped(block.address());
  });
}

Addr GcMutator::Use(std::uint64_t id, std::string* why) {
  Block* block = table_->FindLive(id);
  if (block == nullptr) {
    if (std::optional<std::uint64_t> at = table_->FreedAt(id)) {
      *why = absl::StrCat("id ", id, " was reclaimed by the collection that ended at event ", *at,
                          ": a collector bug, or a trace that names an unreachable object "
                          "(check it with workbench validate)");
    } else {
      *why = absl::StrCat("id ", id, " was never allocated");
    }
    return 0;
  }
  gc_->BeforeUse(block->address());
  return reinterpret_cast<Addr>(block->p());
}

template <typename F>
absl::Status GcMutator::Pause(std::uint64_t index, F collect) {
  if (!gc_->Collecting()) {
    // A collection may start here. Room for all its young survivors now,
    // so that no step of its weak scan copies old_ to grow it.
    young_mark_ = young_.size();
    const std::size_t needed = old_.size() + young_mark_;
    if (gc_->ScansRoots()) {
      if (needed > old_.capacity()) old_.reserve(std::max(needed, 2 * old_.capacity()));
      // And where they go is in memory now: page faults on the engine's
      // list are not the collector's pause.
      Prefault(old_.data() + old_.size(), young_mark_ * sizeof(old_[0]));
    }
  }
  collecting_index_ = index;
  TimedPause pause;
  pause.start = MonotonicSeconds();
  bool collected = false;
  const std::uint64_t work_before = gc_->work_count();
  absl::Status status = collect(&collected);
  pause.length = MonotonicSeconds() - pause.start;
  const bool worked = gc_->work_count() != work_before;
  if (collected || worked) NotePause(index, pause);
  if (!status.ok()) return status;
  if (collected) return AfterCollection();
  // An incremental step may already have freed memory (AMS sweeps in
  // steps): occupancy must not stay above what the collector holds.
  if (worked) occupancy_ = std::min(occupancy_, gc_->HeapBytes());
  return absl::OkStatus();
}

void GcMutator::NotePause(std::uint64_t index, const TimedPause& pause) {
  pauses_.emplace_back(pause.start - clock_origin_, pause.length);
  metrics_.gc_seconds += pause.length;
  if (on_pause_) on_pause_(index, pause.length);
}

absl::Status GcMutator::AfterCollection() {
  ++metrics_.collections;
  young_.erase(young_.begin(), young_.begin() + static_cast<std::ptrdiff_t>(young_mark_));
  young_mark_ = 0;
  const std::uint64_t survivors = gc_->HeapBytes();
  occupancy_ = survivors;
  metrics_.peak_survivors = std::max(metrics_.peak_survivors, survivors);
  return verify_ ? Verify() : absl::OkStatus();
}

absl::Status GcMutator::Alloc(const Event& e, std::uint64_t index) {
  if (e.size < e.slots * 8) {
    return TraceError(absl::StrCat("ALLOC of id ", e.id, " with ", e.slots, " slots needs ",
                                   e.slots * 8, " bytes but has size ", e.size));
  }
  if (e.slots > ObjectFormat::kMaxSlots || e.size > ObjectFormat::kMaxSize) {
    return TraceError(absl::StrCat("ALLOC of id ", e.id, ": at most ", ObjectFormat::kMaxSlots,
                                   " slots and ", ObjectFormat::kMaxSize, " bytes"));
  }
  if (table_->FindLive(e.id) != nullptr) {
    return TraceError(absl::StrCat("allocation of id ", e.id, ", which is already live"));
  }
  // The register lets go of the last object; the collector may run.
  register_ = 0;
  register_id_ = 0;
  gc_->NoteRegister(0);
  if (gc_->PollDue()) {
    if (absl::Status s = Pause(index, [&](bool* collected) { return gc_->Poll(collected); });
        !s.ok()) {
      return s;
    }
  }
  const std::uint64_t payload = e.size - e.slots * 8;
  const std::size_t bytes = ObjectFormat::ObjectSize(e.slots, payload);
  const Addr obj = gc_->AllocateObject(bytes);
  if (obj == 0) return absl::ResourceExhaustedError(gc_->FailureReason());
  ObjectFormat::Init(obj, e.id, bytes, e.slots);
  if (verify_) {
    FillPattern(reinterpret_cast<void*>(ObjectFormat::PayloadStart(obj)), payload, e.id);
    graph_[e.id].assign(e.slots, 0);
    payload_[e.id] = payload;
  }
  Block* slot = table_->Insert(e.id);
  *slot = Block(reinterpret_cast<void*>(obj), e.size, ObjectFormat::kAlignment);
  gc_->NoteAllocated(obj, table_->IsStable(e.id) ? slot->address() : nullptr);
  young_.push_back(e.id);
  register_ = obj;
  register_id_ = e.id;
  gc_->NoteRegister(obj);
  occupancy_ += bytes;
  // Collections the collector ran inside the allocation (Boehm).
  std::vector<TimedPause> inside;
  gc_->TakePauses(&inside);
  for (const TimedPause& pause : inside) NotePause(index, pause);
  if (!inside.empty()) {
    young_mark_ = young_.size();
    return AfterCollection();
  }
  return absl::OkStatus();
}

absl::Status GcMutator::Store(const Event& e, std::uint64_t) {
  std::string why;
  Addr src = Use(e.id, &why);
  if (src == 0) return TraceError(absl::StrCat("STORE into ", why));
  if (e.size >= ObjectFormat::Slots(src)) {
    return TraceError(absl::StrCat("STORE into slot ", e.size, " of id ", e.id, ", which has ",
                                   ObjectFormat::Slots(src), " slots"));
  }
  Addr target = 0;
  if (e.new_id != 0) {
    target = Use(e.new_id, &why);
    if (target == 0) return TraceError(absl::StrCat("STORE of ", why));
    src = reinterpret_cast<Addr>(table_->FindLive(e.id)->p());  // In case it moved.
  }
  *ObjectFormat::Slot(src, e.size) = target;
  gc_->NoteStore(src, target);
  if (verify_) graph_[e.id][e.size] = e.new_id;
  return absl::OkStatus();
}

absl::Status GcMutator::RootAdd(const Event& e, std::uint64_t) {
  std::string why;
  const Addr obj = Use(e.id, &why);
  if (obj == 0) return TraceError(absl::StrCat("ROOT_ADD of ", why));
  Root& root = roots_[e.id];
  root.addr = obj;
  ++root.count;
  if (absl::Status s = gc_->NoteRoot(obj, true); !s.ok()) return s;
  return absl::OkStatus();
}

absl::Status GcMutator::RootRemove(const Event& e, std::uint64_t) {
  auto it = roots_.find(e.id);
  if (it == roots_.end()) {
    return TraceError(absl::StrCat("ROOT_REMOVE of id ", e.id, ", which is not a root"));
  }
  if (absl::Status s = gc_->NoteRoot(it->second.addr, false); !s.ok()) return s;
  if (--it->second.count == 0) roots_.erase(it);
  return absl::OkStatus();
}

absl::Status GcMutator::Collect(std::uint64_t index) {
  return Pause(index, [&](bool* collected) {
    absl::Status s = gc_->Collect(/*full=*/true);
    *collected = s.ok();
    return s;
  });
}

absl::Status GcMutator::Verify() {
  const auto bug = [&](const std::string& what) {
    // The engine names the file and the event.
    return absl::DataLossError(
        absl::StrCat("after a collection of ", gc_->name(), ": ", what, " (a collector bug)"));
  };
  if (absl::Status s = gc_->Check(); !s.ok()) return bug(std::string(s.message()));
  // The heap, traversed from the roots...
  std::vector<Addr> stack;
  for (const auto& [id, root] : roots_) stack.push_back(root.addr);
  if (register_ != 0) stack.push_back(register_);
  Map<std::uint64_t, bool> reached;
  while (!stack.empty()) {
    const Addr obj = stack.back();
    stack.pop_back();
    if (!gc_->IsValidObject(obj)) {
      return bug(absl::StrCat("a reference to 0x", absl::Hex(obj),
                              ", which is not an object the collector holds"));
    }
    const std::uint64_t id = ObjectFormat::Id(obj);
    const Block* block = table_->FindLive(id);
    if (block == nullptr || reinterpret_cast<Addr>(block->p()) != obj) {
      return bug(absl::StrCat("the object at 0x", absl::Hex(obj), " has id ", id,
                              ", which the id table does not map there"));
    }
    if (!reached.try_emplace(id, true).second) continue;
    auto node = graph_.find(id);
    if (node == graph_.end() || ObjectFormat::Slots(obj) != node->second.size()) {
      return bug(absl::StrCat("id ", id, " has ", ObjectFormat::Slots(obj), " slots"));
    }
    for (std::size_t s = 0; s < node->second.size(); ++s) {
      const Addr target = *ObjectFormat::Slot(obj, s);
      const std::uint64_t want = node->second[s];
      if ((target == 0) != (want == 0) || (target != 0 && ObjectFormat::Id(target) != want)) {
        return bug(absl::StrCat("slot ", s, " of id ", id, " refers to id ",
                                target == 0 ? 0 : ObjectFormat::Id(target), ", expected ", want));
      }
      if (target != 0) stack.push_back(target);
    }
    const std::uint64_t payload = payload_[id];
    const std::uint64_t at = PatternMismatch(
        reinterpret_cast<const void*>(ObjectFormat::PayloadStart(obj)), payload, id);
    if (at != payload) return bug(absl::StrCat("the payload of id ", id, " changed at ", at));
  }
  // ...reaches exactly what the trace's own graph reaches.
  std::vector<std::uint64_t> ids;
  for (const auto& [id, root] : roots_) ids.push_back(id);
  if (register_id_ != 0) ids.push_back(register_id_);
  Map<std::uint64_t, bool> expected;
  while (!ids.empty()) {
    const std::uint64_t id = ids.back();
    ids.pop_back();
    if (!expected.try_emplace(id, true).second) continue;
    if (!reached.contains(id)) {
      return bug(absl::StrCat("id ", id, " is reachable in the trace but not in the heap"));
    }
    for (std::uint64_t t : graph_[id]) {
      if (t != 0) ids.push_back(t);
    }
  }
  if (expected.size() != reached.size()) {
    return bug(absl::StrCat(reached.size(), " objects reachable in the heap, ", expected.size(),
                            " in the trace"));
  }
  // The weak scan finds every live entry through old_ and young_.
  if (gc_->ScansRoots()) {
    std::uint64_t live = 0;
    table_->ForEachLive([&](std::uint64_t, Block&) { ++live; });
    const bool all_live = std::all_of(old_.begin(), old_.end(), [&](std::uint64_t id) {
      return table_->FindLive(id) != nullptr;
    });
    if (!all_live || live != old_.size() + young_.size()) {
      return bug(absl::StrCat("the id table holds ", live,
                              " live entries, but the weak scan keeps ", old_.size(), " old and ",
                              young_.size(), " young ids", all_live ? "" : ", some of them dead"));
    }
  }
  return absl::OkStatus();
}

GcMetrics GcMutator::Metrics() const {
  GcMetrics m = metrics_;
  std::vector<std::pair<double, double>> pauses(pauses_.begin(), pauses_.end());
  m.pauses = pauses.size();
  std::vector<double> lengths;
  for (const auto& [start, length] : pauses) lengths.push_back(length);
  std::sort(lengths.begin(), lengths.end());
  if (!lengths.empty()) {
    m.max_pause = lengths.back();
    m.p99_pause = lengths[std::min(lengths.size() - 1, lengths.size() * 99 / 100)];
  }
  const double total = MonotonicSeconds() - clock_origin_;
  m.mmu_10ms = Mmu(pauses, total, 0.010);
  m.mmu_50ms = Mmu(pauses, total, 0.050);
  return m;
}

}  // namespace replay
