#include "replay/gc_trace_check.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "replay/trace_io.h"

namespace replay {
namespace {

constexpr std::uint32_t kNone = 0xFFFFFFFF;
constexpr std::size_t kMaxErrors = 10;
// Id map values: 0 never allocated, table index + 1 while in the table, or
// kDeadBit | the number of the mark that found the object unreachable.
constexpr std::uint32_t kDeadBit = 0x80000000;
// Marks to drop the dead run when the table reaches twice the live objects
// of the last mark plus this.
constexpr std::size_t kMarkSlack = 65536;

// Object id -> state: a vector while ids stay compact (generators and most
// importers number objects 1, 2, 3 ...), a hash map beyond.
class IdMap {
 public:
  std::uint32_t Get(std::uint64_t id) const {
    if (id < dense_.size()) return dense_[id];
    auto it = sparse_.find(id);
    return it == sparse_.end() ? 0 : it->second;
  }
  // `id` is not in the map yet.
  void Insert(std::uint64_t id, std::uint32_t value) {
    ++entries_;
    if (id >= dense_.size() && id <= 2 * entries_ + (1 << 20)) Grow(id);
    Update(id, value);
  }
  void Update(std::uint64_t id, std::uint32_t value) {
    if (id < dense_.size()) {
      dense_[id] = value;
    } else {
      sparse_[id] = value;
    }
  }
  void Clear() {
    dense_ = {};
    sparse_ = {};
  }

 private:
  void Grow(std::uint64_t id) {
    dense_.resize(std::max<std::uint64_t>(id + 1, 2 * dense_.size()), 0);
    for (auto it = sparse_.begin(); it != sparse_.end();) {
      if (it->first < dense_.size()) {
        dense_[it->first] = it->second;
        sparse_.erase(it++);
      } else {
        ++it;
      }
    }
  }

  std::vector<std::uint32_t> dense_;
  absl::flat_hash_map<std::uint64_t, std::uint32_t> sparse_;
  std::uint64_t entries_ = 0;
};

// An object in the table (reachable, or a suspect not yet found dead).
struct Object {
  std::uint64_t id = 0;
  std::uint64_t size = 0;
  std::uint64_t first_slot = 0;     // Into the slot array.
  std::uint64_t suspect_since = 0;  // Event that made it a suspect.
  std::uint32_t slots = 0;
  std::uint32_t roots = 0;  // ROOT_ADDs minus ROOT_REMOVEs.
  // The slot that last stored a reference to it: the walk's way up.
  std::uint32_t support_owner = kNone;
  std::uint32_t support_slot = 0;
  std::uint32_t mark = 0;  // The mark number that last reached it.
  bool used = false;
  bool suspect = false;  // Maybe unreachable since the last mark.
};

bool IsGcKind(const Event& e) {
  return e.kind == EventKind::kStore || e.kind == EventKind::kRootAdd ||
         e.kind == EventKind::kRootRemove || e.kind == EventKind::kDeath ||
         e.kind == EventKind::kCollect || (e.kind == EventKind::kAlloc && e.slots != 0);
}

}  // namespace

class GcTraceChecker::Impl {
 public:
  Impl(std::string name, GcCheckOptions options) : name_(std::move(name)), options_(options) {}

  absl::Status Apply(const Event& e) {
    const std::uint64_t j = index_++;
    ++stats_.events;
    status_ = absl::OkStatus();
    const bool manual_kind = e.kind == EventKind::kFree || e.kind == EventKind::kRealloc;
    if (manual_kind) {
      if (mode_ == Mode::kGc) {
        return Fatal(j,
                     absl::StrCat(EventKindName(e.kind), " in a GC trace (GC events since event ",
                                  first_gc_event_, "): GC traces have no free or realloc"));
      }
      if (mode_ == Mode::kUndecided) {
        mode_ = Mode::kManual;
        first_manual_event_ = j;
        first_manual_kind_ = e.kind;
        Drop();
      }
      return status_;
    }
    const bool gc_kind = IsGcKind(e);
    if (mode_ == Mode::kManual) {
      if (!gc_kind) return status_;
      return Fatal(j,
                   absl::StrCat(EventKindName(e.kind), " in a trace with ",
                                EventKindName(first_manual_kind_), " events (the first at event ",
                                first_manual_event_, "): GC traces have no free or realloc"));
    }
    if (gc_kind && mode_ == Mode::kUndecided) {
      mode_ = Mode::kGc;
      stats_.gc_trace = true;
      first_gc_event_ = j;
      for (const std::string& message : pending_) Report(message);
      pending_.clear();
      if (!status_.ok()) return status_;
    }
    switch (e.kind) {
      case EventKind::kAlloc:
        Alloc(j, e);
        break;
      case EventKind::kStore:
        Store(j, e);
        break;
      case EventKind::kRootAdd:
        RootAdd(j, e);
        break;
      case EventKind::kRootRemove:
        RootRemove(j, e);
        break;
      case EventKind::kDeath:
        ++stats_.deaths;
        if (ids_.Get(e.id) == 0) Violation(j, absl::StrCat("DEATH of id ", e.id, NeverAllocated()));
        break;
      case EventKind::kCollect:
        ++stats_.collections;
        break;
      default:
        break;
    }
    if (status_.ok() && objects_.size() - free_.size() >= 2 * live_after_mark_ + kMarkSlack) {
      Mark(j + 1);
    }
    return status_;
  }

  absl::Status Finish() {
    if (mode_ == Mode::kGc) {
      Mark(index_);
      stats_.final_reachable_objects = mark_objects_;
      stats_.final_reachable_bytes = mark_bytes_;
    }
    return absl::OkStatus();
  }

  const GcCheckStats& stats() const { return stats_; }

 private:
  enum class Mode { kUndecided, kGc, kManual };

  static const char* NeverAllocated() { return ", which was never allocated"; }

  absl::Status Fatal(std::uint64_t j, const std::string& what) {
    status_ = absl::InvalidArgumentError(absl::StrCat(name_, ": event ", j, ": ", what));
    return status_;
  }

  // A violation at event j: the error (strict) or counted (lenient). Before
  // the trace is known to be a GC trace, kept until it is. The caller skips
  // the event either way.
  void Violation(std::uint64_t j, const std::string& what) {
    const std::string message = absl::StrCat(name_, ": event ", j, ": ", what);
    if (mode_ == Mode::kUndecided) {
      pending_.push_back(message);
    } else {
      Report(message);
    }
  }
  void Report(const std::string& message) {
    if (!options_.lenient) {
      if (status_.ok()) status_ = absl::InvalidArgumentError(message);
      return;
    }
    ++stats_.violations;
    if (stats_.first_errors.size() < kMaxErrors) stats_.first_errors.push_back(message);
  }

  void Drop() {
    ids_.Clear();
    objects_ = {};
    slots_ = {};
    free_ = {};
    pending_.clear();
    register_ = kNone;
  }

  // --- Events.

  void Alloc(std::uint64_t j, const Event& e) {
    if (e.id == 0) return Violation(j, "alloc of id 0 (in GC traces id 0 is null)");
    if (ids_.Get(e.id) != 0) {
      return Violation(j, absl::StrCat("alloc of id ", e.id,
                                       ", which was allocated before (an id names one object)"));
    }
    ++stats_.objects;
    stats_.bytes_allocated += e.size;
    stats_.slots += e.slots;
    // The register moves on to the new object: the old one may die.
    const std::uint32_t old = register_;
    register_ = kNone;
    const bool old_alive = old == kNone || ProvenAlive(old);
    if (!old_alive && PeakMarkDue()) {
      register_ = old;
      Mark(j);
      register_ = kNone;
    }
    register_ = NewObject(e);
    if (!old_alive) Suspect(old, j);
    since_mark_bytes_ += e.size;
    ++since_mark_objects_;
  }

  void Store(std::uint64_t j, const Event& e) {
    ++stats_.stores;
    std::uint32_t source, target = kNone;
    if (!Reachable(j, e.id, "STORE into", &source)) return;
    if (e.size >= objects_[source].slots) {
      const std::uint32_t n = objects_[source].slots;
      return Violation(j, absl::StrCat("STORE into slot ", e.size, " of id ", e.id, ", which has ",
                                       n, n == 1 ? " slot" : " slots",
                                       n == 0 ? "" : absl::StrCat(" (expected 0..", n - 1, ")")));
    }
    if (e.new_id != 0 && !Reachable(j, e.new_id, "STORE of", &target)) return;
    if (target == kNone) ++stats_.null_stores;
    const auto slot = static_cast<std::uint32_t>(e.size);
    std::uint32_t& cell = slots_[objects_[source].first_slot + slot];
    const std::uint32_t old = cell;
    cell = target;
    if (target != kNone) {
      objects_[target].support_owner = source;
      objects_[target].support_slot = slot;
      // Suspects reach only suspects, so that a suspect's death is seen.
      if (objects_[source].suspect) Suspect(target, j);
    }
    if (old == kNone || old == target || ProvenAlive(old)) return;
    if (PeakMarkDue()) {
      slots_[objects_[source].first_slot + slot] = old;
      Mark(j);
      slots_[objects_[source].first_slot + slot] = target;
    }
    Suspect(old, j);
  }

  void RootAdd(std::uint64_t j, const Event& e) {
    ++stats_.root_adds;
    std::uint32_t o;
    if (!Reachable(j, e.id, "ROOT_ADD of", &o)) return;
    ++objects_[o].roots;
  }

  void RootRemove(std::uint64_t j, const Event& e) {
    ++stats_.root_removes;
    const std::uint32_t v = ids_.Get(e.id);
    if (v == 0) return Violation(j, absl::StrCat("ROOT_REMOVE of id ", e.id, NeverAllocated()));
    if ((v & kDeadBit) != 0 || objects_[v - 1].roots == 0) {
      return Violation(j, absl::StrCat("ROOT_REMOVE of id ", e.id,
                                       ", which is not a root (each ROOT_REMOVE takes back one "
                                       "earlier ROOT_ADD)"));
    }
    const std::uint32_t o = v - 1;
    if (--objects_[o].roots > 0 || ProvenAlive(o)) return;
    if (PeakMarkDue()) {
      ++objects_[o].roots;
      Mark(j);
      --objects_[o].roots;
    }
    Suspect(o, j);
  }

  // --- Reachability.

  // Whether `id` is reachable before event j; sets *index. Otherwise a
  // violation ("WHAT id N, which ...") and false.
  bool Reachable(std::uint64_t j, std::uint64_t id, const char* what, std::uint32_t* index) {
    std::uint32_t v = ids_.Get(id);
    if (v == 0) {
      Violation(j, absl::StrCat(what, " id ", id, NeverAllocated()));
      return false;
    }
    if ((v & kDeadBit) != 0) {
      const std::uint32_t mark = v & ~kDeadBit;
      const std::uint64_t from = mark >= 2 ? marks_[mark - 2] : 0;
      Violation(j, Unreachable(what, id, from, marks_[mark - 1]));
      return false;
    }
    if (!objects_[v - 1].suspect || ProvenAlive(v - 1)) {
      *index = v - 1;
      return true;
    }
    const std::uint64_t since = objects_[v - 1].suspect_since;
    Mark(j);
    v = ids_.Get(id);
    if ((v & kDeadBit) != 0) {
      Violation(j, Unreachable(what, id, since, j));
      return false;
    }
    *index = v - 1;
    return true;
  }

  // It died at one of events from..(before - 1).
  static std::string Unreachable(const char* what, std::uint64_t id, std::uint64_t from,
                                 std::uint64_t before) {
    const std::uint64_t last = before > from ? before - 1 : from;
    return absl::StrCat(what, " id ", id, ", which is unreachable (it became unreachable ",
                        from == last ? absl::StrCat("at event ", from)
                                     : absl::StrCat("at one of events ", from, "..", last),
                        ")");
  }

  // A current path from a root or the register to `x`, up support edges.
  bool ProvenAlive(std::uint32_t x) const {
    std::uint32_t cur = x;
    for (int step = 0;; ++step) {
      const Object& o = objects_[cur];
      if (o.roots > 0 || cur == register_) return true;
      if (step == options_.walk_limit || o.support_owner == kNone) return false;
      const Object& owner = objects_[o.support_owner];
      if (!owner.used || o.support_slot >= owner.slots ||
          slots_[owner.first_slot + o.support_slot] != cur) {
        return false;
      }
      cur = o.support_owner;
    }
  }

  // `x` and everything it reaches may have died at event j.
  void Suspect(std::uint32_t x, std::uint64_t j) {
    auto add = [&](std::uint32_t o) {
      if (objects_[o].suspect) return;
      objects_[o].suspect = true;
      objects_[o].suspect_since = j;
      stack_.push_back(o);
    };
    add(x);
    while (!stack_.empty()) {
      const Object& o = objects_[stack_.back()];
      stack_.pop_back();
      for (std::uint64_t s = o.first_slot; s < o.first_slot + o.slots; ++s) {
        if (slots_[s] != kNone) add(slots_[s]);
      }
    }
  }

  bool PeakMarkDue() const {
    if (since_mark_objects_ == 0) return false;
    const double tolerance = options_.peak_tolerance;
    return static_cast<double>(since_mark_bytes_) > tolerance * static_cast<double>(mark_bytes_) ||
           static_cast<double>(since_mark_objects_) >
               tolerance * static_cast<double>(mark_objects_);
  }

  // Marks the state before event j: the unreached are dead (their ids
  // remember this mark), the rest stop being suspects; slots are compacted.
  void Mark(std::uint64_t j) {
    marks_.push_back(j);
    ++stats_.marks;
    const auto number = static_cast<std::uint32_t>(marks_.size());
    auto reach = [&](std::uint32_t o) {
      if (objects_[o].mark == number) return;
      objects_[o].mark = number;
      stack_.push_back(o);
    };
    if (register_ != kNone) reach(register_);
    for (std::uint32_t i = 0; i < objects_.size(); ++i) {
      if (objects_[i].used && objects_[i].roots > 0) reach(i);
    }
    mark_objects_ = 0;
    mark_bytes_ = 0;
    while (!stack_.empty()) {
      const Object& o = objects_[stack_.back()];
      stack_.pop_back();
      ++mark_objects_;
      mark_bytes_ += o.size;
      for (std::uint64_t s = o.first_slot; s < o.first_slot + o.slots; ++s) {
        if (slots_[s] != kNone) reach(slots_[s]);
      }
    }
    std::vector<std::uint32_t> compacted;
    compacted.reserve(slots_.size() / 2);
    for (std::uint32_t i = 0; i < objects_.size(); ++i) {
      Object& o = objects_[i];
      if (!o.used) continue;
      if (o.mark != number) {
        ids_.Update(o.id, kDeadBit | number);
        o = Object();
        free_.push_back(i);
        continue;
      }
      o.suspect = false;
      const std::uint64_t first = compacted.size();
      compacted.insert(compacted.end(), slots_.begin() + static_cast<std::ptrdiff_t>(o.first_slot),
                       slots_.begin() + static_cast<std::ptrdiff_t>(o.first_slot + o.slots));
      o.first_slot = first;
    }
    slots_ = std::move(compacted);
    live_after_mark_ = mark_objects_;
    since_mark_bytes_ = 0;
    since_mark_objects_ = 0;
    stats_.peak_reachable_objects = std::max(stats_.peak_reachable_objects, mark_objects_);
    stats_.peak_reachable_bytes = std::max(stats_.peak_reachable_bytes, mark_bytes_);
  }

  std::uint32_t NewObject(const Event& e) {
    std::uint32_t i;
    if (free_.empty()) {
      i = static_cast<std::uint32_t>(objects_.size());
      objects_.emplace_back();
    } else {
      i = free_.back();
      free_.pop_back();
    }
    Object& o = objects_[i];
    o.id = e.id;
    o.size = e.size;
    o.slots = e.slots;
    o.first_slot = slots_.size();
    o.used = true;
    slots_.resize(slots_.size() + e.slots, kNone);
    ids_.Insert(e.id, i + 1);
    return i;
  }

  std::string name_;
  GcCheckOptions options_;
  GcCheckStats stats_;
  absl::Status status_;
  Mode mode_ = Mode::kUndecided;
  std::uint64_t index_ = 0;
  std::uint64_t first_gc_event_ = 0;
  std::uint64_t first_manual_event_ = 0;
  EventKind first_manual_kind_ = EventKind::kFree;
  std::vector<std::string> pending_;  // Violations before the trace was known to be GC.

  IdMap ids_;
  std::vector<Object> objects_;
  std::vector<std::uint32_t> free_;   // Unused table entries.
  std::vector<std::uint32_t> slots_;  // Table indices, kNone for null.
  std::vector<std::uint32_t> stack_;
  std::uint32_t register_ = kNone;    // The object the mutator holds since its ALLOC.
  std::vector<std::uint64_t> marks_;  // Mark n ran before event marks_[n - 1].
  std::uint64_t mark_objects_ = 0, mark_bytes_ = 0;  // Reached by the last mark.
  std::uint64_t live_after_mark_ = 0;
  std::uint64_t since_mark_objects_ = 0, since_mark_bytes_ = 0;
};

GcTraceChecker::GcTraceChecker(std::string name, GcCheckOptions options)
    : impl_(std::make_unique<Impl>(std::move(name), options)) {}
GcTraceChecker::~GcTraceChecker() = default;
absl::Status GcTraceChecker::Apply(const Event& event) { return impl_->Apply(event); }
absl::Status GcTraceChecker::Finish() { return impl_->Finish(); }
const GcCheckStats& GcTraceChecker::stats() const { return impl_->stats(); }

absl::StatusOr<GcCheckStats> CheckGcTrace(const std::string& path, GcCheckOptions options) {
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = TraceReader::Open(path);
  if (!reader.ok()) return reader.status();
  GcTraceChecker checker(path, options);
  std::vector<Event> batch;
  while (true) {
    if (absl::Status s = (*reader)->Next(&batch); !s.ok()) return s;
    if (batch.empty()) break;
    for (const Event& e : batch) {
      if (absl::Status s = checker.Apply(e); !s.ok()) return s;
    }
  }
  if (absl::Status s = checker.Finish(); !s.ok()) return s;
  return checker.stats();
}

}  // namespace replay
