#include "replay/pool_subjects.h"

#include <cstring>
#include <map>
#include <random>

#include "gtest/gtest.h"
#include "tests/util/seed.h"

namespace replay {
namespace {

std::unique_ptr<Subject> Make(const std::string& text) {
  auto spec = PolicySpec::Parse(text);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return nullptr;
  auto subject = MakePoolSubject(*spec);
  EXPECT_TRUE(subject.ok()) << subject.status();
  return subject.ok() ? std::move(*subject) : nullptr;
}

class PoolSubjectTest : public ::testing::TestWithParam<const char*> {};

// Random sizes and alignments through each policy: blocks are aligned, do
// not overlap (contents survive), and the subject checks clean.
TEST_P(PoolSubjectTest, RandomBlocksAreAlignedAndDisjoint) {
  auto subject = Make(GetParam());
  ASSERT_NE(subject, nullptr);
  std::mt19937_64 random(testing_util::TestSeed());
  struct Live {
    std::size_t size, alignment;
    unsigned char fill;
  };
  std::map<void*, Live> live;
  for (int i = 0; i < 20000; ++i) {
    if (!live.empty() && (live.size() > 500 || random() % 2 == 0)) {
      auto it = live.begin();
      std::advance(it, random() % live.size());
      const auto* bytes = static_cast<unsigned char*>(it->first);
      for (std::size_t j = 0; j < it->second.size; ++j) ASSERT_EQ(bytes[j], it->second.fill);
      subject->Free(it->first, it->second.size, it->second.alignment);
      live.erase(it);
    } else {
      const std::size_t size = 1 + random() % (random() % 8 == 0 ? 20000 : 600);
      const std::size_t alignment = random() % 16 == 0 ? 64 << (random() % 4) : 16;
      void* p = subject->Allocate(size, alignment);
      ASSERT_NE(p, nullptr) << subject->FailureReason();
      ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u);
      const auto fill = static_cast<unsigned char>(i);
      std::memset(p, fill, size);
      live[p] = {size, alignment, fill};
    }
    if (i % 1000 == 0) {
      ASSERT_TRUE(subject->Check().ok()) << subject->Check();
    }
  }
  EXPECT_GT(subject->PeakFootprint(), 0u);
  for (auto& [p, l] : live) subject->Free(p, l.size, l.alignment);
  EXPECT_TRUE(subject->Check().ok()) << subject->Check();
}

INSTANTIATE_TEST_SUITE_P(
    Policies, PoolSubjectTest,
    ::testing::Values("mvff", "mvff(first_fit=false,slot_high=true,spare=0)",
                      "mvff(arena=client,client_size=64m)", "mfs-classes",
                      "mfs-classes(classes=24,40,100;large=mvff(extend_by=16k))",
                      "node-slice-classes", "mvff(mlworks=true)", "mvff(arena_precommit=4m)",
                      "mvff(sac_count=8)", "mvff(sac=48,400,4k;sac_count=3;spare=0)"));

TEST(PoolSubjectErrorsTest, BadSpecsAreRefusedWithAReason) {
  struct Case {
    const char* spec;
    const char* says;
  };
  for (const Case& c :
       {Case{"slab", "unknown policy 'slab'"},
        Case{"mvff(colour=red)", "unknown argument 'colour'"},
        Case{"mvff(align=8)", "use align >= 16"}, Case{"mvff(arena=disk)", "expected vm or client"},
        Case{"mfs-classes(large=mfs-classes)", "expected mvff(...)"},
        Case{"mfs-classes(classes=0,99999999)", "classes must be"},
        Case{"mvff(arena_precommit=lots)", "expected a size in bytes"},
        Case{"mvff(arena_precommit=8m,commit_limit=1m)", "commit limit"},
        Case{"mvff(sac=24)", "sac must list increasing multiples of 16"},
        Case{"mvff(sac=64,32)", "sac must list increasing multiples of 16"},
        Case{"mvff(sac=16,2m)", "up to 1m"},
        Case{"mvff(sac=16,sac_count=lots)", "sac_count=lots"}}) {
    auto spec = PolicySpec::Parse(c.spec);
    ASSERT_TRUE(spec.ok()) << c.spec;
    auto subject = MakePoolSubject(*spec);
    ASSERT_FALSE(subject.ok()) << c.spec;
    EXPECT_NE(subject.status().message().find(c.says), std::string::npos)
        << c.spec << ": " << subject.status();
  }
}

TEST(PoolSubjectErrorsTest, CommitLimitGivesNullAndAReason) {
  auto subject = Make("mvff(arena=client,client_size=8m,commit_limit=1m)");
  ASSERT_NE(subject, nullptr);
  std::vector<void*> blocks;
  void* p;
  while ((p = subject->Allocate(10000, 16)) != nullptr) blocks.push_back(p);
  EXPECT_NE(subject->FailureReason().find("commit limit"), std::string::npos)
      << subject->FailureReason();
  EXPECT_LE(subject->PeakFootprint(), std::size_t{1} << 20);
  for (void* b : blocks) subject->Free(b, 10000, 16);
  EXPECT_NE(subject->Allocate(10000, 16), nullptr);
  EXPECT_TRUE(subject->Check().ok());
}

// The cache's counters are reported beside the arena's.
TEST(PoolSubjectCountersTest, SegregatedCacheReportsFillsAndEmpties) {
  auto subject = Make("mvff(sac=32,64;sac_count=4)");
  ASSERT_NE(subject, nullptr);
  std::vector<void*> blocks;
  for (int i = 0; i < 10; ++i) blocks.push_back(subject->Allocate(20, 16));
  for (void* b : blocks) subject->Free(b, 20, 16);
  void* large = subject->Allocate(1000, 16);
  ASSERT_NE(large, nullptr);
  subject->Free(large, 1000, 16);
  std::map<std::string, std::uint64_t> counters;
  for (const auto& [name, value] : subject->Counters()) counters[name] = value;
  // Every third allocation finds the class empty (a fill takes 1 + 2); every
  // second free after the third finds it full (4) and drains it to 2.
  EXPECT_EQ(counters["sac fills"], 4u);
  EXPECT_EQ(counters["sac empties"], 4u);
  EXPECT_EQ(counters["sac large"], 1u);
  EXPECT_EQ(counters["sac cached bytes"], 4 * 32u);
  EXPECT_TRUE(subject->Check().ok()) << subject->Check();
  EXPECT_EQ(counters["sac refused"], 0u);
  EXPECT_EQ(Make("mvff")->Counters().size() + 7, subject->Counters().size());
  std::size_t walked = 0;
  subject->WalkCachedBlocks([&](core::Range block) {
    walked += block.size();
    return true;
  });
  EXPECT_EQ(walked, 4 * 32u);
}

}  // namespace
}  // namespace replay
