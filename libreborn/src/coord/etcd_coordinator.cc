#include "coord/etcd_coordinator.h"

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "coord/etcd_gateway.h"
#include "coord/etcd_txn.h"
#include "coord/event_dispatcher.h"
#include "coord/sv.h"
#include "reborn/testing/session_expiry.h"

namespace reborn::coord {
namespace {

using etcd::At;
using etcd::B64;
using etcd::Gateway;
using etcd::HostPort;
using etcd::JInt;
using etcd::json;
using etcd::PrefixEnd;
using etcd::UnB64;

// Synchronisation: any thread may call (the gateway makes an HTTP client
// per request, etcd_gateway.h), except that the watch stream is the watch
// thread's. `mu_` guards the lease and session state and the stop flags; it
// is never held across a request. Watch events and session changes go
// through the dispatcher (the event thread).
class EtcdCoordinator : public Coordinator, public testing::SessionExpiry {
 public:
  EtcdCoordinator(const CoordinatorUri& uri, std::vector<HostPort> hosts,
                  const CoordinatorOptions& options)
      : uri_(uri.text),
        prefix_(uri.path),
        session_timeout_(options.session_timeout),
        timeout_(options.connect_timeout),
        gateway_(uri.text, std::move(hosts), options.connect_timeout) {}

  ~EtcdCoordinator() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    gateway_.StopStreams();
    if (keepalive_thread_.joinable()) keepalive_thread_.join();
    if (watch_thread_.joinable()) watch_thread_.join();
    int64_t lease;
    {
      absl::MutexLock lock(&mu_);
      lease = lease_;
    }
    if (lease != 0)
      (void)gateway_.Call("/v3/lease/revoke", {{"ID", std::to_string(lease)}});
    dispatcher_.PostSession(SessionState::kClosed);
    dispatcher_.Stop();
  }

  absl::Status Start() {
    absl::StatusOr<json> r =
        gateway_.Call("/v3/kv/range", {{"key", B64(prefix_ + "/")}});
    if (!r.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot reach coordinator ", uri_, " within ",
          absl::FormatDuration(timeout_), ": ", r.status().message()));
    }
    int64_t rev = JInt((*r)["header"], "revision");
    if (absl::Status s = GrantLease(); !s.ok()) return s;
    {
      absl::MutexLock lock(&mu_);
      state_ = SessionState::kConnected;
      watch_from_ = rev + 1;
    }
    keepalive_thread_ = std::thread([this] { KeepAliveLoop(); });
    watch_thread_ = std::thread([this] { WatchLoop(); });
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Create(std::string_view path,
                                     std::string_view data,
                                     CreateMode mode) override {
    auto r = Multi({CoordOp::Create(path, data, mode)});
    if (!r.ok()) return StripOp(r.status());
    return (*r)[0].path;
  }

  absl::StatusOr<NodeData> Get(std::string_view path) override {
    if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
    if (path == "/") return NodeData{};
    absl::StatusOr<json> r =
        gateway_.Call("/v3/kv/range", {{"key", B64(Key(path))}});
    if (!r.ok()) return r.status();
    const json& kvs = At(*r, "kvs");
    if (!kvs.is_array() || kvs.empty()) return NoNode(path);
    const json& kv = At(kvs, size_t{0});
    return NodeData{UnB64(At(kv, "value")), JInt(kv, "version") - 1,
                    JInt(kv, "lease") != 0};
  }

  absl::StatusOr<int64_t> Set(std::string_view path, std::string_view data,
                              int64_t expected_version) override {
    auto r = Multi({CoordOp::Set(path, data, expected_version)});
    if (!r.ok()) return StripOp(r.status());
    return (*r)[0].version;
  }

  absl::Status Delete(std::string_view path,
                      int64_t expected_version) override {
    auto r = Multi({CoordOp::Delete(path, expected_version)});
    if (!r.ok()) return StripOp(r.status());
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> Children(
      std::string_view path) override {
    if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
    std::string dir = path == "/" ? prefix_ + "/" : Key(path) + "/";
    json success = json::array();
    success.push_back({{"request_range",
                        {{"key", B64(dir)},
                         {"range_end", B64(PrefixEnd(dir))},
                         {"keys_only", true}}}});
    if (path != "/") {
      success.push_back(
          {{"request_range", {{"key", B64(Key(path))}, {"count_only", true}}}});
    }
    absl::StatusOr<json> r = gateway_.Call(
        "/v3/kv/txn", {{"compare", json::array()}, {"success", success}});
    if (!r.ok()) return r.status();
    const json& resps = At(*r, "responses");
    if (path != "/" &&
        JInt(At(At(resps, size_t{1}), "response_range"), "count") == 0) {
      return NoNode(path);
    }
    std::vector<std::string> out;
    const json& kvs = At(At(At(resps, size_t{0}), "response_range"), "kvs");
    if (kvs.is_array()) {
      for (const json& kv : kvs) {
        std::string key = UnB64(At(kv, "key"));
        std::string_view name = std::string_view(key).substr(dir.size());
        if (name.find('/') == std::string_view::npos) out.emplace_back(name);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  absl::StatusOr<bool> Exists(std::string_view path) override {
    absl::StatusOr<NodeData> r = Get(path);
    if (r.ok()) return true;
    if (absl::IsNotFound(r.status())) return false;
    return r.status();
  }

  absl::StatusOr<std::vector<CoordOpResult>> Multi(
      const std::vector<CoordOp>& ops) override {
    for (const CoordOp& op : ops) {
      if (absl::Status s = ValidateCoordPath(op.path); !s.ok()) return s;
    }
    if (ops.empty()) return std::vector<CoordOpResult>{};
    // A lost race for a sequence number is retried with a fresh one.
    for (int attempt = 0;; ++attempt) {
      bool retry = false;
      auto r = MultiOnce(ops, &retry);
      if (r.ok() || !retry || attempt >= 20) return r;
    }
  }

  absl::StatusOr<std::unique_ptr<Subscription>> Watch(
      std::string_view path, WatchKind kind, WatchCallback callback) override {
    if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
    uint64_t id = dispatcher_.AddWatch(path, kind, std::move(callback));
    return dispatcher_.WatchSubscription(id, nullptr);
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
    int64_t lease;
    {
      absl::MutexLock lock(&mu_);
      lease = lease_;
    }
    absl::StatusOr<json> r =
        gateway_.Call("/v3/lease/revoke", {{"ID", std::to_string(lease)}});
    if (!r.ok()) return r.status();
    absl::MutexLock lock(&mu_);
    kick_ = true;
    auto renewed = [this, lease]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return (lease_ != lease && state_ == SessionState::kConnected) ||
             stopping_;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&renewed),
                              session_timeout_ + timeout_)) {
      return absl::DeadlineExceededError("session was not renewed in time");
    }
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<std::vector<CoordOpResult>> MultiOnce(
      const std::vector<CoordOp>& ops, bool* retry) {
    int64_t lease = 0;
    {
      absl::MutexLock lock(&mu_);
      lease = lease_;
    }
    int64_t read_rev = 0;
    if (etcd::NeedsRevision(ops)) {
      absl::StatusOr<json> r = gateway_.Call(
          "/v3/kv/range", {{"key", B64(prefix_ + "/")}, {"count_only", true}});
      if (!r.ok()) return r.status();
      read_rev = JInt((*r)["header"], "revision");
    }
    absl::StatusOr<etcd::TxnPlan> txn =
        etcd::PlanTxn(ops, prefix_, lease, read_rev);
    if (!txn.ok()) return txn.status();
    absl::StatusOr<json> r = gateway_.Call("/v3/kv/txn", txn->request);
    if (!r.ok()) return r.status();
    return etcd::TxnResults(*txn, *r, retry);
  }

  std::string Key(std::string_view path) const {
    return absl::StrCat(prefix_, Sv(path));
  }

  static absl::Status NoNode(std::string_view path) {
    return absl::NotFoundError(absl::StrCat(Sv(path), " not found"));
  }

  static absl::Status StripOp(const absl::Status& s) {
    std::string_view m(s.message().data(), s.message().size());
    if (m.starts_with("op 0: ")) m.remove_prefix(6);
    return absl::Status(s.code(), Sv(m));
  }

  absl::Status GrantLease() {
    int64_t ttl = std::max<int64_t>(
        1, (absl::ToInt64Milliseconds(session_timeout_) + 999) / 1000);
    absl::StatusOr<json> r =
        gateway_.Call("/v3/lease/grant", {{"TTL", std::to_string(ttl)}});
    if (!r.ok()) return r.status();
    int64_t id = JInt(*r, "ID");
    int64_t granted = JInt(*r, "TTL");
    if (id == 0) return absl::InternalError("etcd granted no lease");
    absl::MutexLock lock(&mu_);
    lease_ = id;
    lease_ttl_ = absl::Seconds(std::max<int64_t>(granted, 1));
    return absl::OkStatus();
  }

  // Keeps the lease alive every TTL/3; reports suspension, recovery and
  // expiry (after which it grants a new lease: a new session).
  void KeepAliveLoop() {
    while (true) {
      int64_t lease;
      absl::Duration interval;
      {
        absl::MutexLock lock(&mu_);
        auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || kick_;
        };
        mu_.AwaitWithTimeout(absl::Condition(&wake), lease_ttl_ / 3);
        if (stopping_) return;
        kick_ = false;
        lease = lease_;
        interval = lease_ttl_ / 3;
      }
      (void)interval;
      absl::StatusOr<json> r =
          gateway_.Call("/v3/lease/keepalive", {{"ID", std::to_string(lease)}});
      if (!r.ok()) {
        absl::MutexLock lock(&mu_);
        if (state_ == SessionState::kConnected) {
          state_ = SessionState::kSuspended;
          dispatcher_.PostSession(SessionState::kSuspended);
        }
        continue;
      }
      if (JInt(*r, "TTL") > 0) {
        absl::MutexLock lock(&mu_);
        if (state_ != SessionState::kConnected) {
          state_ = SessionState::kConnected;
          dispatcher_.PostSession(SessionState::kConnected);
          dispatcher_.PostResyncAll();
        }
        continue;
      }
      // The lease is gone: the session expired.
      {
        absl::MutexLock lock(&mu_);
        state_ = SessionState::kExpired;
      }
      dispatcher_.PostSession(SessionState::kExpired);
      while (!GrantLease().ok()) {
        absl::MutexLock lock(&mu_);
        auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_;
        };
        if (mu_.AwaitWithTimeout(absl::Condition(&stop),
                                 absl::Milliseconds(200))) {
          return;
        }
      }
      absl::MutexLock lock(&mu_);
      state_ = SessionState::kConnected;
      dispatcher_.PostSession(SessionState::kConnected);
      dispatcher_.PostResyncAll();
    }
  }

  // Streams every change under the prefix into the dispatcher; on a broken
  // stream, resumes after the last revision seen.
  void WatchLoop() {
    std::string begin = prefix_ + "/";
    std::string end = PrefixEnd(begin);
    size_t host = 0;
    while (true) {
      int64_t from;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        from = watch_from_;
      }
      json body = {{"create_request",
                    {{"key", B64(begin)},
                     {"range_end", B64(end)},
                     {"start_revision", std::to_string(from)},
                     {"progress_notify", true}}}};
      // Idle streams are re-opened.
      bool ok = gateway_.Stream(
          host, "/v3/watch", body, absl::Seconds(5),
          [this](const std::string& line) { return OnWatchMessage(line); },
          [this] {
            absl::MutexLock lock(&mu_);
            return !stopping_;
          });
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      if (!ok) {
        host = (host + 1) % gateway_.host_count();
        auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_;
        };
        mu_.AwaitWithTimeout(absl::Condition(&stop), absl::Milliseconds(100));
      }
    }
  }

  // One JSON message of the watch stream. False: restart the stream.
  bool OnWatchMessage(const std::string& line) {
    try {
      json j = json::parse(line);
      if (!j.contains("result")) return false;
      const json& res = j["result"];
      if (JInt(res, "compact_revision") > 0) {
        // Missed history: start over from now and tell every watch.
        absl::MutexLock lock(&mu_);
        watch_from_ = JInt(At(res, "header"), "revision") + 1;
        dispatcher_.PostResyncAll();
        return false;
      }
      int64_t rev = JInt(At(res, "header"), "revision");
      auto evs = res.find("events");
      if (evs != res.end() && evs->is_array()) {
        for (const json& ev : *evs) {
          const json& kv = At(ev, "kv");
          std::string key = UnB64(At(kv, "key"));
          if (!key.starts_with(prefix_ + "/")) continue;
          std::string path = key.substr(prefix_.size());
          WatchEvent::Type type;
          if (ev.value("type", "PUT") == "DELETE") {
            type = WatchEvent::Type::kDeleted;
          } else if (JInt(kv, "version") == 1) {
            type = WatchEvent::Type::kCreated;
          } else {
            type = WatchEvent::Type::kChanged;
          }
          dispatcher_.PostNodeEvent(path, type);
          rev = std::max(rev, JInt(kv, "mod_revision"));
        }
        absl::MutexLock lock(&mu_);
        watch_from_ = std::max(watch_from_, rev + 1);
      }
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  const std::string uri_;
  const std::string prefix_;
  const absl::Duration session_timeout_;
  const absl::Duration timeout_;
  Gateway gateway_;

  mutable absl::Mutex mu_;
  SessionState state_ ABSL_GUARDED_BY(mu_) = SessionState::kSuspended;
  int64_t lease_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration lease_ttl_ ABSL_GUARDED_BY(mu_) = absl::Seconds(1);
  int64_t watch_from_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool kick_ ABSL_GUARDED_BY(mu_) = false;

  EventDispatcher dispatcher_;
  std::thread keepalive_thread_;
  std::thread watch_thread_;
};

}  // namespace

Coordinator::Factory EtcdCoordinatorFactory() {
  return [](const CoordinatorUri& uri, const CoordinatorOptions& options)
             -> absl::StatusOr<std::unique_ptr<Coordinator>> {
    absl::StatusOr<std::vector<HostPort>> hosts = etcd::ParseHosts(uri);
    if (!hosts.ok()) return hosts.status();
    auto c = std::make_unique<EtcdCoordinator>(uri, std::move(*hosts), options);
    if (absl::Status s = c->Start(); !s.ok()) return s;
    return std::unique_ptr<Coordinator>(std::move(c));
  };
}

}  // namespace reborn::coord
