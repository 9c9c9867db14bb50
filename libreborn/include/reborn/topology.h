#pragma once

// Topology: the typed model of one product's cluster layout on a Coordinator
// (docs/design.md §5, docs/coordinator.md), and the topology-change protocol:
// take the lock, write, publish an action, wait for every live online proxy to
// ack it, fence the silent ones.
//
//   /reborn/P/slots/0000..1023
//   {"id","group_id","state","migrate":{"from","to"}} /reborn/P/groups/<gid>
//   {"id","servers":[{"addr","role","state"}]} /reborn/P/proxies/<pid>
//   ephemeral {"id","addr","admin_addr","state",
//                                           "pid","start_at"}
//   /reborn/P/actions/<seq>      sequential {"type","target","ts"}
//   /reborn/P/actions/<seq>/acks/<pid>
//   /reborn/P/migrations/<seq>   persistent migration tasks (JSON, opaque here)
//   /reborn/P/lock               ephemeral {"owner","pid","ts","token"}
//
// Thread safety: a Topology is a thin, stateless view; its methods may be
// called concurrently (the Coordinator is thread-safe). Writes use version
// checks, so concurrent writers without the lock fail with Aborted instead
// of losing updates.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/coordinator.h"
#include "reborn/export.h"
#include "reborn/slot.h"

namespace reborn {

enum class ServerRole { kMaster, kSlave };
enum class ProxyState { kOnline, kOffline, kMarkOffline };
// An offline server gets no traffic (a dead replica, a deposed master).
enum class ServerState { kOnline, kOffline };

REBORN_EXPORT std::string_view ServerRoleName(ServerRole r);
REBORN_EXPORT std::string_view ProxyStateName(ProxyState s);
REBORN_EXPORT std::string_view ServerStateName(ServerState s);

struct REBORN_EXPORT SlotNode {
  int id = 0;
  int group_id = 0;  // 0: no group
  SlotState state = SlotState::kOffline;
  int migrate_from = 0;  // for kPreMigrate / kMigrate
  int migrate_to = 0;
  int64_t version = -1;  // node version when read
};

struct REBORN_EXPORT ServerInfo {
  std::string addr;  // host:port
  ServerRole role = ServerRole::kSlave;
  ServerState state = ServerState::kOnline;
};

struct REBORN_EXPORT GroupNode {
  int id = 0;
  std::vector<ServerInfo> servers;
  int64_t version = -1;

  const ServerInfo* master() const;
};

struct REBORN_EXPORT ProxyInfo {
  std::string id;
  std::string addr;
  std::string admin_addr;
  ProxyState state = ProxyState::kOnline;
  int64_t pid = 0;
  int64_t start_at = 0;  // unix seconds
  // How long the proxy serves on its last table after its last contact with
  // the coordinator (0: not at all). A change that fences it waits at least
  // this long.
  int64_t lease_ms = 0;
  int64_t version = -1;
};

struct REBORN_EXPORT ActionInfo {
  std::string seq;  // node name under actions/
  std::string type;
  std::string target;
  int64_t ts = 0;                 // unix milliseconds
  std::vector<std::string> acks;  // proxy ids (filled by Actions())
};

// Encoding of the node values (the JSON of docs/coordinator.md).
REBORN_EXPORT std::string EncodeSlot(const SlotNode& s);
REBORN_EXPORT absl::StatusOr<SlotNode> DecodeSlot(std::string_view json);
REBORN_EXPORT std::string EncodeGroup(const GroupNode& g);
REBORN_EXPORT absl::StatusOr<GroupNode> DecodeGroup(std::string_view json);
REBORN_EXPORT std::string EncodeProxy(const ProxyInfo& p);
REBORN_EXPORT absl::StatusOr<ProxyInfo> DecodeProxy(std::string_view json);
REBORN_EXPORT std::string EncodeAction(const ActionInfo& a);
REBORN_EXPORT absl::StatusOr<ActionInfo> DecodeAction(std::string_view json);

// Held topology lock; released (node deleted) on destruction. The lock node
// is ephemeral, so a crashed holder's lock goes with its session.
class REBORN_EXPORT TopologyLock {
 public:
  TopologyLock(Coordinator* coord, std::string path, std::string token)
      : coord_(coord), path_(std::move(path)), token_(std::move(token)) {}
  ~TopologyLock();
  TopologyLock(const TopologyLock&) = delete;
  TopologyLock& operator=(const TopologyLock&) = delete;

 private:
  Coordinator* coord_;
  std::string path_;
  std::string token_;  // the lock node's data
};

struct REBORN_EXPORT ChangeOptions {
  // How long to wait for every live online proxy to ack an action.
  absl::Duration ack_timeout = absl::Seconds(10);
  // How often the acks are looked at meanwhile.
  absl::Duration ack_poll_interval = absl::Milliseconds(20);
  // After fencing a silent proxy, wait this long before proceeding; it must
  // be at least the proxies' session timeout (by then a proxy cut off from
  // the coordinator has stopped serving). Default: the coordinator's own,
  // or the longest lease a fenced proxy advertises (ProxyInfo::lease_ms).
  absl::Duration fence_wait = absl::InfiniteDuration();
  // How long Lock() waits for a lock held by someone else.
  absl::Duration lock_timeout = absl::Seconds(10);
  std::string owner = "reborn-config";
};

struct REBORN_EXPORT ChangeReport {
  std::string action;               // the action's node name
  std::vector<std::string> acked;   // proxies that acked
  std::vector<std::string> fenced;  // proxies marked offline
};

// One product's layout on a Coordinator (see the top of this file and
// docs/coordinator.md): typed reads and version-checked writes of slots,
// groups, proxies and actions, the topology lock and the change protocol.
// Errors: the Coordinator's codes (NotFound, AlreadyExists, Aborted for a
// lost version check, Unavailable), InvalidArgument for malformed node JSON,
// OutOfRange for a slot number outside [0, kSlotCount), FailedPrecondition
// when the lock stays held by someone else (naming the holder) or slots are
// initialised twice without `force`.
// Thread-safe: a stateless view; methods may run concurrently.
class REBORN_EXPORT Topology {
 public:
  // `coord` must outlive the Topology.
  Topology(Coordinator* coord, std::string_view product);

  const std::string& product() const { return product_; }
  Coordinator* coordinator() const { return coord_; }

  // Paths.
  std::string Root() const { return root_; }
  std::string SlotsPath() const { return root_ + "/slots"; }
  std::string SlotPath(int slot) const;
  std::string GroupsPath() const { return root_ + "/groups"; }
  std::string GroupPath(int gid) const;
  std::string ProxiesPath() const { return root_ + "/proxies"; }
  std::string ProxyPath(std::string_view id) const;
  std::string ActionsPath() const { return root_ + "/actions"; }
  std::string MigrationsPath() const { return root_ + "/migrations"; }
  std::string LockPath() const { return root_ + "/lock"; }

  // Creates the product's directories (idempotent).
  absl::Status EnsureLayout();

  // Slots. InitSlots creates all 1024 as offline without a group; with
  // `force` it resets existing ones. FailedPrecondition if they exist.
  absl::Status InitSlots(bool force);
  absl::StatusOr<SlotNode> GetSlot(int slot);
  absl::StatusOr<std::vector<SlotNode>> Slots();  // all, by id
  // Writes `slots` with version checks (chunked Multis).
  absl::Status WriteSlots(const std::vector<SlotNode>& slots);

  // Groups.
  absl::StatusOr<GroupNode> GetGroup(int gid);
  absl::StatusOr<std::vector<GroupNode>> Groups();
  absl::Status CreateGroup(int gid);
  absl::Status DeleteGroup(int gid, int64_t version);
  absl::Status WriteGroup(const GroupNode& group);  // version-checked

  // Proxies.
  absl::Status RegisterProxy(const ProxyInfo& proxy);  // ephemeral node
  absl::StatusOr<std::vector<ProxyInfo>> Proxies();
  absl::StatusOr<ProxyInfo> GetProxy(std::string_view id);
  absl::Status SetProxyState(std::string_view id, ProxyState state);

  // Actions and acks.
  absl::StatusOr<std::string> PublishAction(std::string_view type,
                                            std::string_view target);
  absl::Status AckAction(std::string_view seq, std::string_view proxy_id);
  absl::StatusOr<std::vector<ActionInfo>> Actions();
  // Deletes all but the newest `keep` actions.
  absl::Status PruneActions(size_t keep);

  // The topology lock, waiting up to `timeout` for a current holder.
  absl::StatusOr<std::unique_ptr<TopologyLock>> Lock(std::string_view owner,
                                                     absl::Duration timeout);

  // The change protocol: lock, `write`, publish an action, wait for acks,
  // fence silent proxies (then wait fence_wait), unlock.
  absl::StatusOr<ChangeReport> Change(
      std::string_view type, std::string_view target,
      const std::function<absl::Status()>& write,
      const ChangeOptions& options = {});

  // The same protocol for a change made of coordinator ops: taking the lock,
  // the ops and the action commit in one transaction, so a round costs the
  // coordinator two logged writes fewer (each a fsync on ZooKeeper). `ops`
  // reads what it needs and returns the writes (versioned, so a concurrent
  // writer fails them); it is called again when the lock was held by someone
  // else or a node it read changed meanwhile. An error from `ops` ends the
  // change with nothing written.
  absl::StatusOr<ChangeReport> ChangeOps(
      std::string_view type, std::string_view target,
      const std::function<absl::StatusOr<std::vector<CoordOp>>()>& ops,
      const ChangeOptions& options = {});

  // The writes of WriteSlots, for ChangeOps.
  std::vector<CoordOp> SlotWrites(const std::vector<SlotNode>& slots) const;

 private:
  absl::StatusOr<std::vector<std::string>> AckedBy(const std::string& seq);
  // The acks node of action `seq` (there already: OK).
  absl::Status CreateAcks(std::string_view seq);
  std::string LockData(std::string_view owner) const;
  absl::Status LockedError();
  // Waits for every live online proxy to ack `seq`, then fences the silent.
  absl::StatusOr<ChangeReport> AwaitAcks(const std::string& seq,
                                         const ChangeOptions& options);

  Coordinator* coord_;
  std::string product_;
  std::string root_;
};

// The proxy side of the change protocol: watches the product's actions and,
// for each new one, runs `handler` and then acks it. Created by a proxy after
// it registered. Callbacks run on the coordinator's event thread.
class REBORN_EXPORT ActionFollower {
 public:
  using Handler = std::function<absl::Status(const ActionInfo&)>;

  // Actions that exist when it starts are taken as seen.
  static absl::StatusOr<std::unique_ptr<ActionFollower>> Start(
      Topology* topology, std::string proxy_id, Handler handler);
  ~ActionFollower();

 private:
  ActionFollower(Topology* topology, std::string proxy_id, Handler handler)
      : topology_(topology),
        proxy_id_(std::move(proxy_id)),
        handler_(std::move(handler)) {}
  void Poll();  // on the event thread

  Topology* topology_;
  std::string proxy_id_;
  Handler handler_;
  std::string last_seen_;  // only touched on the event thread (and Start)
  std::unique_ptr<Subscription> watch_;
};

}  // namespace reborn
