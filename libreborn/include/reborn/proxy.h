#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/export.h"
#include "reborn/slot_table.h"

namespace reborn {

struct REBORN_EXPORT ProxyOptions {
  // host:port to serve clients on; port 0 picks a free port (see port()).
  std::string addr = "127.0.0.1:19000";
  // host:port of the admin HTTP server (/metrics, /api/stats, /api/slots);
  // empty = no admin server.
  std::string admin_addr;
  int threads = 0;  // I/O threads; 0 = the cores less one (at least 1)
  // Clients must AUTH with this password when not empty.
  std::string requirepass;
  // Sent as AUTH on every backend connection when not empty.
  std::string backend_password;
  // Read-only commands go to a replica of the slot's group when it has one.
  bool read_from_replicas = false;
  // Pooled backend connections per backend per thread.
  int backend_connections = 1;
  // Idle pooled connections are PINGed this often.
  absl::Duration keepalive = absl::Seconds(3);
  // Reconnect backoff doubles from min to max while a backend is down;
  // requests to it fail at once during the backoff.
  absl::Duration backoff_min = absl::Milliseconds(50);
  absl::Duration backoff_max = absl::Seconds(1);
  absl::Duration connect_timeout = absl::Seconds(1);
  size_t max_clients = 10000;
  // Requests to a slot in pre_migrate wait this long for the change.
  absl::Duration hold_timeout = absl::Seconds(5);
  // A request a backend has not answered within this time fails with
  // "ERR backend <addr> timed out after <n> ms" and the connection is
  // closed (with every request waiting on it) and made again: a hung server
  // holds up only the requests sent to it. Blocking commands get their own
  // timeout on top; one that waits forever is exempt. 0 = no timeout.
  absl::Duration backend_timeout = absl::Seconds(3);

  // client-output-buffer-limit, with Redis' semantics: a client whose
  // replies not yet written exceed `hard` bytes, or exceed `soft` bytes for
  // longer than `soft_time`, is disconnected (checked on every reply
  // appended). While above `soft` (hard / 2 without a soft limit) the client's
  // requests are not read, so a client that never reads cannot grow it by
  // sending more. 0 = no such limit.
  struct OutputLimit {
    uint64_t hard = 0;
    uint64_t soft = 0;
    absl::Duration soft_time = absl::ZeroDuration();
  };
  // Unlike Redis' "normal 0 0 0", bounded by default.
  OutputLimit output_limit_normal{256ULL << 20, 64ULL << 20, absl::Seconds(60)};
  // Clients in Pub/Sub mode (Redis' pubsub class and defaults).
  OutputLimit output_limit_pubsub{32ULL << 20, 8ULL << 20, absl::Seconds(60)};
  // client-query-buffer-limit: a client whose unparsed input plus the
  // command being received (its bytes and a per-argument overhead) exceeds
  // this is disconnected.
  uint64_t query_buffer_limit = 1ULL << 30;
  // Lua script bodies remembered (EVAL, SCRIPT LOAD) to load a script again
  // where EVALSHA meets NOSCRIPT (a new master, a group that never saw it).
  // 0 = none remembered: NOSCRIPT reaches the client.
  uint64_t script_cache_bytes = 16ULL << 20;
};

// A Redis-protocol proxy in front of groups of qdb-server/redis-server (the
// reborn-proxy daemon is a thin main() over this; a program may embed it).
// Topology comes from a SlotTableSource; every table the source publishes is
// handed to the I/O threads, which route each command on one snapshot.
//
// Thread safety: all methods may be called from any thread except the
// proxy's own I/O threads (Stop/Wait block).
class REBORN_EXPORT Proxy {
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
struct REBORN_EXPORT ProxyLaunch {
  ProxyOptions options;
  // Topology, one of: a coordinator (--coordinator URI --product NAME), a
  // static JSON file (--topology FILE, see SlotTable::FromJson) or a list of
  // master addresses (--backends host:port,...).
  std::string coordinator;
  std::string product;
  std::string topology_file;
  std::string backends;
  std::string log_level = "info";
  // The coordinator session timeout (--session-timeout-ms); a
  // session_timeout_ms in the coordinator URI takes precedence. The proxy
  // serves on its last table for two thirds of it after the last contact
  // with the coordinator (see docs/proxy.md).
  absl::Duration session_timeout = absl::Seconds(30);
  // The proxy's view of the group masters' health, published for the HA
  // agents (--health-interval-ms, 0 = off; --health-down-after-ms).
  absl::Duration health_interval = absl::Seconds(1);
  absl::Duration health_down_after = absl::Seconds(3);
  bool help = false;
  bool version = false;  // --version
};

// Parses the reborn-proxy flags (--addr, --coordinator, --product,
// --admin-addr, --threads, --requirepass, --backend-password,
// --read-from-replicas, --backends, --topology, --log-level,
// --backend-timeout-ms, --client-output-buffer-limit,
// --client-query-buffer-limit, --session-timeout-ms, --health-interval-ms,
// --health-down-after-ms).
REBORN_EXPORT absl::StatusOr<ProxyLaunch> ParseProxyFlags(
    const std::vector<std::string>& args);

// The usage text of reborn-proxy.
REBORN_EXPORT std::string ProxyUsage();

// Opens the topology source a launch names.
REBORN_EXPORT absl::StatusOr<std::shared_ptr<SlotTableSource>>
OpenTopologySource(const ProxyLaunch& launch);

}  // namespace reborn
