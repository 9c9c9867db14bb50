#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace reborn::net {

// Failed AUTH attempts (AUTH and HELLO ... AUTH) of one server (qdb-server,
// reborn-proxy). Guessing a password must
// not be free: every failure is counted (INFO stats auth_failures), logged
// at most once a second with the number left out since, and from the
// kFreeAttempts+1-th failure on one connection its reply waits (DelayMs).
//
// Thread-safe: the count is atomic, the log throttle takes a mutex.
// Compares a password without an early exit, so that the time taken does
// not tell how much of a guess was right.
bool PasswordMatches(std::string_view given, std::string_view required);

// The encoded reply to a failed AUTH (RESP2 and RESP3 alike).
inline constexpr std::string_view kWrongPassError =
    "WRONGPASS invalid username-password pair or user is disabled.";

class AuthFailures {
 public:
  static constexpr int kFreeAttempts = 3;
  static constexpr int64_t kMaxDelayMs = 2000;

  // Records one failure by `peer` (its `failures_on_connection`-th, counted
  // from 1) and returns how long to hold its reply.
  int64_t Record(std::string_view peer, int failures_on_connection)
      ABSL_LOCKS_EXCLUDED(mu_);

  // 0 for the first kFreeAttempts failures, then 100 ms doubling up to
  // kMaxDelayMs: a few guesses a second per connection at most.
  static int64_t DelayMs(int failures_on_connection);

  uint64_t total() const { return total_.load(std::memory_order_relaxed); }
  void Reset() { total_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> total_{0};
  absl::Mutex mu_;
  int64_t last_log_ms_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t unlogged_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace reborn::net
