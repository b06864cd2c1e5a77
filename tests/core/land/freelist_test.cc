// Edge cases of the FreeList; land_model_test covers random sequences. The
// FreeList writes its links into the blocks, so every address used here is
// in a real buffer.
#include "core/land/freelist.h"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/base/address.h"
#include "core/base/result.h"
#include "core/land/land.h"
#include "gtest/gtest.h"
#include "tests/core/land/land_test_util.h"

namespace core {
namespace {

class FreeListTest : public ::testing::Test {
 protected:
  void TearDown() override {
    const CheckResult check = list_.Check();
    EXPECT_TRUE(check.ok) << check.what;
  }
  // Word `i` of the buffer.
  Addr W(std::size_t i) const { return ToAddr(buffer_.data()) + i * kWordSize; }
  Range Words(std::size_t first, std::size_t limit) const { return {W(first), W(limit)}; }
  std::uint64_t Raw(std::size_t i) const { return buffer_[i]; }

  std::vector<std::uint64_t> buffer_ = std::vector<std::uint64_t>(256, 0);
  FreeList list_;
};

TEST_F(FreeListTest, EmptyAndMisalignedRangesAreParamErrors) {
  EXPECT_EQ(list_.Insert(Words(4, 4), nullptr), Res::kParam);
  EXPECT_EQ(list_.Insert({W(4) + 1, W(8)}, nullptr), Res::kParam);
  EXPECT_EQ(list_.Insert({W(4), W(8) - 4}, nullptr), Res::kParam);
  ASSERT_EQ(list_.Insert(Words(4, 8), nullptr), Res::kOk);
  EXPECT_EQ(list_.Delete(Words(5, 5), nullptr), Res::kParam);
  EXPECT_EQ(list_.Delete({W(5), W(6) + 2}, nullptr), Res::kParam);
  EXPECT_EQ(list_.TotalSize(), 4 * kWordSize);
}

TEST_F(FreeListTest, FindOnEmptyLandFails) {
  Range found;
  for (FindDelete mode :
       {FindDelete::kNone, FindDelete::kLow, FindDelete::kHigh, FindDelete::kEntire}) {
    EXPECT_FALSE(list_.FindFirst(kWordSize, mode, &found, nullptr));
    EXPECT_FALSE(list_.FindLast(kWordSize, mode, &found, nullptr));
    EXPECT_FALSE(list_.FindLargest(kWordSize, mode, &found, nullptr));
  }
  EXPECT_EQ(list_.BlockCount(), 0u);
  int visited = 0;
  list_.Iterate([&visited](Range) {
    ++visited;
    return true;
  });
  EXPECT_EQ(visited, 0);
}

TEST_F(FreeListTest, OneWordBlocksHoldATaggedLink) {
  ASSERT_EQ(list_.Insert(Words(10, 11), nullptr), Res::kOk);
  ASSERT_EQ(list_.Insert(Words(2, 3), nullptr), Res::kOk);
  ASSERT_EQ(list_.Insert(Words(20, 21), nullptr), Res::kOk);
  EXPECT_EQ(BlocksOf(list_), (std::vector<Range>{Words(2, 3), Words(10, 11), Words(20, 21)}));
  // A one-word block is just its link to the next block, tagged in bit 0.
  EXPECT_EQ(Raw(2), W(10) | 1);
  EXPECT_EQ(Raw(10), W(20) | 1);
  EXPECT_EQ(Raw(20), 1u);  // The end of the list.
  EXPECT_EQ(Raw(3), 0u);   // The word after a one-word block is not touched.

  // Coalescing one-word blocks makes a block with a limit word.
  Range coalesced;
  ASSERT_EQ(list_.Insert(Words(11, 12), &coalesced), Res::kOk);
  EXPECT_EQ(coalesced, Words(10, 12));
  EXPECT_EQ(Raw(10), W(20));
  EXPECT_EQ(Raw(11), W(12));
  ASSERT_EQ(list_.Insert(Words(3, 10), &coalesced), Res::kOk);
  EXPECT_EQ(coalesced, Words(2, 12));
  EXPECT_EQ(list_.BlockCount(), 2u);

  // Splitting down to one-word fragments at both ends.
  Range old;
  ASSERT_EQ(list_.Delete(Words(3, 11), &old), Res::kOk);
  EXPECT_EQ(old, Words(2, 12));
  EXPECT_EQ(BlocksOf(list_), (std::vector<Range>{Words(2, 3), Words(11, 12), Words(20, 21)}));
  EXPECT_EQ(Raw(2), W(11) | 1);
  EXPECT_EQ(Raw(11), W(20) | 1);
  EXPECT_EQ(list_.TotalSize(), 3 * kWordSize);
  const CheckResult check = list_.Check();
  ASSERT_TRUE(check.ok) << check.what;

  // Finds of one word take the whole one-word block.
  Range found;
  ASSERT_TRUE(list_.FindLast(kWordSize, FindDelete::kLow, &found, &old));
  EXPECT_EQ(found, Words(20, 21));
  ASSERT_TRUE(list_.FindFirst(kWordSize, FindDelete::kHigh, &found, &old));
  EXPECT_EQ(found, Words(2, 3));
  EXPECT_EQ(BlocksOf(list_), std::vector<Range>{Words(11, 12)});
  ASSERT_EQ(list_.Delete(Words(11, 12), &old), Res::kOk);
  EXPECT_EQ(list_.BlockCount(), 0u);
}

TEST_F(FreeListTest, DeleteAtEndsLeavingOneWord) {
  ASSERT_EQ(list_.Insert(Words(8, 16), nullptr), Res::kOk);
  ASSERT_EQ(list_.Insert(Words(32, 40), nullptr), Res::kOk);
  ASSERT_EQ(list_.Delete(Words(8, 15), nullptr), Res::kOk);   // Low end: head moves.
  ASSERT_EQ(list_.Delete(Words(33, 40), nullptr), Res::kOk);  // High end.
  EXPECT_EQ(BlocksOf(list_), (std::vector<Range>{Words(15, 16), Words(32, 33)}));
  EXPECT_EQ(Raw(15), W(32) | 1);
  EXPECT_EQ(Raw(32), 1u);
}

TEST_F(FreeListTest, OverlapAndOutsideDeletesFail) {
  ASSERT_EQ(list_.Insert(Words(8, 16), nullptr), Res::kOk);
  ASSERT_EQ(list_.Insert(Words(24, 32), nullptr), Res::kOk);
  EXPECT_EQ(list_.Insert(Words(15, 17), nullptr), Res::kFail);
  EXPECT_EQ(list_.Insert(Words(16, 25), nullptr), Res::kFail);
  EXPECT_EQ(list_.Insert(Words(0, 40), nullptr), Res::kFail);
  EXPECT_EQ(list_.Insert(Words(10, 12), nullptr), Res::kFail);
  EXPECT_EQ(list_.Delete(Words(12, 26), nullptr), Res::kFail);
  EXPECT_EQ(list_.Delete(Words(16, 24), nullptr), Res::kFail);
  EXPECT_EQ(list_.Delete(Words(31, 33), nullptr), Res::kFail);
  EXPECT_EQ(list_.Delete(Words(0, 1), nullptr), Res::kFail);
  EXPECT_EQ(list_.TotalSize(), 16 * kWordSize);
}

TEST_F(FreeListTest, FindsPickLowestHighestAndLowestLargest) {
  ASSERT_EQ(list_.Insert(Words(100, 104), nullptr), Res::kOk);
  ASSERT_EQ(list_.Insert(Words(10, 14), nullptr), Res::kOk);
  ASSERT_EQ(list_.Insert(Words(50, 52), nullptr), Res::kOk);
  Range found, old;
  EXPECT_FALSE(list_.FindFirst(5 * kWordSize, FindDelete::kNone, &found, &old));
  EXPECT_FALSE(list_.FindLargest(5 * kWordSize, FindDelete::kNone, &found, &old));
  EXPECT_FALSE(list_.FindLast(0, FindDelete::kNone, &found, &old));
  ASSERT_TRUE(list_.FindLargest(kWordSize, FindDelete::kNone, &found, &old));
  EXPECT_EQ(found, Words(10, 14));
  ASSERT_TRUE(list_.FindLast(2 * kWordSize, FindDelete::kNone, &found, &old));
  EXPECT_EQ(found, Words(100, 104));
  ASSERT_TRUE(list_.FindFirst(2 * kWordSize, FindDelete::kEntire, &found, &old));
  EXPECT_EQ(found, Words(10, 14));
  ASSERT_TRUE(list_.FindFirst(2 * kWordSize, FindDelete::kNone, &found, &old));
  EXPECT_EQ(found, Words(50, 52));
}

TEST(FreeListAlignmentTest, WiderAlignmentIsEnforced) {
  alignas(64) static std::uint64_t buffer[64];
  FreeList list(16);
  EXPECT_EQ(list.alignment(), 16u);
  const Addr base = ToAddr(buffer);
  EXPECT_EQ(list.Insert({base + 8, base + 32}, nullptr), Res::kParam);
  EXPECT_EQ(list.Insert({base, base + 24}, nullptr), Res::kParam);
  ASSERT_EQ(list.Insert({base, base + 32}, nullptr), Res::kOk);
  ASSERT_EQ(list.Insert({base + 64, base + 80}, nullptr), Res::kOk);
  Range found;
  ASSERT_TRUE(list.FindLast(16, FindDelete::kHigh, &found, nullptr));
  EXPECT_EQ(found, (Range{base + 64, base + 80}));
  const CheckResult check = list.Check();
  EXPECT_TRUE(check.ok) << check.what;
  EXPECT_EQ(list.TotalSize(), 32u);
}

}  // namespace
}  // namespace core
