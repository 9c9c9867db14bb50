#include "net/auth_failures.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace reborn::net {

bool PasswordMatches(std::string_view given, std::string_view required) {
  // Every byte of the longer string is looked at, whatever matches.
  const size_t n = std::max(given.size(), required.size());
  unsigned char diff = given.size() == required.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const auto x = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    const auto y =
        i < required.size() ? static_cast<unsigned char>(required[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

int64_t AuthFailures::DelayMs(int failures_on_connection) {
  if (failures_on_connection <= kFreeAttempts) return 0;
  const int doublings = std::min(failures_on_connection - kFreeAttempts - 1, 5);
  return std::min<int64_t>(kMaxDelayMs, int64_t{100} << doublings);
}

int64_t AuthFailures::Record(std::string_view peer,
                             int failures_on_connection) {
  total_.fetch_add(1, std::memory_order_relaxed);
  const int64_t now_ms = absl::GetCurrentTimeNanos() / 1000000;
  uint64_t skipped = 0;
  bool log = false;
  {
    absl::MutexLock lock(&mu_);
    if (now_ms - last_log_ms_ >= 1000) {
      log = true;
      skipped = unlogged_;
      unlogged_ = 0;
      last_log_ms_ = now_ms;
    } else {
      ++unlogged_;
    }
  }
  if (log) {
    spdlog::warn(
        "AUTH failed for client {} ({} failures on its connection; {} more "
        "failures not logged in the last second)",
        peer, failures_on_connection, skipped);
  }
  return DelayMs(failures_on_connection);
}

}  // namespace reborn::net
