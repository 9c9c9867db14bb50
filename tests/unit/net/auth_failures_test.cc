#include "net/auth_failures.h"

#include "gtest/gtest.h"

namespace reborn::net {
namespace {

TEST(AuthFailuresTest, FirstFailuresAreFreeThenRepliesWaitLonger) {
  EXPECT_EQ(AuthFailures::DelayMs(1), 0);
  EXPECT_EQ(AuthFailures::DelayMs(AuthFailures::kFreeAttempts), 0);
  EXPECT_EQ(AuthFailures::DelayMs(AuthFailures::kFreeAttempts + 1), 100);
  EXPECT_EQ(AuthFailures::DelayMs(AuthFailures::kFreeAttempts + 2), 200);
  EXPECT_EQ(AuthFailures::DelayMs(1000), AuthFailures::kMaxDelayMs);
  int64_t previous = 0;
  for (int i = 1; i < 64; ++i) {
    EXPECT_GE(AuthFailures::DelayMs(i), previous);
    previous = AuthFailures::DelayMs(i);
  }
}

TEST(AuthFailuresTest, EveryFailureIsCounted) {
  AuthFailures failures;
  for (int i = 1; i <= 50; ++i) failures.Record("127.0.0.1:1", i);
  EXPECT_EQ(failures.total(), 50u);
  failures.Reset();
  EXPECT_EQ(failures.total(), 0u);
}

}  // namespace
}  // namespace reborn::net
