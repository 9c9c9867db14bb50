#include "server/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace reborn::server {

size_t LatencyHistogram::IndexOf(int64_t us) {
  us = std::clamp<int64_t>(us, 1, kMaxUs);
  const auto v = static_cast<uint64_t>(us);
  if (v < kLinear) return static_cast<size_t>(v);
  const int msb = 63 - std::countl_zero(v);  // >= kSubBits + 1
  const int shift = msb - kSubBits;          // >= 1
  const size_t sub = static_cast<size_t>(v >> shift) - (size_t{1} << kSubBits);
  return kLinear + static_cast<size_t>(shift - 1) * (size_t{1} << kSubBits) +
         sub;
}

int64_t LatencyHistogram::HighestEquivalent(size_t index) {
  if (index < kLinear) return static_cast<int64_t>(index);
  const size_t rel = index - kLinear;
  const int shift = static_cast<int>(rel >> kSubBits) + 1;
  const uint64_t sub =
      (rel & ((size_t{1} << kSubBits) - 1)) + (uint64_t{1} << kSubBits);
  return static_cast<int64_t>(((sub + 1) << shift) - 1);
}

void LatencyHistogram::Record(int64_t us) {
  counts_[IndexOf(us)].fetch_add(1, std::memory_order_relaxed);
}

uint64_t LatencyHistogram::Count() const {
  uint64_t total = 0;
  for (const auto& c : counts_) total += c.load(std::memory_order_relaxed);
  return total;
}

int64_t LatencyHistogram::ValueAtPercentile(double percentile) const {
  std::array<uint64_t, kBuckets> snap;
  uint64_t total = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    snap[i] = counts_[i].load(std::memory_order_relaxed);
    total += snap[i];
  }
  if (total == 0) return 0;
  const double p = std::clamp(percentile, 0.0, 100.0);
  // As hdr_value_at_percentile: the first bucket that reaches the count.
  const uint64_t wanted = std::max<uint64_t>(
      1, static_cast<uint64_t>(
             std::llround(p / 100.0 * static_cast<double>(total))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += snap[i];
    if (seen >= wanted) return HighestEquivalent(i);
  }
  return HighestEquivalent(kBuckets - 1);
}

std::vector<std::pair<int64_t, uint64_t>>
LatencyHistogram::CumulativePowersOfTwo() const {
  std::vector<std::pair<int64_t, uint64_t>> out;
  uint64_t cumulative = 0, previous = 0;
  size_t i = 0;
  for (int k = 0;; ++k) {
    // Redis iterates its nanosecond histogram from 1024 ns doubling, and
    // names each step by its highest equivalent value (two significant
    // digits: + 2^(k+3) - 1) in whole microseconds: 1, 2, 4, 8, 16, 33,
    // 66, 132, ...
    const int64_t bound =
        ((int64_t{1024} << k) + (int64_t{1} << (k + 3)) - 1) / 1000;
    // Every bucket whose values are all <= bound.
    while (i < kBuckets && HighestEquivalent(i) <= bound) {
      cumulative += counts_[i].load(std::memory_order_relaxed);
      ++i;
    }
    if (cumulative > previous) out.emplace_back(bound, cumulative);
    previous = cumulative;
    if (i >= kBuckets) break;
  }
  return out;
}

}  // namespace reborn::server
