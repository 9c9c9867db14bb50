// A coordinator backend of one's own, checked with the installed conformance
// suite (reborn/testing/coordinator_conformance.h): the same tests the
// built-in memory://, zk:// and etcd:// backends pass.
//
// The backend is a "chroot": it serves one subtree of another coordinator as
// its whole tree, so that several products (or tests) can share one ZooKeeper
// or etcd without seeing each other's nodes, whatever the underlying backend
// offers for that. Every path is checked, then prefixed with the root on the
// way in and stripped of it on the way out (created paths, Multi results,
// watch events). Sessions, ephemerals and watches are the inner backend's.
//
// Running the suite against it takes the Backend struct and the one macro at
// the end of this file; link with reborn::reborn and GTest::gtest_main.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "reborn/coordinator.h"
#include "reborn/testing/coordinator_conformance.h"
#include "reborn/testing/session_expiry.h"

namespace example {

using reborn::Coordinator;
using reborn::CoordOp;
using reborn::CoordOpResult;
using reborn::CreateMode;
using reborn::NodeData;
using reborn::SessionCallback;
using reborn::SessionState;
using reborn::Subscription;
using reborn::WatchCallback;
using reborn::WatchEvent;
using reborn::WatchKind;

// Thread-safe as its inner coordinator is: it keeps no state of its own
// besides the immutable root.
class ChrootCoordinator : public Coordinator,
                          public reborn::testing::SessionExpiry {
 public:
  // Serves `root` (an absolute path, created if missing) of `inner`.
  static absl::StatusOr<std::unique_ptr<Coordinator>> Open(
      std::unique_ptr<Coordinator> inner, std::string root) {
    if (absl::Status s = reborn::ValidateCoordPath(root); !s.ok()) return s;
    if (root == "/") root.clear();
    if (!root.empty()) {
      if (absl::Status s = inner->CreateRecursive(root); !s.ok()) return s;
    }
    return std::unique_ptr<Coordinator>(
        new ChrootCoordinator(std::move(inner), std::move(root)));
  }

  absl::StatusOr<std::string> Create(std::string_view path,
                                     std::string_view data,
                                     CreateMode mode) override {
    absl::StatusOr<std::string> inner = In(path);
    if (!inner.ok()) return inner.status();
    absl::StatusOr<std::string> created = inner_->Create(*inner, data, mode);
    if (!created.ok()) return created.status();
    return Out(*created);
  }
  absl::StatusOr<NodeData> Get(std::string_view path) override {
    absl::StatusOr<std::string> inner = In(path);
    if (!inner.ok()) return inner.status();
    return inner_->Get(*inner);
  }
  absl::StatusOr<int64_t> Set(std::string_view path, std::string_view data,
                              int64_t expected_version) override {
    absl::StatusOr<std::string> inner = In(path);
    if (!inner.ok()) return inner.status();
    return inner_->Set(*inner, data, expected_version);
  }
  absl::Status Delete(std::string_view path,
                      int64_t expected_version) override {
    absl::StatusOr<std::string> inner = In(path);
    if (!inner.ok()) return inner.status();
    // The root is the chroot's "/": it cannot go.
    if (path == "/") {
      return absl::FailedPreconditionError("cannot delete the root");
    }
    return inner_->Delete(*inner, expected_version);
  }
  absl::StatusOr<std::vector<std::string>> Children(
      std::string_view path) override {
    absl::StatusOr<std::string> inner = In(path);
    if (!inner.ok()) return inner.status();
    return inner_->Children(*inner);
  }
  absl::StatusOr<bool> Exists(std::string_view path) override {
    absl::StatusOr<std::string> inner = In(path);
    if (!inner.ok()) return inner.status();
    return inner_->Exists(*inner);
  }
  absl::StatusOr<std::vector<CoordOpResult>> Multi(
      const std::vector<CoordOp>& ops) override {
    std::vector<CoordOp> inner_ops = ops;
    for (CoordOp& op : inner_ops) {
      absl::StatusOr<std::string> inner = In(op.path);
      if (!inner.ok()) return inner.status();
      op.path = std::move(*inner);
    }
    absl::StatusOr<std::vector<CoordOpResult>> results =
        inner_->Multi(inner_ops);
    if (!results.ok()) return results.status();
    for (CoordOpResult& r : *results) {
      if (!r.path.empty()) r.path = Out(r.path);
    }
    return results;
  }
  absl::StatusOr<std::unique_ptr<Subscription>> Watch(
      std::string_view path, WatchKind kind, WatchCallback callback) override {
    absl::StatusOr<std::string> inner = In(path);
    if (!inner.ok()) return inner.status();
    // The watch may outlive this object: the callback copies the root.
    return inner_->Watch(
        *inner, kind,
        [root = root_, callback = std::move(callback)](const WatchEvent& e) {
          WatchEvent out = e;
          out.path = Out(root, e.path);
          callback(out);
        });
  }
  std::unique_ptr<Subscription> AddSessionListener(
      SessionCallback callback) override {
    return inner_->AddSessionListener(std::move(callback));
  }
  SessionState session_state() const override {
    return inner_->session_state();
  }
  absl::Duration session_timeout() const override {
    return inner_->session_timeout();
  }
  std::string uri() const override {
    return absl::StrCat(inner_->uri(), " (chroot ", root_, ")");
  }

  // The session is the inner backend's: expiring it is too.
  absl::Status ExpireSessionForTest() override {
    return reborn::testing::ExpireSession(*inner_);
  }

 private:
  ChrootCoordinator(std::unique_ptr<Coordinator> inner, std::string root)
      : inner_(std::move(inner)), root_(std::move(root)) {}

  // A user path to the inner tree's path. Checked first: "p" must not turn
  // into the valid "/rootp".
  absl::StatusOr<std::string> In(std::string_view path) const {
    if (absl::Status s = reborn::ValidateCoordPath(path); !s.ok()) return s;
    if (path == "/") return root_.empty() ? std::string("/") : root_;
    return root_ + std::string(path);
  }
  // An inner path (under `root`) to the user's.
  static std::string Out(std::string_view root, std::string_view inner) {
    inner.remove_prefix(root.size());
    return inner.empty() ? std::string("/") : std::string(inner);
  }
  std::string Out(std::string_view inner) const { return Out(root_, inner); }

  const std::unique_ptr<Coordinator> inner_;
  const std::string root_;  // "" or "/a/b"
};

// The suite's view of the backend: sessions opened with the same `ns` share
// a tree (here: one subtree of one in-process memory:// tree).
struct ChrootBackend {
  static absl::StatusOr<std::unique_ptr<Coordinator>> Open(
      const std::string& ns) {
    absl::StatusOr<std::unique_ptr<Coordinator>> inner =
        Coordinator::Open("memory://chroot-example");
    if (!inner.ok()) return inner.status();
    return ChrootCoordinator::Open(std::move(*inner),
                                   absl::StrCat("/products/", ns));
  }
};

}  // namespace example

REBORN_COORDINATOR_CONFORMANCE_TEST(Chroot, ::example::ChrootBackend);
