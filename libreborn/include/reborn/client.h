#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reborn/reply.h"
#include "reborn/slot_table.h"

namespace reborn {

struct ClientOptions {
  // Read-only commands go to a replica of the slot's group when it has one.
  bool read_from_replicas = false;
  std::string password;  // AUTH sent to every server
  std::chrono::milliseconds timeout{5000};
  // Idle connections kept per server.
  size_t max_idle_connections = 8;
  // How long a command for a slot in pre_migrate waits for the change.
  std::chrono::milliseconds hold_timeout{5000};
  // With a coordinator URI: take part in topology changes like a proxy
  // (docs/design.md §5) — register an ephemeral /reborn/P/proxies/<id> node
  // ({"kind":"client", no addr}) and ack every action once the table that
  // follows it is in use, so a slot migration waits for this Client before
  // moving keys. Without it a Client may write to a slot's old group after
  // the move started (a lost write). A coordinator that refuses the node
  // (read-only, e.g. file://) is used without it.
  bool ack_topology_changes = true;
  // The node's id; empty: "client-<host>-<pid>-<unix ns>".
  std::string participant_id;
};

// An in-process sharded client: the proxy's routing (the same Router and
// SlotTable, split/merge of MGET MSET DEL UNLINK EXISTS TOUCH, CROSSSLOT for
// the rest, migration handling) without the proxy hop — it talks RESP
// straight to the group masters (or replicas for reads when asked).
//
// Thread-safe: any number of threads may call Execute/ExecuteBatch; each
// call borrows pooled connections, so calls on different servers run in
// parallel.
class Client {
 public:
  virtual ~Client() = default;

  // Topology from a coordinator: "zk://...", "etcd://...", "memory://"
  // (product = the /reborn/<product> tree), or a static list of masters
  // "static://host:port,host:port" (slots split evenly; product ignored).
  static absl::StatusOr<std::unique_ptr<Client>> Open(
      const std::string& uri, const std::string& product,
      ClientOptions options = {});
  // Topology from any source (which must outlive the client).
  static absl::StatusOr<std::unique_ptr<Client>> Open(
      std::shared_ptr<SlotTableSource> source, ClientOptions options = {});

  // Runs one command. An error reply is a Reply of type kError (including
  // CROSSSLOT and unavailable groups); a failed status means bad input
  // (empty args).
  virtual absl::StatusOr<Reply> Execute(
      const std::vector<std::string>& args) = 0;

  // Runs several commands, pipelined per server; replies in order.
  virtual absl::StatusOr<std::vector<Reply>> ExecuteBatch(
      const std::vector<std::vector<std::string>>& commands) = 0;
};

}  // namespace reborn
