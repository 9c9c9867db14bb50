#pragma once

// Helpers for coordinator tests: a thread-safe log of callback events that
// tests can wait on.

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "reborn/coordinator.h"

namespace reborn::testing {

// Records watch events and session states as strings ("changed /a",
// "session connected"), so tests can wait for them and assert on order.
class EventLog {
 public:
  WatchCallback WatchFn() {
    return [this](const WatchEvent& e) {
      Add(std::string(WatchEventTypeName(e.type)) + " " + e.path);
    };
  }
  SessionCallback SessionFn() {
    return [this](SessionState s) {
      Add("session " + std::string(SessionStateName(s)));
    };
  }
  void Add(std::string s) {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(s));
  }
  // Waits until `entry` has been logged (at or after position `from`).
  bool WaitFor(const std::string& entry, absl::Duration timeout,
               size_t from = 0) {
    absl::MutexLock lock(&mu_);
    auto found = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (size_t i = from; i < events_.size(); ++i) {
        if (events_[i] == entry) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&found), timeout);
  }
  std::vector<std::string> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return events_.size();
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    events_.clear();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

// Polls `pred` until true or timeout.
inline bool Eventually(const std::function<bool()>& pred,
                       absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return pred();
}

}  // namespace reborn::testing
