#pragma once

// Health probes of the stores: PING plus INFO replication over a fresh
// bounded connection, and the store commands a failover sends (REPLICAOF).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/reply.h"

namespace reborn::agent {

struct ServerHealth {
  bool reachable = false;  // PING answered PONG
  std::string error;       // why not
  bool is_master = false;  // INFO replication role:master
  std::string master;      // a replica's master_host:master_port
  bool link_up = false;    // a replica's master_link_status:up
  bool syncing = false;    // master_sync_in_progress:1
  // A replica's slave_repl_offset, a master's master_repl_offset.
  int64_t offset = 0;
};

// Fills the role fields of `h` from the text of INFO replication.
void ParseReplicationInfo(std::string_view info, ServerHealth* h);

// "host:port" -> host, port.
absl::Status SplitHostPort(std::string_view addr, std::string* host, int* port);

// One probe (bounded by `timeout` per step).
ServerHealth Probe(const std::string& addr, absl::Duration timeout,
                   const std::string& password);

// Probes every address in parallel (one thread each).
std::map<std::string, ServerHealth> ProbeAll(
    const std::vector<std::string>& addrs, absl::Duration timeout,
    const std::string& password);

// Sends one command; an error reply becomes an error status.
absl::StatusOr<Reply> StoreCommand(const std::string& addr,
                                   const std::vector<std::string>& args,
                                   absl::Duration timeout,
                                   const std::string& password);

}  // namespace reborn::agent
