// AMS: marking keeps what the roots reach and sweeps the rest, large
// objects get segments of their own, and incremental marking keeps
// Dijkstra's invariant: a white object stored into a black one survives
// even when its last other path is cut before marking reaches it. (The
// random model test of AMS runs through the replay engine:
// tests/replay/gc_replay_test.cc.)
#include "core/pools/ams.h"

#include <optional>
#include <vector>

#include "core/gc/object_format.h"
#include "gtest/gtest.h"

namespace core {
namespace {

using gc::ObjectFormat;

class AmsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Arena::CreateVirtual(ArenaOptions{}, &arena_), Res::kOk);
    roots_.AddStrong(
        [](gc::ScanState& ss, void* self) {
          for (Addr& r : static_cast<AmsTest*>(self)->root_) ss.Fix(&r);
        },
        this);
    ASSERT_EQ(Ams::Create(arena_.get(), &format_, &roots_, AmsOptions{}, &pool_), Res::kOk);
  }

  Addr New(std::uint64_t id, std::uint64_t slots, std::uint64_t payload = 0) {
    const std::size_t size = ObjectFormat::ObjectSize(slots, payload);
    void* p;
    EXPECT_EQ(pool_->Alloc(size, &p), Res::kOk);
    ObjectFormat::Init(ToAddr(p), id, size, slots);
    return ToAddr(p);
  }
  void Store(Addr obj, int slot, Addr target) {
    *ObjectFormat::Slot(obj, slot) = target;
    pool_->NoteStore(obj, target);
  }
  // The colour the running collection gives `obj`, if any.
  std::optional<gc::TraceColor> ColorOf(Addr obj) {
    std::optional<gc::TraceColor> found;
    pool_->WalkTraceColors([&](Range run, gc::TraceColor color) {
      if (run.Contains(obj)) found = color;
    });
    return found;
  }
  void ExpectChecks() {
    CheckResult check = pool_->Check();
    EXPECT_TRUE(check.ok) << check;
  }

  std::unique_ptr<Arena> arena_;
  ObjectFormat format_;
  gc::Roots roots_;
  std::unique_ptr<Ams> pool_;
  std::vector<Addr> root_;
};

TEST_F(AmsTest, KeepsWhatTheRootsReachAndSweepsTheRest) {
  const Addr a = New(1, 2), b = New(2, 0, 100), garbage = New(3, 1), big = New(4, 0, 100000);
  Store(a, 0, b);
  Store(a, 1, big);
  Store(garbage, 0, b);
  root_ = {a};
  ExpectChecks();
  ASSERT_EQ(pool_->Collect(), Res::kOk);
  ExpectChecks();
  EXPECT_TRUE(pool_->IsObject(a));
  EXPECT_TRUE(pool_->IsObject(b));
  EXPECT_TRUE(pool_->IsObject(big));
  EXPECT_FALSE(pool_->IsObject(garbage));
  EXPECT_EQ(pool_->ObjectContaining(b + 20), b);
  EXPECT_EQ(pool_->ObjectContaining(garbage + 8), 0u);
  EXPECT_EQ(ObjectFormat::Id(big), 4u);  // Non-moving: same address, same object.
  Store(a, 1, 0);
  ASSERT_EQ(pool_->Collect(), Res::kOk);
  EXPECT_FALSE(pool_->IsObject(big));
  EXPECT_GT(pool_->stats().reclaimed, 100000u);  // Its segment went back to the arena.
  ExpectChecks();
}

TEST_F(AmsTest, IncrementalMarkingKeepsAWhiteObjectStoredIntoABlackOne) {
  // a -> b -> w, a the only root. After one step a is black and b grey.
  const Addr a = New(1, 1), b = New(2, 1), w = New(3, 0, 48);
  Store(a, 0, b);
  Store(b, 0, w);
  root_ = {a};
  ASSERT_EQ(pool_->StartCollection(), Res::kOk);
  bool done = false;
  ASSERT_EQ(pool_->Step(1, &done), Res::kOk);
  ASSERT_FALSE(done);
  EXPECT_EQ(ColorOf(a), gc::TraceColor::kBlack);
  EXPECT_EQ(ColorOf(b), gc::TraceColor::kGrey);
  EXPECT_EQ(ColorOf(w), gc::TraceColor::kCondemned);
  // The mutator moves w into black a and cuts b -> w.
  Store(a, 0, w);
  Store(b, 0, 0);
  while (!done) ASSERT_EQ(pool_->Step(1, &done), Res::kOk);
  EXPECT_TRUE(pool_->IsObject(w)) << "the write barrier did not shade w";
  EXPECT_FALSE(ColorOf(w).has_value()) << "no colours outside a collection";
  // b was grey when the path was cut: floating garbage until the next cycle.
  EXPECT_TRUE(pool_->IsObject(b));
  ASSERT_EQ(pool_->Collect(), Res::kOk);
  EXPECT_FALSE(pool_->IsObject(b));
  EXPECT_TRUE(pool_->IsObject(w));
  ExpectChecks();
}

TEST_F(AmsTest, ObjectsAllocatedDuringMarkingAreBlack) {
  root_ = {New(1, 1)};
  ASSERT_EQ(pool_->StartCollection(), Res::kOk);
  bool done = false;
  ASSERT_EQ(pool_->Step(1, &done), Res::kOk);
  const Addr fresh = New(2, 0);
  Store(root_[0], 0, fresh);
  while (!done) ASSERT_EQ(pool_->Step(1, &done), Res::kOk);
  EXPECT_TRUE(pool_->IsObject(fresh));
  ExpectChecks();
}

}  // namespace
}  // namespace core
