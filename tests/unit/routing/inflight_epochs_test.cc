#include "routing/inflight_epochs.h"

#include <gtest/gtest.h>

namespace reborn::routing {
namespace {

TEST(InflightEpochsTest, DrainedAtOnceWhenNothingIsOut) {
  InflightEpochs inflight;
  int drained = 0;
  inflight.Advance([&] { ++drained; });
  EXPECT_EQ(drained, 1);
  EXPECT_EQ(inflight.epoch(), 1u);
}

TEST(InflightEpochsTest, WaitsForTheRequestsOfOlderTablesOnly) {
  InflightEpochs inflight;
  const uint64_t a = inflight.Begin();
  const uint64_t b = inflight.Begin();
  int drained = 0;
  inflight.Advance([&] { ++drained; });
  // Sent with the new table: not waited for.
  const uint64_t c = inflight.Begin();
  EXPECT_EQ(c, 1u);
  EXPECT_EQ(inflight.outstanding(), 3);
  inflight.End(a);
  EXPECT_EQ(drained, 0);
  inflight.End(b);
  EXPECT_EQ(drained, 1);
  inflight.End(c);
  EXPECT_EQ(inflight.outstanding(), 0);
  EXPECT_EQ(drained, 1);
}

TEST(InflightEpochsTest, TwoChangesInARow) {
  InflightEpochs inflight;
  const uint64_t old = inflight.Begin();
  std::vector<int> order;
  inflight.Advance([&] { order.push_back(1); });
  const uint64_t mid = inflight.Begin();
  inflight.Advance([&] { order.push_back(2); });
  // The second change waits for both epochs before it.
  inflight.End(mid);
  EXPECT_TRUE(order.empty());
  inflight.End(old);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(InflightEpochsTest, ACallbackMaySendAndAdvance) {
  InflightEpochs inflight;
  const uint64_t first = inflight.Begin();
  int nested = 0;
  uint64_t sent = 0;
  inflight.Advance([&] {
    sent = inflight.Begin();
    inflight.Advance([&] { ++nested; });
  });
  inflight.End(first);
  EXPECT_EQ(nested, 0);  // waits for the request the callback sent
  inflight.End(sent);
  EXPECT_EQ(nested, 1);
  EXPECT_EQ(inflight.outstanding(), 0);
}

TEST(InflightEpochsTest, UnknownEpochsAreIgnored) {
  InflightEpochs inflight;
  inflight.End(7);
  EXPECT_EQ(inflight.outstanding(), 0);
}

}  // namespace
}  // namespace reborn::routing
