#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reborn/slot_table.h"

namespace reborn {

struct ProxyOptions {
  // host:port to serve clients on; port 0 picks a free port (see port()).
  std::string addr = "127.0.0.1:19000";
  // host:port of the admin HTTP server (/metrics, /api/stats, /api/slots);
  // empty = no admin server.
  std::string admin_addr;
  int threads = 0;  // 0 = hardware concurrency
  // Clients must AUTH with this password when not empty.
  std::string requirepass;
  // Sent as AUTH on every backend connection when not empty.
  std::string backend_password;
  // Read-only commands go to a replica of the slot's group when it has one.
  bool read_from_replicas = false;
  // Pooled backend connections per backend per thread.
  int backend_connections = 1;
  // Idle pooled connections are PINGed this often.
  std::chrono::milliseconds keepalive{3000};
  // Reconnect backoff doubles from min to max while a backend is down;
  // requests to it fail at once during the backoff.
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{1000};
  std::chrono::milliseconds connect_timeout{1000};
  size_t max_clients = 10000;
  // Requests to a slot in pre_migrate wait this long for the change.
  std::chrono::milliseconds hold_timeout{5000};
};

// A Redis-protocol proxy in front of groups of qdb-server/redis-server (the
// reborn-proxy daemon is a thin main() over this; a program may embed it).
// Topology comes from a SlotTableSource; every table the source publishes is
// handed to the I/O threads, which route each command on one snapshot.
//
// Thread safety: all methods may be called from any thread except the
// proxy's own I/O threads (Stop/Wait block).
class Proxy {
 public:
  virtual ~Proxy() = default;

  // Binds, starts the I/O threads and the admin server, and subscribes to
  // `source` (which must outlive the proxy).
  static absl::StatusOr<std::unique_ptr<Proxy>> Start(
      ProxyOptions options, std::shared_ptr<SlotTableSource> source);

  virtual int port() const = 0;
  virtual int admin_port() const = 0;  // 0 without an admin server
  // Stops accepting, lets in-flight replies drain (bounded), closes every
  // connection and joins the threads. Idempotent.
  virtual void Stop() = 0;
  // Blocks until RequestStop() or Stop().
  virtual void Wait() = 0;
  // Any thread, also signal-handling threads.
  virtual void RequestStop() = 0;

  // Prometheus text exposition (/metrics).
  virtual std::string MetricsText() const = 0;
  // JSON counters (/api/stats).
  virtual std::string StatsJson() const = 0;
};

}  // namespace reborn

namespace reborn {

// What the reborn-proxy command line asks for.
struct ProxyLaunch {
  ProxyOptions options;
  // Topology, one of: a coordinator (--coordinator URI --product NAME), a
  // static JSON file (--topology FILE, see SlotTable::FromJson) or a list of
  // master addresses (--backends host:port,...).
  std::string coordinator;
  std::string product;
  std::string topology_file;
  std::string backends;
  std::string log_level = "info";
  bool help = false;
};

// Parses the reborn-proxy flags (--addr, --coordinator, --product,
// --admin-addr, --threads, --requirepass, --backend-password,
// --read-from-replicas, --backends, --topology, --log-level).
absl::StatusOr<ProxyLaunch> ParseProxyFlags(
    const std::vector<std::string>& args);

// The usage text of reborn-proxy.
std::string ProxyUsage();

// Opens the topology source a launch names.
absl::StatusOr<std::shared_ptr<SlotTableSource>> OpenTopologySource(
    const ProxyLaunch& launch);

}  // namespace reborn
