#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "server/latency_histogram.h"

namespace reborn::server {

// Redis 7's per-command latency histograms (latency-tracking), keyed by the
// command's full name ("set", "config|get"). A histogram is made the first
// time its command runs, so memory grows with the commands used, never
// past one per command of the table. Thread-safe: a shared lock to find a
// histogram, atomics to count in it.
class CommandLatencies {
 public:
  void Record(std::string_view full_name, int64_t us);
  // Every histogram with at least one call, by name.
  std::vector<std::pair<std::string, std::shared_ptr<const LatencyHistogram>>>
  All() const;
  // The histogram of `full_name`, null when it never ran.
  std::shared_ptr<const LatencyHistogram> Find(
      std::string_view full_name) const;
  // CONFIG RESETSTAT.
  void Reset();

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<LatencyHistogram>, std::less<>> by_name_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace reborn::server
