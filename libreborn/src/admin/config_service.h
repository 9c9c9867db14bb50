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

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/coordinator.h"
#include "reborn/topology.h"

namespace reborn::admin {

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
  absl::StatusOr<nlohmann::json> ServerPromote(int gid,
                                               const std::string& addr);
  absl::StatusOr<nlohmann::json> ProxyList();
  absl::StatusOr<nlohmann::json> ProxyOffline(const std::string& id);
  absl::StatusOr<nlohmann::json> Actions();
  absl::StatusOr<nlohmann::json> Overview();

  Topology& topology() { return topology_; }

 private:
  absl::Status Ping(const std::string& addr);
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
