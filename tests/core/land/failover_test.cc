// Failover: a Cbs whose nodes come from a real MFS pool on an arena with a
// small commit limit, so that node allocation really fails (kCommitLimit),
// the Cbs reports kMemory and the range goes to the FreeList; raising the
// limit lets later inserts and Flush() move blocks back.
#include "core/land/failover.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "core/arena/arena.h"
#include "core/base/address.h"
#include "core/base/result.h"
#include "core/land/cbs.h"
#include "core/land/freelist.h"
#include "core/land/land.h"
#include "core/pools/mfs.h"
#include "gtest/gtest.h"
#include "tests/core/land/land_test_util.h"

namespace core {
namespace {

constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();

class FailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ArenaOptions options;
    options.chunk_size = std::size_t{1} << 20;
    ASSERT_EQ(Arena::CreateVirtual(options, &arena_), Res::kOk);
    // No room for any MFS extent until a test raises the limit.
    ASSERT_EQ(arena_->SetCommitLimit(arena_->stats().committed), Res::kOk);
    nodes_ = std::make_unique<Mfs>(arena_.get(), MfsOptions{.unit_size = sizeof(Cbs::Node),
                                                            .extend_by = arena_->grain_size()});
    cbs_ = std::make_unique<Cbs>(nodes_.get());
    failover_ = std::make_unique<Failover>(cbs_.get(), &freelist_);
  }
  void TearDown() override { ExpectChecksPass(); }

  void ExpectChecksPass() {
    const CheckResult check = failover_->Check();
    EXPECT_TRUE(check.ok) << check.what;
    const CheckResult arena_check = arena_->Check();
    EXPECT_TRUE(arena_check.ok) << arena_check.what;
    EXPECT_EQ(failover_->BlockCount(), BlocksOf(*failover_).size());
  }

  // Room for one more extent of nodes.
  void AllowOneMoreExtent() {
    ASSERT_EQ(arena_->SetCommitLimit(arena_->stats().commit_limit + arena_->grain_size()),
              Res::kOk);
  }

  // Inserts one-word blocks every 4 words from word `first` until the Cbs
  // has no node left (the block that fails over is deleted again).
  void UseUpNodes(std::size_t first) {
    for (std::size_t w = first;; w += 4) {
      ASSERT_LT(w + 1, kWords);
      ASSERT_EQ(failover_->Insert(Words(w, w + 1), nullptr), Res::kOk);
      if (freelist_.BlockCount() != 0) {
        ASSERT_EQ(failover_->Delete(Words(w, w + 1), nullptr), Res::kOk);
        ASSERT_EQ(freelist_.BlockCount(), 0u);
        return;
      }
    }
  }

  Addr W(std::size_t i) const { return ToAddr(buffer_.data()) + i * kWordSize; }
  Range Words(std::size_t first, std::size_t limit) const { return {W(first), W(limit)}; }

  static constexpr std::size_t kWords = 1024;
  std::vector<std::uint64_t> buffer_ = std::vector<std::uint64_t>(kWords, 0);
  std::unique_ptr<Arena> arena_;
  std::unique_ptr<Mfs> nodes_;
  std::unique_ptr<Cbs> cbs_;
  FreeList freelist_;
  std::unique_ptr<Failover> failover_;
};

TEST_F(FailoverTest, EmptyRangesAndEmptyFinds) {
  EXPECT_EQ(failover_->Insert(Words(3, 3), nullptr), Res::kParam);
  EXPECT_EQ(failover_->Delete(Words(3, 3), nullptr), Res::kParam);
  Range found;
  EXPECT_FALSE(failover_->FindFirst(kWordSize, FindDelete::kLow, &found, nullptr));
  EXPECT_FALSE(failover_->FindLast(kWordSize, FindDelete::kHigh, &found, nullptr));
  EXPECT_FALSE(failover_->FindLargest(kWordSize, FindDelete::kEntire, &found, nullptr));
  EXPECT_EQ(failover_->TotalSize(), 0u);
  EXPECT_EQ(failover_->BlockCount(), 0u);
}

TEST_F(FailoverTest, InsertFailsOverWhenTheCbsHasNoNodes) {
  void* unit;
  EXPECT_EQ(nodes_->AllocUnit(&unit), Res::kCommitLimit);
  EXPECT_EQ(cbs_->Insert(Words(0, 4), nullptr), Res::kMemory);

  Range coalesced;
  ASSERT_EQ(failover_->Insert(Words(0, 4), &coalesced), Res::kOk);
  EXPECT_EQ(coalesced, Words(0, 4));
  ASSERT_EQ(failover_->Insert(Words(4, 8), &coalesced), Res::kOk);
  EXPECT_EQ(coalesced, Words(0, 8));  // Coalesced in the FreeList.
  ASSERT_EQ(failover_->Insert(Words(20, 22), &coalesced), Res::kOk);
  EXPECT_EQ(cbs_->BlockCount(), 0u);
  EXPECT_EQ(freelist_.BlockCount(), 2u);
  EXPECT_EQ(failover_->TotalSize(), 10 * kWordSize);
  EXPECT_EQ(failover_->Insert(Words(6, 10), nullptr), Res::kFail);  // Overlap.
  ExpectChecksPass();

  // With memory back, Flush moves everything into the Cbs.
  ASSERT_EQ(arena_->SetCommitLimit(kNoLimit), Res::kOk);
  failover_->Flush();
  EXPECT_EQ(freelist_.BlockCount(), 0u);
  EXPECT_EQ(BlocksOf(*cbs_), (std::vector<Range>{Words(0, 8), Words(20, 22)}));
  EXPECT_EQ(nodes_->units_in_use(), 2u);
}

TEST_F(FailoverTest, LaterInsertFlushesTheFreeList) {
  for (std::size_t w : {0, 10, 20}) {
    ASSERT_EQ(failover_->Insert(Words(w, w + 2), nullptr), Res::kOk);
  }
  EXPECT_EQ(freelist_.BlockCount(), 3u);
  AllowOneMoreExtent();
  ASSERT_EQ(failover_->Insert(Words(30, 32), nullptr), Res::kOk);
  EXPECT_EQ(freelist_.BlockCount(), 0u);
  EXPECT_EQ(BlocksOf(*cbs_),
            (std::vector<Range>{Words(0, 2), Words(10, 12), Words(20, 22), Words(30, 32)}));
}

TEST_F(FailoverTest, DeleteInTheMiddleOfACbsBlockWithoutNodesMovesTheFragments) {
  AllowOneMoreExtent();
  ASSERT_EQ(failover_->Insert(Words(0, 8), nullptr), Res::kOk);
  UseUpNodes(16);
  const std::size_t cbs_blocks = cbs_->BlockCount();
  const std::size_t total = failover_->TotalSize();

  Range old;
  ASSERT_EQ(failover_->Delete(Words(2, 5), &old), Res::kOk);
  EXPECT_EQ(old, Words(0, 8));
  EXPECT_EQ(cbs_->BlockCount(), cbs_blocks - 1);
  EXPECT_EQ(BlocksOf(freelist_), (std::vector<Range>{Words(0, 2), Words(5, 8)}));
  EXPECT_EQ(failover_->TotalSize(), total - 3 * kWordSize);
  const std::vector<Range> blocks = BlocksOf(*failover_);
  ASSERT_GE(blocks.size(), 3u);
  EXPECT_EQ(blocks[0], Words(0, 2));  // Iterate merges both lands in order.
  EXPECT_EQ(blocks[1], Words(5, 8));
  EXPECT_EQ(blocks[2], Words(16, 17));
  ExpectChecksPass();

  // Deleting from a fragment works in the FreeList.
  ASSERT_EQ(failover_->Delete(Words(6, 7), &old), Res::kOk);
  EXPECT_EQ(old, Words(5, 8));

  AllowOneMoreExtent();
  failover_->Flush();
  EXPECT_EQ(freelist_.BlockCount(), 0u);
  EXPECT_EQ(cbs_->BlockCount(), cbs_blocks + 2);
}

TEST_F(FailoverTest, InsertOverlappingABlockInTheFreeListFails) {
  AllowOneMoreExtent();
  UseUpNodes(0);
  // A block in the FreeList, just above the last Cbs block.
  const std::vector<Range> cbs_blocks = BlocksOf(*cbs_);
  const Addr top = cbs_blocks.back().limit;
  ASSERT_EQ(failover_->Insert({top + 4 * kWordSize, top + 6 * kWordSize}, nullptr), Res::kOk);
  ASSERT_EQ(freelist_.BlockCount(), 1u);
  // This range would coalesce with the top Cbs block (no node needed), but
  // it overlaps the FreeList's block.
  EXPECT_EQ(failover_->Insert({top, top + 5 * kWordSize}, nullptr), Res::kFail);
  EXPECT_EQ(cbs_->Insert({top, top + 5 * kWordSize}, nullptr), Res::kOk);  // Cbs alone would.
  ASSERT_EQ(cbs_->Delete({top, top + 5 * kWordSize}, nullptr), Res::kOk);
  // Adjacent but not overlapping is fine.
  ASSERT_EQ(failover_->Insert({top, top + 4 * kWordSize}, nullptr), Res::kOk);
}

TEST_F(FailoverTest, FindsChooseAcrossBothLands) {
  AllowOneMoreExtent();
  ASSERT_EQ(failover_->Insert(Words(0, 8), nullptr), Res::kOk);
  ASSERT_EQ(failover_->Insert(Words(900, 905), nullptr), Res::kOk);
  UseUpNodes(16);
  ASSERT_EQ(failover_->Delete(Words(2, 3), nullptr), Res::kOk);
  ASSERT_EQ(BlocksOf(freelist_), (std::vector<Range>{Words(0, 2), Words(3, 8)}));

  Range found, old;
  ASSERT_TRUE(failover_->FindFirst(kWordSize, FindDelete::kNone, &found, &old));
  EXPECT_EQ(found, Words(0, 2));
  ASSERT_TRUE(failover_->FindLast(kWordSize, FindDelete::kNone, &found, &old));
  EXPECT_EQ(found, Words(900, 905));
  // Two largest blocks of five words: the lower one, in the FreeList, wins.
  ASSERT_TRUE(failover_->FindLargest(5 * kWordSize, FindDelete::kNone, &found, &old));
  EXPECT_EQ(found, Words(3, 8));
  ASSERT_TRUE(failover_->FindLargest(2 * kWordSize, FindDelete::kLow, &found, &old));
  EXPECT_EQ(found, Words(3, 5));
  EXPECT_EQ(old, Words(3, 8));
  ASSERT_TRUE(failover_->FindLargest(2 * kWordSize, FindDelete::kHigh, &found, &old));
  EXPECT_EQ(found, Words(903, 905));
  EXPECT_FALSE(failover_->FindFirst(6 * kWordSize, FindDelete::kEntire, &found, &old));
}

}  // namespace
}  // namespace core
