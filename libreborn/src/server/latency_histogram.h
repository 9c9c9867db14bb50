#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

namespace reborn::server {

// A bounded latency histogram in microseconds, shaped like the
// HdrHistogram Redis keeps per command (1 ns .. 1 s, two significant
// digits): values below 256 us have a bucket each, larger ones share
// 128 linear sub-buckets per power of two (under 1% error), and values
// over one second count as one second. Fixed size (about 14 KiB); Record()
// is lock-free and may run on any thread.
class LatencyHistogram {
 public:
  static constexpr int64_t kMaxUs = 1000000;

  void Record(int64_t us);
  uint64_t Count() const;
  // The highest value equivalent to the one at `percentile` (0..100), as
  // hdr_value_at_percentile: 0 when empty.
  int64_t ValueAtPercentile(double percentile) const;
  // Redis' LATENCY HISTOGRAM buckets: (upper bound in us, cumulative count)
  // for Redis' doubling bounds 1, 2, 4, 8, 16, 33, 66, ... where the
  // cumulative count grew.
  std::vector<std::pair<int64_t, uint64_t>> CumulativePowersOfTwo() const;

  // Bucket arithmetic, public for the tests.
  static size_t IndexOf(int64_t us);
  static int64_t HighestEquivalent(size_t index);

 private:
  static constexpr int kSubBits = 7;  // 128 sub-buckets per power of two
  static constexpr size_t kLinear = size_t{2} << kSubBits;  // 0..255 exact
  static constexpr size_t kBuckets = kLinear + 12 * (size_t{1} << kSubBits);
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
};

}  // namespace reborn::server
