#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace reborn {

// The reply of a command that could not answer at once (BLPOP and the other
// blocking commands). The handler creates one, stores it in
// Session::deferred and returns without writing; the connection then stops
// running further commands of that client until the reply arrives through
// Complete() - from any thread - or the timeout passes.
//
// Thread-safe: a mutex guards the state; callbacks run outside it.
class DeferredReply {
 public:
  // `timeout_ms` 0 waits forever; `timeout_reply` is sent when it passes.
  DeferredReply(int64_t timeout_ms, std::string timeout_reply)
      : timeout_ms_(timeout_ms), timeout_reply_(std::move(timeout_reply)) {}

  // Delivers the encoded reply. Only the first Complete/Cancel counts;
  // returns false if the reply was already settled.
  bool Complete(std::string reply) {
    std::function<void(std::string)> deliver;
    std::function<void(std::string_view)> settled;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (settled_) return false;
      settled_ = true;
      settled = std::move(on_settled_);
      if (!deliver_) {
        early_ = reply;  // the connection attaches later
      } else {
        deliver = deliver_;
      }
    }
    if (settled) settled(reply);
    if (deliver) deliver(std::move(reply));
    return true;
  }

  // The client went away or the timeout passed: nothing more will be sent;
  // runs the abandon hook (which drops the waiter from its registry).
  bool Cancel() {
    std::function<void()> abandon;
    std::function<void(std::string_view)> settled;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (settled_) return false;
      settled_ = true;
      abandon = std::move(on_abandon_);
      settled = std::move(on_settled_);
    }
    if (abandon) abandon();
    if (settled) settled({});
    return true;
  }

  bool settled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return settled_;
  }

  // Set by the connection: posts the reply to the connection's thread. If
  // the reply came first, it is delivered now.
  void AttachDelivery(std::function<void(std::string)> deliver) {
    std::optional<std::string> early;
    {
      std::lock_guard<std::mutex> lock(mu_);
      deliver_ = deliver;
      early.swap(early_);
    }
    if (early) deliver(std::move(*early));
  }

  // Set by whoever parks the waiter.
  void OnAbandon(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    on_abandon_ = std::move(hook);
  }

  // Runs once when the reply is settled either way (served, timed out or
  // abandoned), before it is delivered: the server observes the command
  // then (slow log, latency; an error reply in the error stats), as Redis
  // does when it unblocks a client. The hook gets the reply Complete() was
  // given, empty after Cancel() (a timeout's reply is never an error).
  void OnSettled(std::function<void(std::string_view reply)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    on_settled_ = std::move(hook);
  }

  // A postponed command (CLIENT PAUSE): when the reply settles, the
  // connection runs the command that parked again instead of sending a
  // reply. Set before the connection takes the reply over.
  void set_retry(bool retry) { retry_ = retry; }
  bool retry() const { return retry_; }
  int64_t timeout_ms() const { return timeout_ms_; }
  const std::string& timeout_reply() const { return timeout_reply_; }

 private:
  const int64_t timeout_ms_;
  const std::string timeout_reply_;
  mutable std::mutex mu_;
  bool settled_ = false;
  bool retry_ = false;
  std::optional<std::string> early_;
  std::function<void(std::string)> deliver_;
  std::function<void()> on_abandon_;
  std::function<void(std::string_view)> on_settled_;
};

}  // namespace reborn
