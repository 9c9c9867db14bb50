#pragma once

// memory:// — an in-process Coordinator. All coordinators opened with the
// same name ("memory://cluster1") share one tree while any of them is alive,
// each with its own simulated session; "memory://" gets a private tree.
// Sessions can be cut off (partitioned) and expired for tests.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "coord/event_dispatcher.h"
#include "reborn/coordinator.h"
#include "reborn/testing/session_expiry.h"

namespace reborn::coord {

class MemoryTree;

class MemoryCoordinator : public Coordinator, public testing::SessionExpiry {
 public:
  MemoryCoordinator(std::shared_ptr<MemoryTree> tree, std::string uri,
                    const CoordinatorOptions& options);
  ~MemoryCoordinator() override;

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
      SessionCallback callback) override;
  SessionState session_state() const override;
  absl::Duration session_timeout() const override { return session_timeout_; }
  std::string uri() const override { return uri_; }
  absl::Status ExpireSessionForTest() override;

  // Cuts this session off from the tree (ops fail with Unavailable, events
  // are lost, listeners see kSuspended) or reconnects it (kConnected and a
  // kResync to every watch). The session itself stays alive.
  void SetPartitionedForTest(bool partitioned);

  // Called by the tree, under its lock: a node changed.
  void OnNodeEvent(std::string_view path, WatchEvent::Type type);
  int64_t session_id() const;

 private:
  absl::Status CheckConnected() const;

  std::shared_ptr<MemoryTree> tree_;
  const std::string uri_;
  const absl::Duration session_timeout_;
  EventDispatcher dispatcher_;
  mutable absl::Mutex mu_;
  int64_t session_id_ ABSL_GUARDED_BY(mu_);
  bool partitioned_ ABSL_GUARDED_BY(mu_) = false;
};

Coordinator::Factory MemoryCoordinatorFactory();

}  // namespace reborn::coord
