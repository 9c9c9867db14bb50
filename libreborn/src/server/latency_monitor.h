#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace reborn::server {

// Redis' latency monitor: per event ("command", "fast-command"), the last
// 160 seconds that saw a latency of at least `latency-monitor-threshold`
// milliseconds (one sample per second, the worst of it) and the all-time
// worst. Bounded: one fixed ring per event name, and the names are the
// server's own. Thread-safe.
class LatencyMonitor {
 public:
  static constexpr size_t kSamples = 160;  // LATENCY_TS_LEN

  struct Sample {
    int64_t time = 0;  // unix seconds; 0 = unused
    int64_t latency_ms = 0;
  };
  struct Latest {
    std::string event;
    int64_t time = 0;
    int64_t latency_ms = 0;
    int64_t max_ms = 0;
  };

  // 0 disables the monitor.
  void set_threshold_ms(int64_t ms) {
    threshold_ms_.store(ms, std::memory_order_relaxed);
  }
  int64_t threshold_ms() const {
    return threshold_ms_.load(std::memory_order_relaxed);
  }

  // latencyAddSampleIfNeeded: records when the monitor is on and `ms`
  // reaches the threshold.
  void AddSampleIfNeeded(std::string_view event, int64_t ms, int64_t now_s) {
    const int64_t t = threshold_ms();
    if (t != 0 && ms >= t) AddSample(event, ms, now_s);
  }
  void AddSample(std::string_view event, int64_t ms, int64_t now_s);

  std::vector<Latest> LatestAll() const;
  // Oldest first; empty for an unknown event.
  std::vector<Sample> History(std::string_view event) const;
  // Drops the named events (case-insensitive), every event when `events`
  // is empty; returns how many were dropped.
  int64_t Reset(const std::vector<std::string>& events);
  // LATENCY GRAPH's text; "" when the event has no samples.
  std::string Graph(std::string_view event, int64_t now_s) const;
  // LATENCY DOCTOR's report. `slowlog_threshold_us` feeds its advice.
  std::string Doctor(int64_t slowlog_threshold_us, int64_t now_s) const;

 private:
  struct Series {
    std::array<Sample, kSamples> samples{};
    size_t idx = 0;
    int64_t max_ms = 0;
  };

  std::atomic<int64_t> threshold_ms_{0};
  mutable std::mutex mu_;
  std::map<std::string, Series, std::less<>> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reborn::server
