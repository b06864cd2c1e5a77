#include "replay/policy_spec.h"

#include "gtest/gtest.h"

namespace replay {
namespace {

TEST(PolicySpecTest, BareName) {
  auto spec = PolicySpec::Parse("mvff");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "mvff");
  EXPECT_TRUE(spec->args.empty());
}

TEST(PolicySpecTest, ArgumentsListsAndNestedSpecs) {
  auto spec = PolicySpec::Parse("mfs-classes(classes=16,32,64;large=mvff(spare=0.5,align=32))");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "mfs-classes");
  auto classes = spec->GetSizeList("classes", {});
  ASSERT_TRUE(classes.ok());
  EXPECT_EQ(*classes, (std::vector<std::uint64_t>{16, 32, 64}));
  auto large = spec->GetSpec("large", "mvff");
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_EQ(large->name, "mvff");
  EXPECT_EQ(*large->GetDouble("spare", 0), 0.5);
  EXPECT_EQ(*large->GetSize("align", 0), 32u);
}

TEST(PolicySpecTest, TypedValuesAndDefaults) {
  auto spec = PolicySpec::Parse("mvff(first_fit=false, extend_by=64k)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(*spec->GetBool("first_fit", true), false);
  EXPECT_EQ(*spec->GetSize("extend_by", 0), 65536u);
  EXPECT_EQ(*spec->GetSize("mean_size", 32), 32u);
}

TEST(PolicySpecTest, ErrorsNameTheSpecAndWhatWasExpected) {
  for (const char* bad :
       {"mvff(", "mvff(spare=0.5", "mvff)x", "(x=1)", "mvff(=3)", "mvff(a=1,a=2)", "mvff(16)"}) {
    auto spec = PolicySpec::Parse(bad);
    EXPECT_FALSE(spec.ok()) << bad;
    if (!spec.ok()) {
      EXPECT_NE(spec.status().message().find("policy '"), std::string::npos);
    }
  }
  auto spec = PolicySpec::Parse("mvff(first_fit=maybe,extend_by=lots,spare=x)");
  ASSERT_TRUE(spec.ok());
  EXPECT_NE(spec->GetBool("first_fit", true).status().message().find("expected true or false"),
            std::string::npos);
  EXPECT_NE(spec->GetSize("extend_by", 0).status().message().find("expected a size"),
            std::string::npos);
  EXPECT_FALSE(spec->GetDouble("spare", 0).ok());
  auto unknown = PolicySpec::Parse("mvff(colour=blue)");
  ASSERT_TRUE(unknown.ok());
  absl::Status s = unknown->CheckKnownKeys({"spare", "align"});
  EXPECT_NE(s.message().find("unknown argument 'colour'"), std::string::npos) << s;
}

}  // namespace
}  // namespace replay
