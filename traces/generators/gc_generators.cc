#include "traces/generators/gc_generators.h"

#include <algorithm>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"

namespace traces {
namespace {

using replay::Event;
using replay::EventKind;

// Writes GC events with increasing ids and times, and a COLLECT every
// `collect_every` events if asked.
class GcEmitter {
 public:
  GcEmitter(replay::TraceWriter& writer, std::uint64_t collect_every)
      : writer_(writer), collect_every_(collect_every) {}

  // The new object is held by the mutator until the next Alloc.
  absl::StatusOr<std::uint64_t> Alloc(std::uint64_t size, std::uint32_t slots) {
    Event e;
    e.kind = EventKind::kAlloc;
    e.id = next_id_++;
    e.size = size;
    e.slots = slots;
    if (absl::Status s = Put(e); !s.ok()) return s;
    return e.id;
  }
  absl::Status Store(std::uint64_t source, std::uint32_t slot, std::uint64_t target) {
    Event e;
    e.kind = EventKind::kStore;
    e.id = source;
    e.size = slot;
    e.new_id = target;
    return Put(e);
  }
  absl::Status Root(std::uint64_t id) { return Op(EventKind::kRootAdd, id); }
  absl::Status Unroot(std::uint64_t id) { return Op(EventKind::kRootRemove, id); }
  std::uint64_t events() const { return events_; }

 private:
  absl::Status Op(EventKind kind, std::uint64_t id) {
    Event e;
    e.kind = kind;
    e.id = id;
    return Put(e);
  }
  absl::Status Put(Event& e) {
    e.time_ns = time_ += 20;
    ++events_;
    if (absl::Status s = writer_.Write(e); !s.ok()) return s;
    if (collect_every_ != 0 && events_ % collect_every_ == 0) {
      Event c;
      c.kind = EventKind::kCollect;
      c.time_ns = time_;
      ++events_;
      return writer_.Write(c);
    }
    return absl::OkStatus();
  }

  replay::TraceWriter& writer_;
  std::uint64_t collect_every_;
  std::uint64_t next_id_ = 1;
  std::uint64_t time_ = 0;
  std::uint64_t events_ = 0;
};

#define GC_RETURN_IF_ERROR(expr)              \
  do {                                        \
    if (absl::Status s_ = (expr); !s_.ok()) { \
      return s_;                              \
    }                                         \
  } while (0)
#define GC_ASSIGN_OR_RETURN(lhs, expr) \
  do {                                 \
    auto r_ = (expr);                  \
    if (!r_.ok()) return r_.status();  \
    lhs = *r_;                         \
  } while (0)

// GCBench's Node { Node left, right; int i, j; } on a 64-bit machine.
constexpr std::uint64_t kNodeSize = 32;
constexpr std::uint32_t kNodeSlots = 2;
constexpr std::uint64_t kArraySize = 500000;  // Doubles, one object without slots.
constexpr int kMinTreeDepth = 4;

class GcBench {
 public:
  explicit GcBench(GcEmitter& out) : out_(out) {}

  // Nodes in a complete binary tree of the given depth.
  static std::uint64_t TreeSize(int depth) { return (std::uint64_t{1} << (depth + 1)) - 1; }

  absl::Status Run(int max_depth) {
    const int stretch_depth = max_depth + 2, long_lived_depth = max_depth;
    // Stretch the heap with a temporary tree.
    GC_RETURN_IF_ERROR(TempTree(stretch_depth));
    // A long-lived tree and array, rooted (main's locals) to the end.
    std::uint64_t long_lived;
    GC_ASSIGN_OR_RETURN(long_lived, out_.Alloc(kNodeSize, kNodeSlots));
    GC_RETURN_IF_ERROR(out_.Root(long_lived));
    GC_RETURN_IF_ERROR(Populate(long_lived_depth, long_lived));
    std::uint64_t array;
    GC_ASSIGN_OR_RETURN(array, out_.Alloc(kArraySize * 8, 0));
    GC_RETURN_IF_ERROR(out_.Root(array));
    for (int depth = kMinTreeDepth; depth <= max_depth; depth += 2) {
      const std::uint64_t iterations = 2 * TreeSize(stretch_depth) / TreeSize(depth);
      for (std::uint64_t i = 0; i < iterations; ++i) {  // Top-down construction.
        std::uint64_t temp;
        GC_ASSIGN_OR_RETURN(temp, out_.Alloc(kNodeSize, kNodeSlots));
        GC_RETURN_IF_ERROR(out_.Root(temp));
        GC_RETURN_IF_ERROR(Populate(depth, temp));
        GC_RETURN_IF_ERROR(out_.Unroot(temp));
      }
      for (std::uint64_t i = 0; i < iterations; ++i) GC_RETURN_IF_ERROR(TempTree(depth));
    }
    return absl::OkStatus();
  }

 private:
  // tempTree = MakeTree(depth); tempTree = null;
  absl::Status TempTree(int depth) {
    std::uint64_t temp;
    GC_ASSIGN_OR_RETURN(temp, MakeTree(depth));
    GC_RETURN_IF_ERROR(out_.Root(temp));
    return out_.Unroot(temp);
  }

  // Build a tree top-down: node (reachable) is held on the stack while its
  // children are made and populated.
  absl::Status Populate(int depth, std::uint64_t node) {
    if (depth <= 0) return absl::OkStatus();
    GC_RETURN_IF_ERROR(out_.Root(node));
    std::uint64_t left, right;
    GC_ASSIGN_OR_RETURN(left, out_.Alloc(kNodeSize, kNodeSlots));
    GC_RETURN_IF_ERROR(out_.Store(node, 0, left));
    GC_ASSIGN_OR_RETURN(right, out_.Alloc(kNodeSize, kNodeSlots));
    GC_RETURN_IF_ERROR(out_.Store(node, 1, right));
    GC_RETURN_IF_ERROR(Populate(depth - 1, left));
    GC_RETURN_IF_ERROR(Populate(depth - 1, right));
    return out_.Unroot(node);
  }

  // Build a tree bottom-up; the result is the object just allocated (held
  // by the mutator), the subtrees are stack roots until stored.
  absl::StatusOr<std::uint64_t> MakeTree(int depth) {
    if (depth <= 0) return out_.Alloc(kNodeSize, kNodeSlots);
    std::uint64_t left, right, node;
    GC_ASSIGN_OR_RETURN(left, MakeTree(depth - 1));
    GC_RETURN_IF_ERROR(out_.Root(left));
    GC_ASSIGN_OR_RETURN(right, MakeTree(depth - 1));
    GC_RETURN_IF_ERROR(out_.Root(right));
    GC_ASSIGN_OR_RETURN(node, out_.Alloc(kNodeSize, kNodeSlots));
    GC_RETURN_IF_ERROR(out_.Store(node, 0, left));
    GC_RETURN_IF_ERROR(out_.Store(node, 1, right));
    GC_RETURN_IF_ERROR(out_.Unroot(left));
    GC_RETURN_IF_ERROR(out_.Unroot(right));
    return node;
  }

  GcEmitter& out_;
};

// Cons cells { car, cdr } and atoms of 16 bytes.
constexpr std::uint64_t kCellSize = 16;
constexpr std::uint32_t kSurvivorSlots = 64;

absl::Status GenerateCons(const GeneratorOptions& o, std::mt19937_64& random, GcEmitter& out) {
  // A rooted table where about one list in 16 survives until replaced.
  std::uint64_t table;
  GC_ASSIGN_OR_RETURN(table, out.Alloc(8 * kSurvivorSlots, kSurvivorSlots));
  GC_RETURN_IF_ERROR(out.Root(table));
  const std::uint64_t max_length = std::max<std::uint64_t>(o.live, 1);
  while (out.events() < o.events) {
    const std::uint64_t length = 1 + random() % max_length;
    std::uint64_t head = 0;  // Rooted (a local) while the list grows.
    for (std::uint64_t k = 0; k < length; ++k) {
      std::uint64_t cell;
      GC_ASSIGN_OR_RETURN(cell, out.Alloc(kCellSize, 2));
      if (head != 0) GC_RETURN_IF_ERROR(out.Store(cell, 1, head));
      GC_RETURN_IF_ERROR(out.Root(cell));
      if (head != 0) GC_RETURN_IF_ERROR(out.Unroot(head));
      head = cell;
      if (random() % 2 == 0) {  // A boxed atom in the car.
        std::uint64_t atom;
        GC_ASSIGN_OR_RETURN(atom, out.Alloc(kCellSize, 0));
        GC_RETURN_IF_ERROR(out.Store(cell, 0, atom));
      }
    }
    if (random() % 16 == 0) {
      GC_RETURN_IF_ERROR(
          out.Store(table, static_cast<std::uint32_t>(random() % kSurvivorSlots), head));
    }
    GC_RETURN_IF_ERROR(out.Unroot(head));
  }
  return absl::OkStatus();
}

// Cache entries { payload, link } of 32 bytes, payloads without slots.
constexpr std::uint64_t kEntrySize = 32;

absl::Status GenerateCache(const GeneratorOptions& o, std::mt19937_64& random, GcEmitter& out) {
  const auto capacity = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(o.live, 1, 1 << 24));
  std::uniform_int_distribution<std::uint64_t> payload_size(o.min_size, o.max_size);
  std::uint64_t cache;
  GC_ASSIGN_OR_RETURN(cache, out.Alloc(8 * std::uint64_t{capacity} + 16, capacity));
  GC_RETURN_IF_ERROR(out.Root(cache));
  std::vector<std::uint64_t> entries(capacity, 0);  // What each cache slot holds.
  auto put = [&](std::uint32_t i) -> absl::Status {
    std::uint64_t entry, payload;
    GC_ASSIGN_OR_RETURN(entry, out.Alloc(kEntrySize, 2));
    GC_RETURN_IF_ERROR(out.Store(cache, i, entry));  // The old entry dies (unless linked).
    entries[i] = entry;
    GC_ASSIGN_OR_RETURN(payload, out.Alloc(payload_size(random), 0));
    GC_RETURN_IF_ERROR(out.Store(entry, 0, payload));
    // An older entry now points to the young one.
    const std::uint64_t older = entries[random() % capacity];
    if (older != 0 && older != entry) GC_RETURN_IF_ERROR(out.Store(older, 1, entry));
    return absl::OkStatus();
  };
  for (std::uint32_t i = 0; i < capacity; ++i) GC_RETURN_IF_ERROR(put(i));
  while (out.events() < o.events) {
    GC_RETURN_IF_ERROR(put(static_cast<std::uint32_t>(random() % capacity)));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsGcWorkload(const std::string& workload) {
  return workload == "gcbench" || workload == "cons" || workload == "cache";
}

absl::Status GenerateGc(const GeneratorOptions& o, replay::TraceWriter& writer) {
  GcEmitter out(writer, o.collect_every);
  std::mt19937_64 random(o.seed);
  if (o.workload == "gcbench") {
    if (o.gc_depth < kMinTreeDepth || o.gc_depth > 24) {
      return absl::InvalidArgumentError(
          absl::StrCat("gen gcbench: --gc_depth must be in 4..24, not ", o.gc_depth));
    }
    return GcBench(out).Run(static_cast<int>(o.gc_depth));
  }
  if (o.workload == "cons") return GenerateCons(o, random, out);
  if (o.workload == "cache") return GenerateCache(o, random, out);
  return absl::InvalidArgumentError(absl::StrCat("gen: '", o.workload, "' is not a GC workload"));
}

}  // namespace traces
