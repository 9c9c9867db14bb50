#pragma once

// Coordinator: the cluster's shared, hierarchical store (the ZooKeeper model).
//
// Nodes are addressed by absolute slash-separated paths ("/reborn/p/slots").
// Each node holds bytes and a version that starts at 0 on create and grows by
// one on every Set. Nodes may be persistent or ephemeral (bound to the
// session that created them: they vanish when the session closes or expires),
// and may be sequential (the name gets a zero-padded, increasing 10-digit
// suffix). A parent must exist before its children are created.
//
// Backends are picked by URI scheme through a process-wide registry:
//   memory://[name]                      in-process (tests, embedding)
//   zk://host:port[,host:port]/chroot    ZooKeeper (C client, zookeeper_mt)
//   etcd://host:port[,host:port]/prefix  etcd v3 over its JSON gateway
// A query string sets options:
// "?session_timeout_ms=4000&connect_timeout_ms=..." Users add their own backend
// with Coordinator::Register().
//
// Errors (the same codes from every backend):
//   NotFound           the node (or, for Create, its parent) does not exist
//   AlreadyExists      Create of a node that exists
//   Aborted            the expected version did not match (a lost CAS)
//   FailedPrecondition Delete of a node with children; child of an ephemeral
//   InvalidArgument    malformed path or URI
//   Unavailable        no connection / session lost / timed out; the outcome of
//                      a write that returns Unavailable is unknown
//
// Thread safety: every method may be called from any thread concurrently.
// Callbacks (watches and session listeners) run on one event thread per
// Coordinator, one at a time, in order; they may call back into the
// Coordinator (including synchronous reads and writes) but should not block
// for long.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/export.h"

namespace reborn {

enum class CreateMode {
  kPersistent,
  kEphemeral,
  kSequential,           // persistent, name + 10-digit counter
  kEphemeralSequential,  // ephemeral, name + 10-digit counter
};

// Session life cycle as seen by listeners.
enum class SessionState {
  kConnected,  // operations work; ephemerals of this session exist
  kSuspended,  // connection lost; the session (and its ephemerals) may still
               // be alive on the server. Stop trusting cached state.
  kExpired,    // the session is gone and its ephemerals deleted. The
               // Coordinator opens a new session by itself and reports
               // kConnected when it is ready: re-create ephemerals then.
  kClosed,     // the Coordinator is being destroyed
};

REBORN_EXPORT std::string_view SessionStateName(SessionState state);

struct REBORN_EXPORT NodeData {
  std::string data;
  int64_t version = 0;
  bool ephemeral = false;
};

// Something may have changed at `path`. Watches are level hints: read the
// node again after an event. kResync is sent after the connection came back
// (events may have been missed while disconnected).
struct REBORN_EXPORT WatchEvent {
  enum class Type { kCreated, kDeleted, kChanged, kChildren, kResync };
  Type type = Type::kChanged;
  std::string path;
};

REBORN_EXPORT std::string_view WatchEventTypeName(WatchEvent::Type type);

enum class WatchKind {
  kData,      // create, set and delete of the node itself
  kChildren,  // children created or deleted (plus create/delete of the node)
};

using WatchCallback = std::function<void(const WatchEvent&)>;
using SessionCallback = std::function<void(SessionState)>;

// Destroying a Subscription ends the watch or listener: when the destructor
// returns the callback is not running and will not run again (unless the
// destructor is called from inside that callback, which is allowed).
class REBORN_EXPORT Subscription {
 public:
  virtual ~Subscription() = default;
};

// One operation of a Multi.
struct REBORN_EXPORT CoordOp {
  enum class Type { kCheck, kCreate, kSet, kDelete };
  Type type = Type::kCheck;
  std::string path;
  std::string data;
  int64_t version = -1;  // kCheck/kSet/kDelete: expected version, -1 = any
  CreateMode mode = CreateMode::kPersistent;

  static CoordOp Check(std::string_view path, int64_t version);
  static CoordOp Create(std::string_view path, std::string_view data,
                        CreateMode mode = CreateMode::kPersistent);
  static CoordOp Set(std::string_view path, std::string_view data,
                     int64_t version = -1);
  static CoordOp Delete(std::string_view path, int64_t version = -1);
};

struct REBORN_EXPORT CoordOpResult {
  std::string path;     // kCreate: the created path (with sequence suffix)
  int64_t version = 0;  // kSet: the new version
};

struct REBORN_EXPORT CoordinatorOptions {
  // How long the server keeps a silent session (and its ephemerals) alive.
  absl::Duration session_timeout = absl::Seconds(10);
  // How long Open() waits for the first connection, and the bound on a
  // single request when the server does not answer.
  absl::Duration connect_timeout = absl::Seconds(5);
};

// A parsed coordinator URI: scheme://hosts/path?k=v&k=v
struct REBORN_EXPORT CoordinatorUri {
  std::string scheme;
  std::string hosts;  // "h:p,h:p" (may be empty)
  std::string path;   // "" or "/chroot"
  std::vector<std::pair<std::string, std::string>> params;
  std::string text;  // the URI as given, for messages

  static absl::StatusOr<CoordinatorUri> Parse(std::string_view uri);
};

// A session on the cluster's shared store; the interface every backend
// implements (built in: memory://, zk://, etcd://; yours via Register()).
// The node model, the error codes (the same from every backend) and the
// threading rules are at the top of this file. Backends are checked with
// reborn/testing/coordinator_conformance.h.
// Thread-safe: every method may be called from any thread concurrently.
class REBORN_EXPORT Coordinator {
 public:
  static constexpr int64_t kAnyVersion = -1;

  using Factory = std::function<absl::StatusOr<std::unique_ptr<Coordinator>>(
      const CoordinatorUri& uri, const CoordinatorOptions& options)>;

  // Opens a session on the backend named by the URI scheme. Fails with
  // Unavailable (naming the URI) if no connection within connect_timeout.
  static absl::StatusOr<std::unique_ptr<Coordinator>> Open(
      std::string_view uri, CoordinatorOptions options = {});

  // Adds (or replaces) the backend for `scheme`. Built in: memory, zk, etcd.
  static absl::Status Register(std::string_view scheme, Factory factory);

  virtual ~Coordinator() = default;

  // Creates a node; returns its actual path (sequential nodes get a suffix).
  virtual absl::StatusOr<std::string> Create(std::string_view path,
                                             std::string_view data,
                                             CreateMode mode) = 0;
  virtual absl::StatusOr<NodeData> Get(std::string_view path) = 0;
  // Replaces the data if the version matches (kAnyVersion: always); returns
  // the new version.
  virtual absl::StatusOr<int64_t> Set(std::string_view path,
                                      std::string_view data,
                                      int64_t expected_version) = 0;
  virtual absl::Status Delete(std::string_view path,
                              int64_t expected_version) = 0;
  // Names (not paths) of the children, sorted.
  virtual absl::StatusOr<std::vector<std::string>> Children(
      std::string_view path) = 0;
  virtual absl::StatusOr<bool> Exists(std::string_view path) = 0;
  // All operations or none, atomically. On failure the status is the first
  // failing operation's error, prefixed with its index.
  virtual absl::StatusOr<std::vector<CoordOpResult>> Multi(
      const std::vector<CoordOp>& ops) = 0;

  // Persistent watch: `callback` runs on the event thread for every change
  // until the Subscription is destroyed. The watch may be placed on a path
  // that does not exist yet. Register first, then read, to miss nothing.
  virtual absl::StatusOr<std::unique_ptr<Subscription>> Watch(
      std::string_view path, WatchKind kind, WatchCallback callback) = 0;

  // Session state changes, on the event thread.
  virtual std::unique_ptr<Subscription> AddSessionListener(
      SessionCallback callback) = 0;
  virtual SessionState session_state() const = 0;
  virtual absl::Duration session_timeout() const = 0;
  // The URI this coordinator was opened with (for messages).
  virtual std::string uri() const = 0;

  // Convenience: creates `path` and any missing ancestors as persistent nodes
  // with empty data; OK if it exists already.
  absl::Status CreateRecursive(std::string_view path);
};

// Path helpers shared by backends and users.
// Returns OK for "/" and "/a/b"; not for "", "a", "/a/", "/a//b".
REBORN_EXPORT absl::Status ValidateCoordPath(std::string_view path);
REBORN_EXPORT std::string CoordParent(
    std::string_view path);  // "/a/b" -> "/a", "/a" -> "/"
REBORN_EXPORT std::string CoordJoin(std::string_view parent,
                                    std::string_view name);

}  // namespace reborn
