#include "lib/base/status.h"

#include <memory>

#include "gtest/gtest.h"

namespace llmtk {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError(absl::StrCat(x, " is odd"));
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(h, Half(h));
  return h;
}

absl::Status CheckQuarter(int x) {
  RETURN_IF_ERROR(Quarter(x).status());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> MoveOnly(bool ok) {
  if (!ok) return absl::NotFoundError("none");
  return std::make_unique<int>(7);
}

absl::StatusOr<int> UseMoveOnly(bool ok) {
  ASSIGN_OR_RETURN(auto p, MoveOnly(ok));
  return *p;
}

TEST(Status, AssignOrReturnPropagatesFirstError) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_EQ(Quarter(6).status(), absl::InvalidArgumentError("3 is odd"));
  EXPECT_EQ(Quarter(5).status(), absl::InvalidArgumentError("5 is odd"));
}

TEST(Status, ReturnIfError) {
  EXPECT_TRUE(CheckQuarter(4).ok());
  EXPECT_EQ(CheckQuarter(2), absl::InvalidArgumentError("1 is odd"));
}

TEST(Status, MoveOnlyValues) {
  EXPECT_EQ(UseMoveOnly(true).value(), 7);
  EXPECT_EQ(UseMoveOnly(false).status(), absl::NotFoundError("none"));
}

TEST(Status, AnnotateKeepsCode) {
  EXPECT_EQ(Annotate(absl::DataLossError("bad"), "f.jsonl:3"), absl::DataLossError("bad, f.jsonl:3"));
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
}

}  // namespace
}  // namespace llmtk
