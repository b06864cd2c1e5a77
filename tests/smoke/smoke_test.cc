// Smoke test of the build setup: absl, protobuf (via cc_proto), gtest/gmock, zstd.
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/smoke/smoke.pb.h"
#include "zstd.h"

namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError(absl::StrCat("odd: ", x));
  return x / 2;
}

TEST(Smoke, Absl) {
  EXPECT_EQ(absl::StrCat("a", 1, "b"), "a1b");
  EXPECT_EQ(absl::StrFormat("%05d", 42), "00042");
  EXPECT_TRUE(absl::OkStatus().ok());
  ASSERT_TRUE(Half(4).ok());
  EXPECT_EQ(*Half(4), 2);
  EXPECT_EQ(Half(3).status().code(), absl::StatusCode::kInvalidArgument);
  absl::flat_hash_map<std::string, int> m{{"x", 1}};
  EXPECT_EQ(m["x"], 1);
  absl::Mutex mu;
  absl::MutexLock lock(&mu);
  EXPECT_EQ(absl::ToInt64Milliseconds(absl::Seconds(2)), 2000);
}

TEST(Smoke, Proto) {
  workbench::smoke::Ping ping;
  ping.set_text("hello");
  ping.set_count(7);
  ping.mutable_at()->set_seconds(123);
  std::string wire;
  ASSERT_TRUE(ping.SerializeToString(&wire));
  workbench::smoke::Ping back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_EQ(back.text(), "hello");
  EXPECT_EQ(back.count(), 7);
  EXPECT_EQ(back.at().seconds(), 123);
}

TEST(Smoke, Gmock) {
  std::vector<int> v{3, 1, 2};
  EXPECT_THAT(v, ::testing::UnorderedElementsAre(1, 2, 3));
}

TEST(Smoke, Zstd) {
  const std::string in(1000, 'z');
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  ASSERT_FALSE(ZSTD_isError(n));
  EXPECT_LT(n, in.size());
  std::string back(in.size(), '\0');
  const size_t m = ZSTD_decompress(back.data(), back.size(), out.data(), n);
  ASSERT_FALSE(ZSTD_isError(m));
  EXPECT_EQ(back, in);
}

TEST(Smoke, Cxx20) {
  auto cmp = (1 <=> 2);
  EXPECT_TRUE(cmp < 0);
}

}  // namespace
