#include "coord/zk_coordinator.h"

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "coord/event_dispatcher.h"
#include "coord/sv.h"
#include "reborn/testing/session_expiry.h"

namespace reborn::coord {
namespace {

constexpr int kMaxPath = 1024;

// ZooKeeper return codes -> absl::Status, once, here.
absl::Status ZkStatus(int rc, std::string_view what, std::string_view path) {
  std::string msg = absl::StrCat(Sv(what), " ", Sv(path), ": ", zerror(rc));
  switch (rc) {
    case ZOK:
      return absl::OkStatus();
    case ZNONODE:
      return absl::NotFoundError(msg);
    case ZNODEEXISTS:
      return absl::AlreadyExistsError(msg);
    case ZBADVERSION:
      return absl::AbortedError(absl::StrCat("version conflict: ", msg));
    case ZNOTEMPTY:
    case ZNOCHILDRENFOREPHEMERALS:
      return absl::FailedPreconditionError(msg);
    case ZBADARGUMENTS:
      return absl::InvalidArgumentError(msg);
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT:
    case ZSESSIONEXPIRED:
    case ZINVALIDSTATE:
    case ZCLOSING:
    case ZSESSIONMOVED:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

int ZkFlags(CreateMode mode) {
  switch (mode) {
    case CreateMode::kPersistent:
      return 0;
    case CreateMode::kEphemeral:
      return ZOO_EPHEMERAL;
    case CreateMode::kSequential:
      return ZOO_SEQUENCE;
    case CreateMode::kEphemeralSequential:
      return ZOO_EPHEMERAL | ZOO_SEQUENCE;
  }
  return 0;
}

void DropLog(const char*) {}

// A zhandle_t that closes itself.
struct ZhCloser {
  void operator()(zhandle_t* zh) const { zookeeper_close(zh); }
};
using ZhPtr = std::unique_ptr<zhandle_t, ZhCloser>;

// Opens a handle and waits until it is connected.
absl::StatusOr<ZhPtr> ConnectAndWait(const std::string& hosts,
                                     watcher_fn watcher, void* ctx,
                                     const clientid_t* clientid,
                                     absl::Duration session_timeout,
                                     absl::Duration connect_timeout,
                                     const std::string& uri) {
  ZhPtr zh(zookeeper_init2(
      hosts.c_str(), watcher,
      static_cast<int>(absl::ToInt64Milliseconds(session_timeout)), clientid,
      ctx, 0, DropLog));
  if (!zh) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot use coordinator ", uri, ": bad host list"));
  }
  absl::Time deadline = absl::Now() + connect_timeout;
  while (zoo_state(zh.get()) != ZOO_CONNECTED_STATE) {
    if (absl::Now() >= deadline ||
        zoo_state(zh.get()) == ZOO_EXPIRED_SESSION_STATE ||
        zoo_state(zh.get()) == ZOO_AUTH_FAILED_STATE) {
      return absl::UnavailableError(
          absl::StrCat("cannot reach coordinator ", uri, " within ",
                       absl::FormatDuration(connect_timeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return zh;
}

class ZkCoordinator;

// Context handed to ZooKeeper for one watch; lives as long as the
// coordinator, since ZooKeeper may call back with it after the watch ended.
struct WatchCtx {
  ZkCoordinator* self;
  uint64_t id;
};

// Synchronisation: `handle_mu_` guards the ZooKeeper handle; operations hold
// it shared, replacing the handle after expiry holds it exclusively, and the
// old handle is closed outside the lock. `mu_` guards the session state, the
// identity of the current handle and the watch contexts; it is never held
// across a ZooKeeper call. ZooKeeper's own threads take only `mu_`, record
// state and post work to the event thread (the dispatcher), which re-arms
// watches and opens new sessions.
class ZkCoordinator : public Coordinator, public testing::SessionExpiry {
 public:
  ZkCoordinator(std::string uri, std::string hosts,
                const CoordinatorOptions& options)
      : uri_(std::move(uri)),
        hosts_(std::move(hosts)),
        session_timeout_(options.session_timeout),
        connect_timeout_(options.connect_timeout) {}

  ~ZkCoordinator() override {
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
    }
    dispatcher_.PostSession(SessionState::kClosed);
    dispatcher_.Stop();
    ZhPtr zh;
    {
      absl::WriterMutexLock lock(&handle_mu_);
      zh = std::move(zh_);
    }
    zh.reset();  // closes the session: our ephemerals go now
  }

  absl::Status Connect() {
    absl::StatusOr<ZhPtr> zh =
        ConnectAndWait(hosts_, &ZkCoordinator::GlobalWatcher, this, nullptr,
                       session_timeout_, connect_timeout_, uri_);
    if (!zh.ok()) return zh.status();
    absl::WriterMutexLock lock(&handle_mu_);
    absl::MutexLock l(&mu_);
    current_zh_ = zh->get();
    zh_ = std::move(*zh);
    state_ = SessionState::kConnected;
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Create(std::string_view path,
                                     std::string_view data,
                                     CreateMode mode) override {
    if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
    std::string p(path);
    char buf[kMaxPath];
    absl::ReaderMutexLock lock(&handle_mu_);
    int rc = zoo_create(zh_.get(), p.c_str(), data.data(),
                        static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                        ZkFlags(mode), buf, sizeof(buf));
    if (rc != ZOK) return ZkStatus(rc, "create", path);
    return std::string(buf);
  }

  absl::StatusOr<NodeData> Get(std::string_view path) override {
    if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
    std::string p(path);
    std::string buf(4096, '\0');
    absl::ReaderMutexLock lock(&handle_mu_);
    while (true) {
      int len = static_cast<int>(buf.size());
      Stat stat{};
      int rc = zoo_get(zh_.get(), p.c_str(), 0, buf.data(), &len, &stat);
      if (rc != ZOK) return ZkStatus(rc, "get", path);
      if (stat.dataLength > static_cast<int>(buf.size())) {
        buf.resize(stat.dataLength);
        continue;
      }
      buf.resize(std::max(len, 0));
      return NodeData{std::move(buf), stat.version, stat.ephemeralOwner != 0};
    }
  }

  absl::StatusOr<int64_t> Set(std::string_view path, std::string_view data,
                              int64_t expected_version) override {
    if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
    std::string p(path);
    Stat stat{};
    absl::ReaderMutexLock lock(&handle_mu_);
    int rc = zoo_set2(zh_.get(), p.c_str(), data.data(),
                      static_cast<int>(data.size()),
                      static_cast<int>(expected_version), &stat);
    if (rc != ZOK) return ZkStatus(rc, "set", path);
    return stat.version;
  }

  absl::Status Delete(std::string_view path,
                      int64_t expected_version) override {
    if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
    std::string p(path);
    absl::ReaderMutexLock lock(&handle_mu_);
    return ZkStatus(
        zoo_delete(zh_.get(), p.c_str(), static_cast<int>(expected_version)),
        "delete", path);
  }

  absl::StatusOr<std::vector<std::string>> Children(
      std::string_view path) override {
    if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
    std::string p(path);
    String_vector kids{};
    absl::ReaderMutexLock lock(&handle_mu_);
    int rc = zoo_get_children(zh_.get(), p.c_str(), 0, &kids);
    if (rc != ZOK) return ZkStatus(rc, "children", path);
    std::vector<std::string> out(kids.data, kids.data + kids.count);
    deallocate_String_vector(&kids);
    std::sort(out.begin(), out.end());
    return out;
  }

  absl::StatusOr<bool> Exists(std::string_view path) override {
    if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
    std::string p(path);
    Stat stat{};
    absl::ReaderMutexLock lock(&handle_mu_);
    int rc = zoo_exists(zh_.get(), p.c_str(), 0, &stat);
    if (rc == ZOK) return true;
    if (rc == ZNONODE) return false;
    return ZkStatus(rc, "exists", path);
  }

  absl::StatusOr<std::vector<CoordOpResult>> Multi(
      const std::vector<CoordOp>& ops) override {
    if (ops.empty()) return std::vector<CoordOpResult>{};
    for (const CoordOp& op : ops) {
      if (absl::Status s = ValidateCoordPath(op.path); !s.ok()) return s;
    }
    size_t n = ops.size();
    std::vector<zoo_op_t> zops(n);
    std::vector<zoo_op_result_t> results(n);
    std::vector<std::string> bufs(n);
    std::vector<Stat> stats(n);
    for (size_t i = 0; i < n; ++i) {
      const CoordOp& op = ops[i];
      int version = static_cast<int>(op.version);
      switch (op.type) {
        case CoordOp::Type::kCheck:
          zoo_check_op_init(&zops[i], op.path.c_str(), version);
          break;
        case CoordOp::Type::kCreate:
          bufs[i].assign(kMaxPath, '\0');
          zoo_create_op_init(&zops[i], op.path.c_str(), op.data.data(),
                             static_cast<int>(op.data.size()),
                             &ZOO_OPEN_ACL_UNSAFE, ZkFlags(op.mode),
                             bufs[i].data(), kMaxPath);
          break;
        case CoordOp::Type::kSet:
          zoo_set_op_init(&zops[i], op.path.c_str(), op.data.data(),
                          static_cast<int>(op.data.size()), version, &stats[i]);
          break;
        case CoordOp::Type::kDelete:
          zoo_delete_op_init(&zops[i], op.path.c_str(), version);
          break;
      }
    }
    int rc;
    {
      absl::ReaderMutexLock lock(&handle_mu_);
      rc = zoo_multi(zh_.get(), static_cast<int>(n), zops.data(),
                     results.data());
    }
    if (rc != ZOK) {
      for (size_t i = 0; i < n; ++i) {
        int err = results[i].err;
        if (err != ZOK && err != ZRUNTIMEINCONSISTENCY) {
          return ZkStatus(err, absl::StrCat("multi op ", i), ops[i].path);
        }
      }
      return ZkStatus(rc, "multi", ops[0].path);
    }
    std::vector<CoordOpResult> out(n);
    for (size_t i = 0; i < n; ++i) {
      if (ops[i].type == CoordOp::Type::kCreate) {
        out[i].path = bufs[i].c_str();
      } else if (ops[i].type == CoordOp::Type::kSet) {
        out[i].version = stats[i].version;
      }
    }
    return out;
  }

  absl::StatusOr<std::unique_ptr<Subscription>> Watch(
      std::string_view path, WatchKind kind, WatchCallback callback) override {
    if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
    uint64_t id = dispatcher_.AddWatch(path, kind, std::move(callback));
    std::unique_ptr<Subscription> sub =
        dispatcher_.WatchSubscription(id, nullptr);
    {
      absl::MutexLock lock(&mu_);
      ctxs_[id] = std::make_unique<WatchCtx>(WatchCtx{this, id});
    }
    if (absl::Status s = Arm(id, std::string(path), kind); !s.ok()) {
      return s;  // `sub` removes the watch
    }
    return sub;
  }

  std::unique_ptr<Subscription> AddSessionListener(
      SessionCallback callback) override {
    return dispatcher_.AddListener(std::move(callback));
  }

  SessionState session_state() const override {
    absl::MutexLock lock(&mu_);
    return state_;
  }
  absl::Duration session_timeout() const override { return session_timeout_; }
  std::string uri() const override { return uri_; }

  absl::Status ExpireSessionForTest() override {
    clientid_t id;
    {
      absl::ReaderMutexLock lock(&handle_mu_);
      id = *zoo_client_id(zh_.get());
    }
    // A deadline generous enough for a loaded machine (CI).
    const absl::Time deadline =
        absl::Now() + 3 * (session_timeout_ + connect_timeout_);
    for (bool first = true; absl::Now() < deadline; first = false) {
      // A second handle on the same session, closed at once, ends the
      // session on the server. The close can lose a race: connecting the
      // clone moves the session away from our handle, and if our handle
      // reconnects before the clone's close arrives, the server refuses the
      // close (session moved) and the session lives on. Then try again.
      absl::StatusOr<ZhPtr> clone =
          ConnectAndWait(hosts_, nullptr, nullptr, &id, session_timeout_,
                         connect_timeout_, uri_);
      if (clone.ok()) {
        clone->reset();
      } else if (first) {
        return clone.status();
      }  // else the session is gone already: wait for the renewal
      // Wait until this client has noticed and runs on a new session; once
      // it has seen the expiry, only the renewal is left to wait for.
      const absl::Time attempt_end =
          std::min(deadline, absl::Now() + session_timeout_ + connect_timeout_);
      bool expired_seen = false;
      while (absl::Now() < (expired_seen ? deadline : attempt_end)) {
        {
          absl::ReaderMutexLock lock(&handle_mu_);
          absl::MutexLock l(&mu_);
          if (zoo_client_id(zh_.get())->client_id != id.client_id &&
              state_ == SessionState::kConnected) {
            return absl::OkStatus();
          }
          expired_seen = expired_seen || state_ == SessionState::kExpired;
        }
        absl::SleepFor(absl::Milliseconds(10));
      }
    }
    return absl::DeadlineExceededError("session was not renewed in time");
  }

 private:
  static void GlobalWatcher(zhandle_t* zh, int type, int state,
                            const char* path, void* ctx) {
    if (type != ZOO_SESSION_EVENT) return;
    static_cast<ZkCoordinator*>(ctx)->OnSessionEvent(zh, state);
  }

  static void NodeWatcher(zhandle_t* zh, int type, int state, const char* path,
                          void* ctx) {
    if (type == ZOO_SESSION_EVENT || ctx == nullptr) return;
    auto* w = static_cast<WatchCtx*>(ctx);
    WatchEvent::Type t;
    if (type == ZOO_CREATED_EVENT) {
      t = WatchEvent::Type::kCreated;
    } else if (type == ZOO_DELETED_EVENT) {
      t = WatchEvent::Type::kDeleted;
    } else if (type == ZOO_CHANGED_EVENT) {
      t = WatchEvent::Type::kChanged;
    } else if (type == ZOO_CHILD_EVENT) {
      t = WatchEvent::Type::kChildren;
    } else {
      return;
    }
    w->self->OnNodeEvent(w->id, t, path ? path : "");
  }

  // On a ZooKeeper thread: record, then let the event thread act.
  void OnSessionEvent(zhandle_t* zh, int state) {
    absl::MutexLock lock(&mu_);
    // Events of a handle being set up (or of an old one) are not ours to
    // report; Connect() and Renew() handle those. (This runs on ZooKeeper's
    // completion thread, which must never wait for handle_mu_.)
    if (closing_ || zh != current_zh_) return;
    if (state == ZOO_CONNECTED_STATE) {
      if (state_ == SessionState::kSuspended) {
        state_ = SessionState::kConnected;
        dispatcher_.PostSession(SessionState::kConnected);
        dispatcher_.PostResyncAll();
      }
    } else if (state == ZOO_CONNECTING_STATE ||
               state == ZOO_ASSOCIATING_STATE ||
               state == ZOO_NOTCONNECTED_STATE) {
      if (state_ == SessionState::kConnected) {
        state_ = SessionState::kSuspended;
        dispatcher_.PostSession(SessionState::kSuspended);
      }
    } else if (state == ZOO_EXPIRED_SESSION_STATE ||
               state == ZOO_AUTH_FAILED_STATE) {
      if (state_ != SessionState::kExpired) {
        state_ = SessionState::kExpired;
        dispatcher_.PostSession(SessionState::kExpired);
        dispatcher_.Post([this] { Renew(); });
      }
    }
  }

  void OnNodeEvent(uint64_t id, WatchEvent::Type type, std::string path) {
    dispatcher_.Post([this, id, type, path = std::move(path)] {
      std::vector<EventDispatcher::WatchInfo> ws = dispatcher_.Watches();
      for (const auto& w : ws) {
        if (w.id != id) continue;
        // Re-arm first, so no change after this event goes unseen.
        (void)Arm(id, w.path, w.kind);  // on failure the session events
                                        // (resync) cover it
        dispatcher_.PostWatchEvent(id, WatchEvent{type, path});
      }
    });
  }

  // Places ZooKeeper's one-shot watch for watch `id`.
  absl::Status Arm(uint64_t id, const std::string& path, WatchKind kind) {
    WatchCtx* ctx;
    {
      absl::MutexLock lock(&mu_);
      auto it = ctxs_.find(id);
      if (it == ctxs_.end()) return absl::OkStatus();
      ctx = it->second.get();
    }
    absl::ReaderMutexLock lock(&handle_mu_);
    if (kind == WatchKind::kChildren) {
      String_vector kids{};
      int rc = zoo_wget_children(zh_.get(), path.c_str(),
                                 &ZkCoordinator::NodeWatcher, ctx, &kids);
      if (rc == ZOK) {
        deallocate_String_vector(&kids);
        return absl::OkStatus();
      }
      if (rc != ZNONODE) return ZkStatus(rc, "watch", path);
      // No node yet: watch for its creation instead.
    }
    Stat stat{};
    int rc = zoo_wexists(zh_.get(), path.c_str(), &ZkCoordinator::NodeWatcher,
                         ctx, &stat);
    if (rc == ZOK || rc == ZNONODE) return absl::OkStatus();
    return ZkStatus(rc, "watch", path);
  }

  // On the event thread after expiry: open a new session (retrying until it
  // works or we close), re-arm every watch on it, then report.
  void Renew() {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (closing_) return;
      }
      absl::StatusOr<ZhPtr> zh =
          ConnectAndWait(hosts_, &ZkCoordinator::GlobalWatcher, this, nullptr,
                         session_timeout_, connect_timeout_, uri_);
      if (zh.ok()) {
        ZhPtr old;
        {
          absl::WriterMutexLock lock(&handle_mu_);
          old = std::move(zh_);
          zh_ = std::move(*zh);
          absl::MutexLock l(&mu_);
          current_zh_ = zh_.get();
        }
        old.reset();
        break;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    for (const auto& w : dispatcher_.Watches()) (void)Arm(w.id, w.path, w.kind);
    {
      absl::MutexLock lock(&mu_);
      state_ = SessionState::kConnected;
    }
    dispatcher_.PostSession(SessionState::kConnected);
    dispatcher_.PostResyncAll();
  }

  const std::string uri_;
  const std::string hosts_;
  const absl::Duration session_timeout_;
  const absl::Duration connect_timeout_;

  absl::Mutex handle_mu_;
  ZhPtr zh_ ABSL_GUARDED_BY(handle_mu_);

  mutable absl::Mutex mu_;
  SessionState state_ ABSL_GUARDED_BY(mu_) = SessionState::kSuspended;
  zhandle_t* current_zh_ ABSL_GUARDED_BY(mu_) = nullptr;  // identity only
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::map<uint64_t, std::unique_ptr<WatchCtx>> ctxs_ ABSL_GUARDED_BY(mu_);

  // ~ZkCoordinator stops it before closing the handle.
  EventDispatcher dispatcher_;
};

// Creates `chroot` and its ancestors through a plain (non-chrooted) handle.
absl::Status EnsureChroot(const std::string& hosts, const std::string& chroot,
                          const CoordinatorOptions& options,
                          const std::string& uri) {
  absl::StatusOr<ZhPtr> zh =
      ConnectAndWait(hosts, nullptr, nullptr, nullptr, options.session_timeout,
                     options.connect_timeout, uri);
  if (!zh.ok()) return zh.status();
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = chroot.find('/', pos + 1);
    std::string prefix = chroot.substr(0, pos);
    int rc = zoo_create(zh->get(), prefix.c_str(), nullptr, -1,
                        &ZOO_OPEN_ACL_UNSAFE, 0, nullptr, 0);
    if (rc != ZOK && rc != ZNODEEXISTS) {
      return ZkStatus(rc, "create chroot", prefix);
    }
  }
  return absl::OkStatus();
}

}  // namespace

Coordinator::Factory ZkCoordinatorFactory() {
  return [](const CoordinatorUri& uri, const CoordinatorOptions& options)
             -> absl::StatusOr<std::unique_ptr<Coordinator>> {
    if (uri.hosts.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("no hosts in coordinator URI ", uri.text));
    }
    if (!uri.path.empty()) {
      if (absl::Status s = EnsureChroot(uri.hosts, uri.path, options, uri.text);
          !s.ok()) {
        return s;
      }
    }
    auto c = std::make_unique<ZkCoordinator>(uri.text, uri.hosts + uri.path,
                                             options);
    if (absl::Status s = c->Connect(); !s.ok()) return s;
    return std::unique_ptr<Coordinator>(std::move(c));
  };
}

}  // namespace reborn::coord
