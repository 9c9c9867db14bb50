#include "coord/memory_coordinator.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace reborn::coord {
namespace {

std::string SeqName(std::string_view path, int64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%010lld", static_cast<long long>(seq));
  return absl::StrCat(std::string(path), buf);
}

bool IsEphemeral(CreateMode m) {
  return m == CreateMode::kEphemeral || m == CreateMode::kEphemeralSequential;
}
bool IsSequential(CreateMode m) {
  return m == CreateMode::kSequential || m == CreateMode::kEphemeralSequential;
}

}  // namespace

// The shared tree of one memory:// name.
//
// Synchronisation: one mutex guards the nodes and the list of attached
// sessions. Change notifications are handed to each session's dispatcher
// while the lock is held (the dispatcher only queues them), so every session
// sees changes in commit order.
class MemoryTree {
 public:
  struct Node {
    std::string data;
    int64_t version = 0;
    int64_t owner = 0;  // session id for ephemerals, else 0
    int64_t seq = 0;    // next sequential suffix for children
  };
  using Nodes = std::map<std::string, Node, std::less<>>;

  MemoryTree() { nodes_["/"] = Node{}; }

  int64_t Attach(MemoryCoordinator* c) {
    absl::MutexLock lock(&mu_);
    sessions_.insert(c);
    return next_session_++;
  }
  // Detaches `c` and removes the ephemerals of `session`.
  void Detach(MemoryCoordinator* c, int64_t session) {
    absl::MutexLock lock(&mu_);
    sessions_.erase(c);
    DropEphemeralsLocked(session);
  }
  // Ends `old_session` (dropping its ephemerals), returns a new session id.
  int64_t Renew(int64_t old_session) {
    absl::MutexLock lock(&mu_);
    DropEphemeralsLocked(old_session);
    return next_session_++;
  }

  // Runs `fn` on the nodes under the lock. If it succeeds, the events it
  // recorded are published.
  template <typename Fn>
  auto Apply(Fn fn) {
    absl::MutexLock lock(&mu_);
    std::vector<std::pair<std::string, WatchEvent::Type>> events;
    auto result = fn(nodes_, &events);
    for (const auto& [path, type] : events) Publish(path, type);
    return result;
  }

  static absl::Status ApplyOp(
      Nodes& nodes, const CoordOp& op, int64_t session, CoordOpResult* result,
      std::vector<std::pair<std::string, WatchEvent::Type>>* ev) {
    if (absl::Status s = ValidateCoordPath(op.path); !s.ok()) return s;
    switch (op.type) {
      case CoordOp::Type::kCheck: {
        auto it = nodes.find(op.path);
        if (it == nodes.end()) return NoNode(op.path);
        if (op.version >= 0 && it->second.version != op.version) {
          return BadVersion(op.path);
        }
        return absl::OkStatus();
      }
      case CoordOp::Type::kCreate: {
        if (op.path == "/") return absl::AlreadyExistsError("/ exists");
        auto parent = nodes.find(CoordParent(op.path));
        if (parent == nodes.end()) {
          return absl::NotFoundError(
              absl::StrCat("parent of ", op.path, " does not exist"));
        }
        if (parent->second.owner != 0) {
          return absl::FailedPreconditionError(
              absl::StrCat("parent of ", op.path, " is ephemeral"));
        }
        std::string path = op.path;
        if (IsSequential(op.mode)) path = SeqName(op.path, parent->second.seq);
        if (nodes.contains(path)) {
          return absl::AlreadyExistsError(absl::StrCat(path, " exists"));
        }
        parent->second.seq++;
        Node n;
        n.data = op.data;
        n.owner = IsEphemeral(op.mode) ? session : 0;
        nodes.emplace(path, std::move(n));
        result->path = path;
        ev->emplace_back(path, WatchEvent::Type::kCreated);
        return absl::OkStatus();
      }
      case CoordOp::Type::kSet: {
        auto it = nodes.find(op.path);
        if (it == nodes.end()) return NoNode(op.path);
        if (op.version >= 0 && it->second.version != op.version) {
          return BadVersion(op.path);
        }
        it->second.data = op.data;
        result->version = ++it->second.version;
        ev->emplace_back(op.path, WatchEvent::Type::kChanged);
        return absl::OkStatus();
      }
      case CoordOp::Type::kDelete: {
        if (op.path == "/") {
          return absl::InvalidArgumentError("cannot delete /");
        }
        auto it = nodes.find(op.path);
        if (it == nodes.end()) return NoNode(op.path);
        if (op.version >= 0 && it->second.version != op.version) {
          return BadVersion(op.path);
        }
        auto next = std::next(it);
        std::string prefix = op.path + "/";
        if (next != nodes.end() && next->first.starts_with(prefix)) {
          return absl::FailedPreconditionError(
              absl::StrCat(op.path, " has children"));
        }
        nodes.erase(it);
        ev->emplace_back(op.path, WatchEvent::Type::kDeleted);
        return absl::OkStatus();
      }
    }
    return absl::InternalError("bad op");
  }

  static absl::Status NoNode(std::string_view path) {
    return absl::NotFoundError(absl::StrCat(std::string(path), " not found"));
  }
  static absl::Status BadVersion(std::string_view path) {
    return absl::AbortedError(
        absl::StrCat("version conflict on ", std::string(path)));
  }

 private:
  void Publish(const std::string& path, WatchEvent::Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (MemoryCoordinator* c : sessions_) c->OnNodeEvent(path, type);
  }

  void DropEphemeralsLocked(int64_t session)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      if (it->second.owner == session) {
        std::string path = it->first;
        it = nodes_.erase(it);
        Publish(path, WatchEvent::Type::kDeleted);
      } else {
        ++it;
      }
    }
  }

  absl::Mutex mu_;
  Nodes nodes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<MemoryCoordinator*> sessions_ ABSL_GUARDED_BY(mu_);
  int64_t next_session_ ABSL_GUARDED_BY(mu_) = 1;
};

MemoryCoordinator::MemoryCoordinator(std::shared_ptr<MemoryTree> tree,
                                     std::string uri,
                                     const CoordinatorOptions& options)
    : tree_(std::move(tree)),
      uri_(std::move(uri)),
      session_timeout_(options.session_timeout) {
  int64_t id = tree_->Attach(this);
  absl::MutexLock lock(&mu_);
  session_id_ = id;
}

MemoryCoordinator::~MemoryCoordinator() {
  tree_->Detach(this, session_id());
  dispatcher_.PostSession(SessionState::kClosed);
  dispatcher_.Stop();
}

int64_t MemoryCoordinator::session_id() const {
  absl::MutexLock lock(&mu_);
  return session_id_;
}

absl::Status MemoryCoordinator::CheckConnected() const {
  absl::MutexLock lock(&mu_);
  if (partitioned_) {
    return absl::UnavailableError(
        absl::StrCat("coordinator ", uri_, ": connection lost"));
  }
  return absl::OkStatus();
}

void MemoryCoordinator::OnNodeEvent(std::string_view path,
                                    WatchEvent::Type type) {
  {
    absl::MutexLock lock(&mu_);
    if (partitioned_) return;
  }
  dispatcher_.PostNodeEvent(path, type);
}

absl::StatusOr<std::string> MemoryCoordinator::Create(std::string_view path,
                                                      std::string_view data,
                                                      CreateMode mode) {
  absl::StatusOr<std::vector<CoordOpResult>> r =
      Multi({CoordOp::Create(path, data, mode)});
  if (!r.ok()) {
    // Strip the "op 0: " prefix Multi adds.
    return absl::Status(r.status().code(),
                        std::string(r.status().message().substr(6)));
  }
  return (*r)[0].path;
}

absl::StatusOr<NodeData> MemoryCoordinator::Get(std::string_view path) {
  if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
  if (absl::Status s = CheckConnected(); !s.ok()) return s;
  return tree_->Apply([&](MemoryTree::Nodes& nodes,
                          auto*) -> absl::StatusOr<NodeData> {
    auto it = nodes.find(path);
    if (it == nodes.end()) return MemoryTree::NoNode(path);
    return NodeData{it->second.data, it->second.version, it->second.owner != 0};
  });
}

absl::StatusOr<int64_t> MemoryCoordinator::Set(std::string_view path,
                                               std::string_view data,
                                               int64_t expected_version) {
  absl::StatusOr<std::vector<CoordOpResult>> r =
      Multi({CoordOp::Set(path, data, expected_version)});
  if (!r.ok()) {
    return absl::Status(r.status().code(),
                        std::string(r.status().message().substr(6)));
  }
  return (*r)[0].version;
}

absl::Status MemoryCoordinator::Delete(std::string_view path,
                                       int64_t expected_version) {
  absl::StatusOr<std::vector<CoordOpResult>> r =
      Multi({CoordOp::Delete(path, expected_version)});
  if (!r.ok()) {
    return absl::Status(r.status().code(),
                        std::string(r.status().message().substr(6)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MemoryCoordinator::Children(
    std::string_view path) {
  if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
  if (absl::Status s = CheckConnected(); !s.ok()) return s;
  return tree_->Apply([&](MemoryTree::Nodes& nodes,
                          auto*) -> absl::StatusOr<std::vector<std::string>> {
    auto it = nodes.find(path);
    if (it == nodes.end()) return MemoryTree::NoNode(path);
    std::string prefix =
        path == "/" ? "/" : absl::StrCat(std::string(path), "/");
    std::vector<std::string> out;
    for (++it; it != nodes.end() && it->first.starts_with(prefix); ++it) {
      std::string_view rest = std::string_view(it->first).substr(prefix.size());
      if (rest.find('/') == std::string_view::npos) out.emplace_back(rest);
    }
    return out;
  });
}

absl::StatusOr<bool> MemoryCoordinator::Exists(std::string_view path) {
  absl::StatusOr<NodeData> r = Get(path);
  if (r.ok()) return true;
  if (absl::IsNotFound(r.status())) return false;
  return r.status();
}

absl::StatusOr<std::vector<CoordOpResult>> MemoryCoordinator::Multi(
    const std::vector<CoordOp>& ops) {
  if (absl::Status s = CheckConnected(); !s.ok()) return s;
  int64_t session = session_id();
  return tree_->Apply(
      [&](MemoryTree::Nodes& nodes,
          std::vector<std::pair<std::string, WatchEvent::Type>>* events)
          -> absl::StatusOr<std::vector<CoordOpResult>> {
        // Apply to a copy; commit only if every op succeeded. The tree is
        // small (topology sized), so the copy is cheap enough.
        MemoryTree::Nodes staged = nodes;
        std::vector<std::pair<std::string, WatchEvent::Type>> staged_events;
        std::vector<CoordOpResult> results(ops.size());
        for (size_t i = 0; i < ops.size(); ++i) {
          absl::Status s = MemoryTree::ApplyOp(staged, ops[i], session,
                                               &results[i], &staged_events);
          if (!s.ok()) {
            return absl::Status(s.code(),
                                absl::StrCat("op ", i, ": ", s.message()));
          }
        }
        nodes.swap(staged);
        *events = std::move(staged_events);
        return results;
      });
}

absl::StatusOr<std::unique_ptr<Subscription>> MemoryCoordinator::Watch(
    std::string_view path, WatchKind kind, WatchCallback callback) {
  if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
  uint64_t id = dispatcher_.AddWatch(path, kind, std::move(callback));
  return dispatcher_.WatchSubscription(id, nullptr);
}

std::unique_ptr<Subscription> MemoryCoordinator::AddSessionListener(
    SessionCallback callback) {
  return dispatcher_.AddListener(std::move(callback));
}

SessionState MemoryCoordinator::session_state() const {
  absl::MutexLock lock(&mu_);
  return partitioned_ ? SessionState::kSuspended : SessionState::kConnected;
}

absl::Status MemoryCoordinator::ExpireSessionForTest() {
  int64_t old_id = session_id();
  int64_t new_id = tree_->Renew(old_id);
  {
    absl::MutexLock lock(&mu_);
    session_id_ = new_id;
    partitioned_ = false;
  }
  dispatcher_.PostSession(SessionState::kExpired);
  dispatcher_.PostSession(SessionState::kConnected);
  dispatcher_.PostResyncAll();
  return absl::OkStatus();
}

void MemoryCoordinator::SetPartitionedForTest(bool partitioned) {
  {
    absl::MutexLock lock(&mu_);
    if (partitioned_ == partitioned) return;
    partitioned_ = partitioned;
  }
  if (partitioned) {
    dispatcher_.PostSession(SessionState::kSuspended);
  } else {
    dispatcher_.PostSession(SessionState::kConnected);
    dispatcher_.PostResyncAll();
  }
}

Coordinator::Factory MemoryCoordinatorFactory() {
  // Named trees, shared while any coordinator holds them. Owned by the
  // factory (and so by the registry), guarded by its own mutex.
  struct Trees {
    absl::Mutex mu;
    std::map<std::string, std::weak_ptr<MemoryTree>> by_name
        ABSL_GUARDED_BY(mu);
  };
  auto trees = std::make_shared<Trees>();
  return [trees](const CoordinatorUri& uri, const CoordinatorOptions& options)
             -> absl::StatusOr<std::unique_ptr<Coordinator>> {
    std::shared_ptr<MemoryTree> tree;
    std::string name = uri.hosts + uri.path;
    if (name.empty()) {
      tree = std::make_shared<MemoryTree>();
    } else {
      absl::MutexLock lock(&trees->mu);
      tree = trees->by_name[name].lock();
      if (!tree) {
        tree = std::make_shared<MemoryTree>();
        trees->by_name[name] = tree;
      }
    }
    return std::unique_ptr<Coordinator>(
        std::make_unique<MemoryCoordinator>(tree, uri.text, options));
  };
}

}  // namespace reborn::coord
