#include "server/latency_histogram.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/latency_monitor.h"

namespace reborn::server {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(LatencyHistogramTest, BucketsAreExactBelow256AndWithinOnePercent) {
  for (int64_t v = 1; v < 256; ++v) {
    EXPECT_EQ(LatencyHistogram::HighestEquivalent(LatencyHistogram::IndexOf(v)),
              v);
  }
  for (int64_t v = 256; v <= LatencyHistogram::kMaxUs; v += 997) {
    const int64_t high =
        LatencyHistogram::HighestEquivalent(LatencyHistogram::IndexOf(v));
    EXPECT_GE(high, v);
    EXPECT_LE(static_cast<double>(high - v), 0.01 * static_cast<double>(v));
  }
  // Out of range values are clamped, never out of bounds.
  EXPECT_EQ(LatencyHistogram::IndexOf(0), LatencyHistogram::IndexOf(1));
  EXPECT_EQ(LatencyHistogram::IndexOf(-5), LatencyHistogram::IndexOf(1));
  EXPECT_EQ(LatencyHistogram::IndexOf(INT64_MAX),
            LatencyHistogram::IndexOf(LatencyHistogram::kMaxUs));
  EXPECT_GT(LatencyHistogram::IndexOf(LatencyHistogram::kMaxUs),
            LatencyHistogram::IndexOf(LatencyHistogram::kMaxUs / 2));
}

TEST(LatencyHistogramTest, PercentilesAndCumulativeBuckets) {
  LatencyHistogram h;
  EXPECT_EQ(h.Count(), 0u);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_TRUE(h.CumulativePowersOfTwo().empty());
  for (int i = 0; i < 98; ++i) h.Record(1);
  h.Record(3);
  h.Record(1000);
  EXPECT_EQ(h.Count(), 100u);
  EXPECT_EQ(h.ValueAtPercentile(50), 1);
  EXPECT_EQ(h.ValueAtPercentile(99), 3);
  EXPECT_GE(h.ValueAtPercentile(100), 1000);
  EXPECT_LE(h.ValueAtPercentile(100), 1010);
  EXPECT_THAT(h.CumulativePowersOfTwo(),
              ElementsAre(Pair(1, 98u), Pair(4, 99u), Pair(1056, 100u)));
  h.Record(50000000);  // over a second: counted as one second
  EXPECT_EQ(h.CumulativePowersOfTwo().back().second, 101u);
}

TEST(LatencyMonitorTest, OneSamplePerSecondAndBoundedHistory) {
  LatencyMonitor m;
  m.AddSampleIfNeeded("command", 50, 1000);  // threshold 0: off
  EXPECT_TRUE(m.LatestAll().empty());
  m.set_threshold_ms(10);
  m.AddSampleIfNeeded("command", 9, 1000);
  EXPECT_TRUE(m.LatestAll().empty());
  m.AddSampleIfNeeded("command", 20, 1000);
  m.AddSampleIfNeeded("command", 30, 1000);  // same second: the worst
  m.AddSampleIfNeeded("command", 15, 1000);
  m.AddSampleIfNeeded("command", 12, 1001);
  auto latest = m.LatestAll();
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].event, "command");
  EXPECT_EQ(latest[0].time, 1001);
  EXPECT_EQ(latest[0].latency_ms, 12);
  EXPECT_EQ(latest[0].max_ms, 30);
  auto history = m.History("command");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].time, 1000);
  EXPECT_EQ(history[0].latency_ms, 30);
  for (int64_t s = 0; s < 500; ++s) m.AddSample("command", 11, 2000 + s);
  history = m.History("command");
  ASSERT_EQ(history.size(), LatencyMonitor::kSamples);
  EXPECT_EQ(history.front().time, 2000 + 500 - 160);
  EXPECT_EQ(history.back().time, 2499);
  EXPECT_TRUE(m.History("nosuch").empty());
  EXPECT_EQ(m.Reset({"COMMAND", "other"}), 1);
  EXPECT_TRUE(m.LatestAll().empty());
}

TEST(LatencyMonitorTest, GraphDrawsLikeRedis) {
  LatencyMonitor m;
  m.AddSample("command", 10, 100);
  m.AddSample("command", 40, 101);
  EXPECT_EQ(m.Graph("nosuch", 101), "");
  EXPECT_EQ(m.Graph("command", 101),
            "command - high 40 ms, low 10 ms (all time high 40 ms)\n" +
                std::string(80, '-') + "\n #\n |\n |\n_|\n  \n10\nss\n");
}

}  // namespace
}  // namespace reborn::server
