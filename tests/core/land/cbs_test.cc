// Edge cases of the Cbs; land_model_test covers random sequences.
#include "core/land/cbs.h"

#include <cstddef>
#include <memory>
#include <vector>

#include "core/arena/arena.h"
#include "core/base/address.h"
#include "core/base/result.h"
#include "core/land/land.h"
#include "core/pools/mfs.h"
#include "gtest/gtest.h"
#include "tests/core/land/land_test_util.h"

namespace core {
namespace {

class CbsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ArenaOptions options;
    options.chunk_size = std::size_t{1} << 20;
    ASSERT_EQ(Arena::CreateVirtual(options, &arena_), Res::kOk);
    nodes_ = std::make_unique<Mfs>(arena_.get(), MfsOptions{.unit_size = sizeof(Cbs::Node),
                                                            .extend_by = arena_->grain_size()});
    cbs_ = std::make_unique<Cbs>(nodes_.get());
  }
  void TearDown() override {
    if (cbs_ != nullptr) {
      const CheckResult check = cbs_->Check();
      EXPECT_TRUE(check.ok) << check.what;
    }
  }

  // Addresses need not be memory for a Cbs: use small numbers.
  static Range R(Addr base, Addr limit) { return {base, limit}; }

  std::unique_ptr<Arena> arena_;
  std::unique_ptr<Mfs> nodes_;
  std::unique_ptr<Cbs> cbs_;
};

TEST_F(CbsTest, EmptyRangesAreParamErrors) {
  EXPECT_EQ(cbs_->Insert(R(64, 64), nullptr), Res::kParam);
  ASSERT_EQ(cbs_->Insert(R(64, 128), nullptr), Res::kOk);
  EXPECT_EQ(cbs_->Delete(R(80, 80), nullptr), Res::kParam);
  EXPECT_EQ(cbs_->TotalSize(), 64u);
}

TEST_F(CbsTest, FindOnEmptyLandFails) {
  Range found{1, 2}, old{3, 4};
  for (FindDelete mode :
       {FindDelete::kNone, FindDelete::kLow, FindDelete::kHigh, FindDelete::kEntire}) {
    EXPECT_FALSE(cbs_->FindFirst(1, mode, &found, &old));
    EXPECT_FALSE(cbs_->FindLast(1, mode, &found, &old));
    EXPECT_FALSE(cbs_->FindLargest(1, mode, &found, &old));
  }
  EXPECT_EQ(found, R(1, 2));  // Untouched.
  EXPECT_EQ(old, R(3, 4));
  EXPECT_EQ(cbs_->LargestSize(), 0u);
  Range block;
  EXPECT_FALSE(cbs_->FindContaining(10, &block));
}

TEST_F(CbsTest, CoalescesWithBothNeighboursAndReturnsTheNode) {
  ASSERT_EQ(cbs_->Insert(R(0x100, 0x200), nullptr), Res::kOk);
  ASSERT_EQ(cbs_->Insert(R(0x300, 0x400), nullptr), Res::kOk);
  EXPECT_EQ(nodes_->units_in_use(), 2u);
  Range coalesced;
  ASSERT_EQ(cbs_->Insert(R(0x200, 0x300), &coalesced), Res::kOk);
  EXPECT_EQ(coalesced, R(0x100, 0x400));
  EXPECT_EQ(cbs_->BlockCount(), 1u);
  EXPECT_EQ(nodes_->units_in_use(), 1u);
  ASSERT_EQ(cbs_->Insert(R(0x400, 0x480), &coalesced), Res::kOk);
  EXPECT_EQ(coalesced, R(0x100, 0x480));
  ASSERT_EQ(cbs_->Insert(R(0x80, 0x100), &coalesced), Res::kOk);
  EXPECT_EQ(coalesced, R(0x80, 0x480));
  EXPECT_EQ(BlocksOf(*cbs_), std::vector<Range>{R(0x80, 0x480)});
}

TEST_F(CbsTest, OverlappingInsertFails) {
  ASSERT_EQ(cbs_->Insert(R(0x100, 0x200), nullptr), Res::kOk);
  EXPECT_EQ(cbs_->Insert(R(0x100, 0x200), nullptr), Res::kFail);
  EXPECT_EQ(cbs_->Insert(R(0xf0, 0x101), nullptr), Res::kFail);
  EXPECT_EQ(cbs_->Insert(R(0x1ff, 0x300), nullptr), Res::kFail);
  EXPECT_EQ(cbs_->Insert(R(0x80, 0x300), nullptr), Res::kFail);   // Covers the block.
  EXPECT_EQ(cbs_->Insert(R(0x140, 0x150), nullptr), Res::kFail);  // Inside it.
  EXPECT_EQ(cbs_->TotalSize(), 0x100u);
}

TEST_F(CbsTest, DeleteOutsideOneBlockFails) {
  ASSERT_EQ(cbs_->Insert(R(0x100, 0x200), nullptr), Res::kOk);
  ASSERT_EQ(cbs_->Insert(R(0x300, 0x400), nullptr), Res::kOk);
  EXPECT_EQ(cbs_->Delete(R(0x180, 0x380), nullptr), Res::kFail);  // Spans a gap.
  EXPECT_EQ(cbs_->Delete(R(0x200, 0x300), nullptr), Res::kFail);  // The gap.
  EXPECT_EQ(cbs_->Delete(R(0x0, 0x100), nullptr), Res::kFail);    // Below all.
  EXPECT_EQ(cbs_->Delete(R(0x3ff, 0x401), nullptr), Res::kFail);  // Past the end.
  Range old;
  ASSERT_EQ(cbs_->Delete(R(0x140, 0x180), &old), Res::kOk);  // Splits.
  EXPECT_EQ(old, R(0x100, 0x200));
  EXPECT_EQ(BlocksOf(*cbs_),
            (std::vector<Range>{R(0x100, 0x140), R(0x180, 0x200), R(0x300, 0x400)}));
}

TEST_F(CbsTest, FindsFailWhenNothingFitsAndLeaveTheLandAlone) {
  for (Addr base = 0; base < 100 * 0x100; base += 0x100) {
    ASSERT_EQ(cbs_->Insert(R(base, base + 0x10 + base / 0x100), nullptr), Res::kOk);
  }
  const std::size_t largest = cbs_->LargestSize();
  EXPECT_EQ(largest, 0x10u + 99);
  const std::vector<Range> before = BlocksOf(*cbs_);
  Range found;
  EXPECT_FALSE(cbs_->FindFirst(largest + 1, FindDelete::kEntire, &found, nullptr));
  EXPECT_FALSE(cbs_->FindLast(largest + 1, FindDelete::kLow, &found, nullptr));
  EXPECT_FALSE(cbs_->FindLargest(largest + 1, FindDelete::kHigh, &found, nullptr));
  EXPECT_FALSE(cbs_->FindFirst(0, FindDelete::kNone, &found, nullptr));  // Size 0.
  EXPECT_EQ(BlocksOf(*cbs_), before);
  // The largest block is the last one; first fit of a size only it fits.
  Range old;
  ASSERT_TRUE(cbs_->FindFirst(largest, FindDelete::kLow, &found, &old));
  EXPECT_EQ(old, R(99 * 0x100, 99 * 0x100 + largest));
  EXPECT_EQ(found, old);
  EXPECT_EQ(cbs_->LargestSize(), largest - 1);
}

TEST_F(CbsTest, FindLargestPrefersTheLowestOfEqualBlocks) {
  ASSERT_EQ(cbs_->Insert(R(0x500, 0x540), nullptr), Res::kOk);
  ASSERT_EQ(cbs_->Insert(R(0x100, 0x140), nullptr), Res::kOk);
  ASSERT_EQ(cbs_->Insert(R(0x300, 0x310), nullptr), Res::kOk);
  Range found, old;
  ASSERT_TRUE(cbs_->FindLargest(8, FindDelete::kHigh, &found, &old));
  EXPECT_EQ(old, R(0x100, 0x140));
  EXPECT_EQ(found, R(0x138, 0x140));
  ASSERT_TRUE(cbs_->FindLargest(8, FindDelete::kNone, &found, &old));
  EXPECT_EQ(found, R(0x500, 0x540));
}

TEST_F(CbsTest, ReturnsEveryNodeOnDestruction) {
  for (Addr base = 0; base < 50 * 0x100; base += 0x100) {
    ASSERT_EQ(cbs_->Insert(R(base, base + 0x10), nullptr), Res::kOk);
  }
  EXPECT_EQ(nodes_->units_in_use(), 50u);
  cbs_.reset();
  EXPECT_EQ(nodes_->units_in_use(), 0u);
}

// A node allocator whose arena has no room left: insertion of a new block
// and splitting report kMemory and change nothing.
TEST_F(CbsTest, RunsOutOfNodesWithoutChangingTheLand) {
  ASSERT_EQ(arena_->SetCommitLimit(arena_->stats().committed), Res::kOk);
  void* unit;
  EXPECT_EQ(nodes_->AllocUnit(&unit), Res::kCommitLimit);
  EXPECT_EQ(cbs_->Insert(R(0x100, 0x200), nullptr), Res::kMemory);
  EXPECT_EQ(cbs_->BlockCount(), 0u);
  ASSERT_EQ(arena_->SetCommitLimit(arena_->stats().committed + arena_->grain_size()), Res::kOk);
  ASSERT_EQ(cbs_->Insert(R(0x100, 0x200), nullptr), Res::kOk);
  // Use up the rest of the extent's nodes.
  Addr base = 0x1000;
  while (nodes_->FreeSize() >= nodes_->unit_size()) {
    ASSERT_EQ(cbs_->Insert(R(base, base + 0x10), nullptr), Res::kOk);
    base += 0x100;
  }
  const std::vector<Range> before = BlocksOf(*cbs_);
  EXPECT_EQ(cbs_->Insert(R(base, base + 0x10), nullptr), Res::kMemory);
  Range old;
  EXPECT_EQ(cbs_->Delete(R(0x140, 0x180), &old), Res::kMemory);
  EXPECT_EQ(old, R(0x100, 0x200));  // Still named, for a Failover.
  EXPECT_EQ(BlocksOf(*cbs_), before);
  // Coalescing and deleting at an end need no node.
  ASSERT_EQ(cbs_->Insert(R(0x200, 0x240), nullptr), Res::kOk);
  ASSERT_EQ(cbs_->Delete(R(0x100, 0x140), nullptr), Res::kOk);
  ASSERT_EQ(cbs_->Delete(R(0x200, 0x240), nullptr), Res::kOk);
  Range found;
  ASSERT_TRUE(cbs_->FindFirst(0x10, FindDelete::kLow, &found, nullptr));
  EXPECT_EQ(found, R(0x140, 0x150));
  const CheckResult check = arena_->Check();
  EXPECT_TRUE(check.ok) << check.what;
}

TEST_F(CbsTest, StaysBalancedUnderAscendingInserts) {
  constexpr int kBlocks = 4096;
  for (int i = 0; i < kBlocks; ++i) {
    const Addr base = static_cast<Addr>(i) * 0x20;
    ASSERT_EQ(cbs_->Insert(R(base, base + 0x10), nullptr), Res::kOk);
  }
  const CheckResult check = cbs_->Check();  // Includes the AVL balance.
  ASSERT_TRUE(check.ok) << check.what;
  EXPECT_EQ(cbs_->BlockCount(), static_cast<std::size_t>(kBlocks));
  Range block;
  ASSERT_TRUE(cbs_->FindContaining(0x20 * 1000 + 5, &block));
  EXPECT_EQ(block, R(0x20 * 1000, 0x20 * 1000 + 0x10));
  EXPECT_FALSE(cbs_->FindContaining(0x20 * 1000 + 0x10, &block));
  // Iterate stops when told to.
  int visited = 0;
  cbs_->Iterate([&visited](Range) { return ++visited < 10; });
  EXPECT_EQ(visited, 10);
}

}  // namespace
}  // namespace core
