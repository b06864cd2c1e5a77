// AMC against a reference model: a seeded random mutator allocates objects
// (some large), stores references, adds and removes roots, pins, and asks
// for minor, full and incremental collections, on both the pool and a model
// graph of ids. After every collection a sanity traversal in the manner of
// MMTk's checks that what the roots reach in the heap is exactly what they
// reach in the model, with intact headers and payloads, no reference into
// condemned or freed memory, and a weak table that followed every move and
// cleared every death.
#include "core/pools/amc.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "core/gc/object_format.h"
#include "gtest/gtest.h"
#include "tests/util/seed.h"

namespace core {
namespace {

using gc::ObjectFormat;

std::uint8_t PayloadByte(std::uint64_t id, std::uint64_t i) {
  return static_cast<std::uint8_t>((id * 131 + i * 7) ^ (id >> 3));
}

// The object format seen only through gc::Format's virtual calls: the
// pool cannot tell it is an ObjectFormat, so it takes its generic fix path
// (the engine's format gets an inlined one).
class OpaqueFormat final : public gc::Format {
 public:
  std::size_t alignment() const override { return inner_.alignment(); }
  std::size_t min_size() const override { return inner_.min_size(); }
  bool IsObject(Addr p) const override { return inner_.IsObject(p); }
  std::size_t Size(Addr obj) const override { return inner_.Size(obj); }
  void Scan(gc::ScanState& ss, Addr base, Addr limit) const override {
    inner_.Scan(ss, base, limit);
  }
  void Forward(Addr obj, Addr to) const override { inner_.Forward(obj, to); }
  Addr IsForwarded(Addr obj) const override { return inner_.IsForwarded(obj); }
  void Pad(Addr base, std::size_t size) const override { inner_.Pad(base, size); }

 private:
  ObjectFormat inner_;
};

class Mutator {
 public:
  Mutator(std::uint64_t seed, AmcOptions options, bool opaque_format = false) : rng_(seed) {
    EXPECT_EQ(Arena::CreateVirtual(ArenaOptions{}, &arena_), Res::kOk);
    roots_.AddStrong(&ScanRoots, this);
    roots_.AddWeak(&ScanTable, this);
    const gc::Format* format = &format_;
    if (opaque_format) format = &opaque_format_;
    EXPECT_EQ(Amc::Create(arena_.get(), format, &roots_, options, &pool_), Res::kOk);
    table_.push_back(0);  // Ids start at 1.
    slots_.emplace_back();
  }

  Amc& pool() { return *pool_; }
  Arena& arena() { return *arena_; }

  // One random mutator action; may also step or start collections.
  void Act(bool incremental) {
    const int what = static_cast<int>(rng_() % 100);
    if (pool_->NeedsCollection() || what < 1) {
      if (incremental) {
        ASSERT_EQ(pool_->StartCollection(what < 1), Res::kOk);
      } else {
        ASSERT_EQ(pool_->Collect(what < 1), Res::kOk);
        Verify();
      }
    }
    if (incremental && pool_->phase() != gc::Phase::kIdle) {
      bool done = false;
      ASSERT_EQ(pool_->Step(1 + rng_() % 4096, &done), Res::kOk);
      if (done) {
        Verify();
      } else {
        CheckColors();
      }
    }
    const std::vector<std::uint64_t> live = Reachable();
    if (what < 45 || live.empty()) {
      Allocate();
    } else if (what < 80) {
      const std::uint64_t src = live[rng_() % live.size()];
      if (slots_[src].empty()) return;
      const std::uint64_t slot = rng_() % slots_[src].size();
      const std::uint64_t target = rng_() % 4 == 0 ? 0 : live[rng_() % live.size()];
      Store(src, slot, target);
    } else if (what < 90) {
      AddRoot(live[rng_() % live.size()]);
    } else if (what < 98) {
      if (!root_ids_.empty()) RemoveRoot(rng_() % root_ids_.size());
    } else {
      const std::uint64_t id = live[rng_() % live.size()];
      pool_->Pin(Use(id));
    }
  }

  // Finishes any collection and checks the heap against the model.
  void Finish() {
    ASSERT_EQ(pool_->Collect(false), Res::kOk);
    Verify();
    ASSERT_EQ(pool_->Collect(true), Res::kOk);
    Verify();
  }

  // Mid-collection, the colours the pool reports are ordered, disjoint
  // and truthful, and keep the strong tri-colour invariant: no black
  // object refers to condemned or forwarded memory (the read barrier sees
  // to that). Large objects reached in place are black in condemned
  // segments.
  void CheckColors() {
    std::vector<std::pair<Range, gc::TraceColor>> runs;
    pool_->WalkTraceColors([&](Range run, gc::TraceColor color) {
      ASSERT_FALSE(run.empty());
      ASSERT_TRUE(runs.empty() || runs.back().first.limit <= run.base)
          << "colour runs out of order or overlapping";
      runs.emplace_back(run, color);
    });
    const auto white = [&](Addr a) {
      auto it = std::upper_bound(runs.begin(), runs.end(), a,
                                 [](Addr x, const auto& run) { return x < run.first.base; });
      if (it == runs.begin() || !std::prev(it)->first.Contains(a)) return false;
      const gc::TraceColor c = std::prev(it)->second;
      return c == gc::TraceColor::kCondemned || c == gc::TraceColor::kForwarded;
    };
    for (const auto& [run, color] : runs) {
      if (color == gc::TraceColor::kCondemned || color == gc::TraceColor::kForwarded) {
        ASSERT_TRUE(pool_->IsCondemned(run.base));
        for (Addr obj = run.base; obj < run.limit; obj += format_.Size(obj)) {
          ASSERT_EQ(format_.IsForwarded(obj) != 0, color == gc::TraceColor::kForwarded);
        }
      } else if (color == gc::TraceColor::kGrey) {
        ASSERT_NE(pool_->phase(), gc::Phase::kReclaim) << "grey memory after tracing";
      } else {
        for (Addr obj = run.base; obj < run.limit; obj += format_.Size(obj)) {
          if (!format_.IsObject(obj)) continue;
          for (std::uint64_t s = 0; s < ObjectFormat::Slots(obj); ++s) {
            const Addr target = *ObjectFormat::Slot(obj, s);
            ASSERT_FALSE(target != 0 && white(target))
                << "black object " << ObjectFormat::Id(obj) << " refers to condemned memory";
          }
        }
      }
    }
  }

  void Verify() {
    CheckResult check = pool_->Check();
    ASSERT_TRUE(check.ok) << check;
    ASSERT_TRUE(arena_->Check().ok);
    const std::vector<std::uint64_t> model = Reachable();
    std::set<std::uint64_t> heap;
    std::vector<Addr> stack(roots_addr_.begin(), roots_addr_.end());
    if (register_ != 0) stack.push_back(register_);
    while (!stack.empty()) {
      const Addr obj = stack.back();
      stack.pop_back();
      ASSERT_FALSE(pool_->IsCondemned(obj));
      GrainInfo grain;
      ASSERT_TRUE(arena_->Lookup(obj, &grain));
      ASSERT_EQ(grain.pool_id, pool_->id()) << "reference into memory the pool no longer owns";
      ASSERT_NE(grain.type, SegmentType::kFromSpace);
      ASSERT_NE(grain.type, SegmentType::kCopyReserve) << "reference into the copy reserve";
      const std::uint64_t id = ObjectFormat::Id(obj);
      ASSERT_TRUE(id > 0 && id < table_.size()) << "bad header at " << obj;
      if (!heap.insert(id).second) continue;
      EXPECT_EQ(table_[id], obj) << "the weak table did not follow id " << id;
      ASSERT_EQ(pool_->ObjectContaining(obj + format_.Size(obj) - 1), obj);
      ASSERT_EQ(ObjectFormat::Slots(obj), slots_[id].size());
      for (std::uint64_t s = 0; s < slots_[id].size(); ++s) {
        const Addr target = *ObjectFormat::Slot(obj, s);
        const std::uint64_t want = slots_[id][s];
        ASSERT_EQ(target == 0, want == 0);
        if (target == 0) continue;
        ASSERT_EQ(ObjectFormat::Id(target), want) << "slot " << s << " of id " << id;
        stack.push_back(target);
      }
      const auto* payload = reinterpret_cast<const std::uint8_t*>(ObjectFormat::PayloadStart(obj));
      for (std::uint64_t i = 0; i < payload_[id]; ++i) {
        ASSERT_EQ(payload[i], PayloadByte(id, i)) << "payload of id " << id << " at " << i;
      }
    }
    EXPECT_EQ(std::vector<std::uint64_t>(heap.begin(), heap.end()), model);
    // Dead objects are gone from the weak table once their collection ended.
    for (std::uint64_t id = 1; id < table_.size(); ++id) {
      if (!heap.count(id) && table_[id] != 0 && died_[id]) {
        ADD_FAILURE() << "weak entry of dead id " << id << " not cleared";
      }
    }
  }

 private:
  static void ScanRoots(gc::ScanState& ss, void* closure) {
    auto* self = static_cast<Mutator*>(closure);
    for (Addr& root : self->roots_addr_) ss.Fix(&root);
    ss.Fix(&self->register_);
  }
  // Resumable, a few entries at a time, as the weak-root protocol allows.
  static bool ScanTable(gc::ScanState& ss, void* closure, std::size_t* budget) {
    auto* self = static_cast<Mutator*>(closure);
    for (; self->weak_cursor_ < self->table_.size(); ++self->weak_cursor_) {
      if (*budget == 0) return false;
      --*budget;
      const std::uint64_t id = self->weak_cursor_;
      ss.FixWeak(&self->table_[id]);
      if (self->table_[id] == 0) self->died_[id] = true;
    }
    self->weak_cursor_ = 1;
    return true;
  }

  // The mutator's access to an object by id: through the read barrier.
  Addr Use(std::uint64_t id) {
    pool_->FixMutatorRef(&table_[id]);
    return table_[id];
  }

  void Allocate() {
    const std::uint64_t id = table_.size();
    const std::uint64_t slots = rng_() % 5;
    const std::uint64_t payload = rng_() % 20 == 0 ? 40000 + rng_() % 30000 : rng_() % 200;
    const std::size_t size = ObjectFormat::ObjectSize(slots, payload);
    void* p;
    ASSERT_EQ(pool_->Alloc(size, &p), Res::kOk);
    const Addr obj = ToAddr(p);
    ObjectFormat::Init(obj, id, size, slots);
    auto* bytes = reinterpret_cast<std::uint8_t*>(ObjectFormat::PayloadStart(obj));
    for (std::uint64_t i = 0; i < payload; ++i) bytes[i] = PayloadByte(id, i);
    table_.push_back(obj);
    slots_.emplace_back(slots, 0);
    payload_.push_back(payload);
    died_.push_back(false);
    register_ = obj;  // Held until the next allocation.
    register_id_ = id;
  }

  void Store(std::uint64_t src, std::uint64_t slot, std::uint64_t target) {
    const Addr target_addr = target == 0 ? 0 : Use(target);
    const Addr obj = Use(src);
    *ObjectFormat::Slot(obj, slot) = target_addr;
    pool_->NoteStore(obj, target_addr);
    slots_[src][slot] = target;
  }

  void AddRoot(std::uint64_t id) {
    roots_addr_.push_back(Use(id));
    root_ids_.push_back(id);
  }
  void RemoveRoot(std::size_t i) {
    roots_addr_.erase(roots_addr_.begin() + static_cast<std::ptrdiff_t>(i));
    root_ids_.erase(root_ids_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  std::vector<std::uint64_t> Reachable() const {
    std::vector<bool> seen(table_.size(), false);
    std::vector<std::uint64_t> stack(root_ids_.begin(), root_ids_.end());
    if (register_id_ != 0) stack.push_back(register_id_);
    std::vector<std::uint64_t> out;
    while (!stack.empty()) {
      const std::uint64_t id = stack.back();
      stack.pop_back();
      if (seen[id]) continue;
      seen[id] = true;
      out.push_back(id);
      for (std::uint64_t t : slots_[id]) {
        if (t != 0) stack.push_back(t);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::mt19937_64 rng_;
  std::unique_ptr<Arena> arena_;
  ObjectFormat format_;
  OpaqueFormat opaque_format_;
  gc::Roots roots_;
  std::unique_ptr<Amc> pool_;
  std::vector<Addr> table_;  // Id -> object: weak.
  std::vector<std::vector<std::uint64_t>> slots_;
  std::vector<std::uint64_t> payload_ = {0};
  std::vector<bool> died_ = {false};
  std::vector<Addr> roots_addr_;         // Strong roots, as addresses...
  std::vector<std::uint64_t> root_ids_;  // ...and as ids.
  Addr register_ = 0;
  std::uint64_t register_id_ = 0;
  std::uint64_t weak_cursor_ = 1;
};

// Tiny generations, so that minor, promoting and full collections all
// happen many times in a short run.
AmcOptions TinyChain() {
  AmcOptions o;
  o.chain = {{64u << 10, 0.85}, {256u << 10, 0.45}};
  o.segment_size = 16u << 10;
  o.large_size = 8u << 10;
  return o;
}

TEST(AmcTest, StopTheWorldAgreesWithTheModel) {
  const std::uint64_t seed = testing_util::TestSeed();
  Mutator m(seed, TinyChain());
  for (int i = 0; i < 20000 && !testing::Test::HasFatalFailure(); ++i) m.Act(false);
  m.Finish();
  const AmcStats& s = m.pool().stats();
  std::ostringstream describe;
  m.pool().Describe(describe);
  std::cerr << describe.str();
  EXPECT_GT(s.collections_by_generation[0], 10u);
  EXPECT_GT(s.collections_by_generation[1], 0u);
  EXPECT_GT(s.copied, 0u);
  EXPECT_GT(s.promoted, 0u);  // Large objects and pinned segments.
  EXPECT_GT(s.reclaimed, 0u);
}

TEST(AmcTest, IncrementalStepsInterleavedWithTheMutatorAgreeWithTheModel) {
  const std::uint64_t seed = testing_util::TestSeed();
  Mutator m(seed, TinyChain());
  for (int i = 0; i < 20000 && !testing::Test::HasFatalFailure(); ++i) m.Act(true);
  m.Finish();
  EXPECT_GT(m.pool().stats().collections, 10u);
}

// The generic fix path (virtual format calls) and the inlined one for the
// engine's format make the same heap: both agree with the model, and with
// each other on every counter.
TEST(AmcTest, GenericFormatPathMatchesTheInlinedOne) {
  const std::uint64_t seed = testing_util::TestSeed();
  for (bool incremental : {false, true}) {
    SCOPED_TRACE(incremental ? "incremental" : "stop the world");
    Mutator fast(seed, TinyChain());
    Mutator generic(seed, TinyChain(), /*opaque_format=*/true);
    for (int i = 0; i < 5000 && !testing::Test::HasFatalFailure(); ++i) {
      fast.Act(incremental);
      generic.Act(incremental);
    }
    fast.Finish();
    generic.Finish();
    const AmcStats& a = fast.pool().stats();
    const AmcStats& b = generic.pool().stats();
    EXPECT_GT(a.copied, 0u);
    EXPECT_EQ(a.collections, b.collections);
    EXPECT_EQ(a.copied, b.copied);
    EXPECT_EQ(a.condemned, b.condemned);
    EXPECT_EQ(a.promoted, b.promoted);
    EXPECT_EQ(a.scanned, b.scanned);
  }
}

std::map<SegmentType, std::size_t> SegmentBytesByType(const Amc& pool) {
  std::map<SegmentType, std::size_t> bytes;
  pool.WalkSegments([&](const Segment& s) {
    bytes[s.type] += s.range.size();
    return true;
  });
  return bytes;
}

// The copy reserve: from-space a collection frees is kept (typed so in the
// arena) and becomes the next collection's to-space; with the option off
// none is kept. Either way the heap agrees with the model, and the pool's
// blocks tile its memory in address order with the reserve as free runs.
TEST(AmcTest, CopyReserveBecomesTheNextCollectionsToSpace) {
  const std::uint64_t seed = testing_util::TestSeed();
  for (bool reserve : {true, false}) {
    SCOPED_TRACE(reserve ? "copy reserve" : "no copy reserve");
    AmcOptions options = TinyChain();
    options.copy_reserve = reserve;
    Mutator m(seed, options);
    std::size_t most_held = 0;
    for (int i = 0; i < 20000 && !testing::Test::HasFatalFailure(); ++i) {
      m.Act(i % 2 == 0);
      if (i % 97 != 0) continue;
      most_held = std::max(most_held, SegmentBytesByType(m.pool())[SegmentType::kCopyReserve]);
      Addr last = 0;
      std::size_t total = 0;
      m.pool().WalkBlocks([&](Range run, bool) {
        EXPECT_LE(last, run.base) << "blocks out of address order";
        last = run.limit;
        total += run.size();
        return true;
      });
      EXPECT_EQ(total, m.pool().TotalSize());
    }
    m.Finish();
    if (reserve) {
      EXPECT_GT(most_held, 0u);
      EXPECT_GT(m.pool().stats().reserve_used, 0u);
    } else {
      EXPECT_EQ(most_held, 0u);
      EXPECT_EQ(m.pool().stats().reserve_used, 0u);
    }
  }
}

// A pool whose only roots are the addresses in `live`, for tests that
// drive collections by hand with objects of kObject bytes and no slots.
struct RootedPool {
  static constexpr std::size_t kObject = 256;

  RootedPool(const ArenaOptions& arena_options, const AmcOptions& options) {
    EXPECT_EQ(Arena::CreateVirtual(arena_options, &arena), Res::kOk);
    roots.AddStrong(
        [](gc::ScanState& ss, void* closure) {
          for (Addr& a : *static_cast<std::vector<Addr>*>(closure)) ss.Fix(&a);
        },
        &live);
    EXPECT_EQ(Amc::Create(arena.get(), &format, &roots, options, &pool), Res::kOk);
  }

  // Allocates and formats one object; kept in `live` if `keep`.
  Res Allocate(bool keep) {
    void* p;
    const Res res = pool->Alloc(kObject, &p);
    if (res != Res::kOk) return res;
    ObjectFormat::Init(ToAddr(p), ++id, kObject, 0);
    if (keep) live.push_back(ToAddr(p));
    return res;
  }

  std::unique_ptr<Arena> arena;
  ObjectFormat format;
  gc::Roots roots;
  std::vector<Addr> live;
  std::unique_ptr<Amc> pool;
  std::uint64_t id = 0;
};

// Idle reserve memory never makes an allocation fail: under a commit
// limit, the pool takes as much before it is refused with the reserve as
// without, and gives the reserve back to do so.
TEST(AmcTest, CopyReserveGivesWayToTheCommitLimit) {
  std::size_t allocated[2] = {};
  for (bool reserve : {false, true}) {
    SCOPED_TRACE(reserve ? "copy reserve" : "no copy reserve");
    ArenaOptions arena_options;
    arena_options.commit_limit = 2u << 20;
    AmcOptions options = TinyChain();
    options.copy_reserve = reserve;
    RootedPool heap(arena_options, options);
    ASSERT_NE(heap.pool, nullptr);
    Amc& pool = *heap.pool;
    // 128 KiB that survives a collection (under generation 1's capacity,
    // so later minor collections copy nothing): the reserve keeps that much.
    for (int i = 0; i < 512; ++i) ASSERT_EQ(heap.Allocate(true), Res::kOk);
    ASSERT_EQ(pool.Collect(false), Res::kOk);
    const std::size_t held = SegmentBytesByType(pool)[SegmentType::kCopyReserve];
    EXPECT_EQ(held > 0, reserve);
    // Garbage until the limit refuses, never collecting.
    Res res;
    while ((res = heap.Allocate(false)) == Res::kOk) allocated[reserve] += RootedPool::kObject;
    EXPECT_EQ(res, Res::kCommitLimit);
    EXPECT_EQ(SegmentBytesByType(pool)[SegmentType::kCopyReserve], 0u);
    CheckResult check = pool.Check();
    EXPECT_TRUE(check.ok) << check;
    EXPECT_TRUE(heap.arena->Check().ok);
    // And after a collection frees the garbage, it works again.
    ASSERT_EQ(pool.Collect(false), Res::kOk);
    EXPECT_EQ(heap.Allocate(false), Res::kOk);
  }
  EXPECT_GT(allocated[true], 0u);
  EXPECT_EQ(allocated[true], allocated[false]);
}

// The reserve is a high-water mark: a run of collections that copy little
// does not wear it down, so the next collection that copies as much as the
// first takes all of the reserve as its to-space.
TEST(AmcTest, CopyReserveOutlastsAQuietStretch) {
  const AmcOptions options = TinyChain();
  RootedPool heap(ArenaOptions{}, options);
  ASSERT_NE(heap.pool, nullptr);
  Amc& pool = *heap.pool;
  const auto allocate = [&](int count, bool keep) {
    for (int i = 0; i < count; ++i) ASSERT_EQ(heap.Allocate(keep), Res::kOk);
  };
  const auto reserve_held = [&] { return SegmentBytesByType(pool)[SegmentType::kCopyReserve]; };
  // Three segments' worth survives one collection.
  const int burst = static_cast<int>(3 * options.segment_size / RootedPool::kObject);
  allocate(burst, true);
  ASSERT_EQ(pool.Collect(false), Res::kOk);
  const std::size_t held = reserve_held();
  EXPECT_GE(held, 2 * options.segment_size);
  // A quiet stretch: twenty collections that copy a single object.
  for (int i = 0; i < 20; ++i) {
    heap.live.clear();
    allocate(1, true);
    allocate(16, false);
    ASSERT_EQ(pool.Collect(false), Res::kOk);
    ASSERT_EQ(reserve_held(), held) << "after quiet collection " << i;
  }
  // The next burst takes its to-space from the reserve.
  const std::uint64_t used_before = pool.stats().reserve_used;
  allocate(burst, true);
  ASSERT_EQ(pool.Collect(false), Res::kOk);
  EXPECT_EQ(pool.stats().reserve_used - used_before, held);
  const CheckResult check = pool.Check();
  EXPECT_TRUE(check.ok) << check;
}

TEST(AmcTest, DefaultChainAndSegmentTypes) {
  Mutator m(1, AmcOptions{});
  for (int i = 0; i < 3000 && !testing::Test::HasFatalFailure(); ++i) m.Act(false);
  m.Finish();
  // After a full collection everything lives in older generations.
  EXPECT_EQ(m.pool().GenerationBytes(0), 0u);
  std::map<SegmentType, int> types;
  m.pool().WalkSegments([&](const Segment& s) {
    ++types[s.type];
    return true;
  });
  EXPECT_EQ(types.count(SegmentType::kFromSpace), 0u);
  EXPECT_EQ(types.count(SegmentType::kToSpace), 0u);
}

}  // namespace
}  // namespace core
