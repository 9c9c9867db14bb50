#pragma once

// The operations of reborn-config, shared by the CLI and the REST API. Each
// returns the JSON it reports (the same document for `--json` and the API).
// Topology changes go through Topology::Change (lock, write, action, acks,
// fencing).
//
// Thread safety: as thread-safe as the Coordinator; holds no state of its
// own besides its options.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "reborn/coordinator.h"
#include "reborn/topology.h"

namespace reborn::admin {

// What `INFO replication` says about one store (Redis or qdb-server).
struct ReplicationInfo {
  std::string role;         // "master" or "slave"
  std::string master_host;  // a slave's master
  int master_port = 0;
  bool link_up = false;  // master_link_status:up
  std::string replid;    // master_replid: the history it holds
  // The replication stream it holds data up to: slave_repl_offset on a
  // slave, master_repl_offset on a master.
  int64_t offset = 0;
};

// Parses the text of `INFO replication`; absent fields keep their defaults.
ReplicationInfo ParseReplicationInfo(absl::string_view info);

struct ConfigServiceOptions {
  std::string password;  // AUTH for PINGing stores
  absl::Duration server_timeout = absl::Seconds(2);
  ChangeOptions change;
};

class ConfigService {
 public:
  ConfigService(Coordinator* coord, std::string_view product,
                ConfigServiceOptions options = {});

  absl::StatusOr<nlohmann::json> SlotInit(bool force);
  absl::StatusOr<nlohmann::json> SlotRangeSet(int from, int to, int gid);
  absl::StatusOr<nlohmann::json> SlotNode(int slot);
  absl::StatusOr<nlohmann::json> Slots();
  absl::StatusOr<nlohmann::json> GroupAdd(int gid);
  absl::StatusOr<nlohmann::json> GroupRemove(int gid);
  absl::StatusOr<nlohmann::json> GroupList();
  // role: "master", "slave" or "" (master if the group has none).
  absl::StatusOr<nlohmann::json> GroupAddServer(int gid,
                                                const std::string& addr,
                                                const std::string& role);
  absl::StatusOr<nlohmann::json> GroupRemoveServer(int gid,
                                                   const std::string& addr);
  // Makes `addr` the master of group `gid`. Unless `force`, CheckPromote
  // must pass first (FailedPrecondition otherwise, nothing changed).
  absl::StatusOr<nlohmann::json> ServerPromote(int gid, const std::string& addr,
                                               bool force = false);
  // Whether promoting `addr` in `group` keeps every write its master
  // acknowledged: OK with what was compared, or FailedPrecondition saying
  // why not. Asks the stores (`INFO replication`):
  //  - master reachable: `addr` must be a replica that synced with it (same
  //    replication id) and be at or past the master's offset (re-read for up
  //    to ~1 s while it catches up);
  //  - master down or not answering in time (failover), or none: `addr`
  //    must be a replica of that master, and no reachable replica of the
  //    same history may be ahead of it;
  //  - a master that answers but refuses INFO (a password?): refused.
  // An unreachable `addr` is refused. Promoting the current master is OK.
  // Takes up to ~1 s plus the server timeout per store.
  // For reborn-config and the HA agent alike.
  absl::StatusOr<nlohmann::json> CheckPromote(const GroupNode& group,
                                              const std::string& addr);
  absl::StatusOr<nlohmann::json> ProxyList();
  // The HA agents registered under /reborn/P/agents, in election order
  // (the first is the leader): [{"name","addr","pid","leader","down"}].
  absl::StatusOr<nlohmann::json> AgentList();
  absl::StatusOr<nlohmann::json> ProxyOffline(const std::string& id);
  absl::StatusOr<nlohmann::json> Actions();
  absl::StatusOr<nlohmann::json> Overview();

  Topology& topology() { return topology_; }

 private:
  absl::Status Ping(const std::string& addr);
  absl::StatusOr<ReplicationInfo> Replication(const std::string& addr);
  absl::StatusOr<nlohmann::json> Changed(const absl::StatusOr<ChangeReport>& r,
                                         nlohmann::json out);

  Coordinator* coord_;
  Topology topology_;
  ConfigServiceOptions options_;
};

nlohmann::json SlotJson(const reborn::SlotNode& s);
nlohmann::json GroupJson(const GroupNode& g);
nlohmann::json ProxyJson(const ProxyInfo& p);

// "host:port" -> host, port; InvalidArgument otherwise.
absl::Status SplitAddr(const std::string& addr, std::string* host, int* port);

}  // namespace reborn::admin
