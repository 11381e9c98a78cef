#include "keyledger/common/status.h"

#include <gtest/gtest.h>

namespace keyledger::common {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgument("value must be positive");
  return v;
}

Result<int> Doubled(int v) {
  KL_ASSIGN_OR_RETURN(int parsed, ParsePositive(v));
  return parsed * 2;
}

TEST(Status, EveryCodeHasAName) {
  EXPECT_EQ(StatusCodeName(StatusCode::kConflict), "conflict");
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "failed_precondition");
  EXPECT_EQ(StatusCodeName(StatusCode::kDeadlineExceeded), "deadline_exceeded");
  EXPECT_EQ(FailedPrecondition("fenced").ToString(), "failed_precondition: fenced");
}

TEST(Status, ContextIsPrependedAndCodeKept) {
  Status s = NotFound("key 42").WithContext("rename");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "rename: key 42");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(Result, PropagatesErrorsThroughAssignOrReturn) {
  EXPECT_EQ(*Doubled(4), 8);
  Result<int> r = Doubled(-1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Result, AnOkStatusWithoutAValueBecomesAnInternalError) {
  Result<int> r = Status::Ok();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(ResultDeathTest, ValueOfAnErrorStopsTheProcessNamingTheError) {
  Result<int> r = Unavailable("broker away");
  EXPECT_DEATH((void)r.value(), "broker away");
  EXPECT_DEATH((void)*r, "broker away");
}

}  // namespace
}  // namespace keyledger::common
