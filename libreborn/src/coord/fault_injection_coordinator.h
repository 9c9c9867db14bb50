#pragma once

// A Coordinator wrapper for tests (the RocksDB *Wrapper idea): forwards to a
// real backend, but can drop operations (they fail with Unavailable without
// reaching the backend), delay them, fail chosen ones, and force the
// backend's session to expire.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "reborn/coordinator.h"
#include "reborn/testing/session_expiry.h"

namespace reborn::coord {

// Synchronisation: the fault settings are guarded by `mu_`, read once per
// operation; the operation itself runs without the lock.
class FaultInjectionCoordinator : public Coordinator,
                                  public testing::SessionExpiry {
 public:
  // Decides per operation ("create", "get", "set", "delete", "children",
  // "exists", "multi", "watch") and path: OK to pass, an error to fail.
  using Filter =
      std::function<absl::Status(std::string_view op, std::string_view path)>;

  explicit FaultInjectionCoordinator(std::unique_ptr<Coordinator> base)
      : base_(std::move(base)) {}

  // Every operation fails with Unavailable while set.
  void SetDropAll(bool drop);
  // The next `n` operations fail with Unavailable.
  void DropNext(int n);
  // Sleeps this long before every operation.
  void SetDelay(absl::Duration delay);
  void SetFilter(Filter filter);
  // Decides after a write ("create", "set", "delete", "multi") reached the
  // backend: an error replaces its reply — applied, but the answer lost, as
  // with a ZooKeeper operation timeout.
  void SetReplyFilter(Filter filter);
  // Watch events are swallowed while set (as if the notifications were lost).
  void SetMuteWatches(bool mute);
  int64_t dropped() const;

  Coordinator* base() const { return base_.get(); }

  absl::StatusOr<std::string> Create(std::string_view path,
                                     std::string_view data,
                                     CreateMode mode) override;
  absl::StatusOr<NodeData> Get(std::string_view path) override;
  absl::StatusOr<int64_t> Set(std::string_view path, std::string_view data,
                              int64_t expected_version) override;
  absl::Status Delete(std::string_view path, int64_t expected_version) override;
  absl::StatusOr<std::vector<std::string>> Children(
      std::string_view path) override;
  absl::StatusOr<bool> Exists(std::string_view path) override;
  absl::StatusOr<std::vector<CoordOpResult>> Multi(
      const std::vector<CoordOp>& ops) override;
  absl::StatusOr<std::unique_ptr<Subscription>> Watch(
      std::string_view path, WatchKind kind, WatchCallback callback) override;
  std::unique_ptr<Subscription> AddSessionListener(
      SessionCallback callback) override {
    return base_->AddSessionListener(std::move(callback));
  }
  SessionState session_state() const override { return base_->session_state(); }
  absl::Duration session_timeout() const override {
    return base_->session_timeout();
  }
  std::string uri() const override { return base_->uri(); }
  absl::Status ExpireSessionForTest() override {
    return testing::ExpireSession(*base_);
  }

 private:
  absl::Status Inject(std::string_view op, std::string_view path);
  absl::Status LoseReply(std::string_view op, std::string_view path);
  // The backend's reply to a write, or the reply filter's error.
  template <typename T>
  T Reply(std::string_view op, std::string_view path, T reply) {
    if (!reply.ok()) return reply;
    if (absl::Status s = LoseReply(op, path); !s.ok()) return s;
    return reply;
  }

  std::unique_ptr<Coordinator> base_;
  mutable absl::Mutex mu_;
  bool drop_all_ ABSL_GUARDED_BY(mu_) = false;
  int drop_next_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  Filter filter_ ABSL_GUARDED_BY(mu_);
  Filter reply_filter_ ABSL_GUARDED_BY(mu_);
  // Shared with watch callbacks (which may outlive a call, not the object).
  std::shared_ptr<std::atomic<bool>> mute_ =
      std::make_shared<std::atomic<bool>>(false);
};

}  // namespace reborn::coord
