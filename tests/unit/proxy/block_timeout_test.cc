#include "proxy/block_timeout.h"

#include <gtest/gtest.h>

namespace reborn::proxy {
namespace {

using Args = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

TEST(BlockTimeoutTest, WhereTheTimeoutIs) {
  EXPECT_EQ(BlockTimeoutIndex(Args{"blpop", "a", "b", "1"}), 3u);
  EXPECT_EQ(BlockTimeoutIndex(Args{"BLMPOP", "1", "1", "a", "LEFT"}), 1u);
  EXPECT_EQ(BlockTimeoutIndex(Args{"bzmpop", "1", "1", "a", "MIN"}), 1u);
  EXPECT_EQ(BlockTimeoutIndex(Args{"xread", "COUNT", "1", "BLOCK", "500",
                                   "STREAMS", "s", "$"}),
            4u);
  // Without BLOCK XREAD does not block; a "block" stream name is a key.
  EXPECT_EQ(BlockTimeoutIndex(Args{"xread", "STREAMS", "block", "0"}), 0u);
  EXPECT_EQ(BlockTimeoutIndex(
                Args{"xreadgroup", "GROUP", "g", "c", "STREAMS", "s", ">"}),
            0u);
}

TEST(BlockTimeoutTest, XreadTimeoutIsInMilliseconds) {
  Args xread{"xread", "BLOCK", "2000", "STREAMS", "s", "$"};
  Clock::time_point deadline = BlockDeadline(xread);
  ASSERT_NE(deadline, Clock::time_point::max());
  EXPECT_LT(deadline - Clock::now(), std::chrono::milliseconds(2100));
  EXPECT_GT(deadline - Clock::now(), std::chrono::milliseconds(1500));
  Args left = WithRemainingTimeout(xread, deadline);
  int64_t ms = std::stoll(left[2]);
  EXPECT_GT(ms, 1500);
  EXPECT_LE(ms, 2000);
  EXPECT_EQ(left[5], "$");  // the ID is untouched
  EXPECT_EQ(BlockDeadline(Args{"xread", "BLOCK", "0", "STREAMS", "s", "$"}),
            Clock::time_point::max());
  Args blpop = WithRemainingTimeout(Args{"blpop", "a", "5"},
                                    Clock::now() + std::chrono::seconds(2));
  EXPECT_NEAR(std::stod(blpop[2]), 2.0, 0.2);
}

}  // namespace
}  // namespace reborn::proxy
