#pragma once

// Agent: the reborn-agent library (docs/agent.md). One agent per machine
//   - supervises local processes (qdb-server, redis-server, reborn-proxy,
//     `reborn-config dashboard`): starts them with their own data directory
//     and log file under `dir`, checks them every `supervise_interval`,
//     restarts a dead one with exponential backoff and gives up after
//     `max_restarts` restarts within `restart_window`; the list is kept in
//     `dir`/apps.json so a restarted agent re-adopts live processes or
//     starts them again;
//   - serves a JSON HTTP API on `addr` (changes need the token);
//   - with `ha`, takes part in leader election under /reborn/P/agents
//     (ephemeral-sequential, the lowest is the leader). Every HA agent checks
//     every server of every group and publishes the masters it finds down;
//     the leader fails a group over to its most up-to-date replica once its
//     own view and `quorum` - 1 other agents agree.
//
// Thread safety: every method may be called from any thread.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/export.h"

namespace reborn {

struct REBORN_EXPORT AgentOptions {
  // Coordinator URI and product; both required with `ha`, and for starting
  // proxies and dashboards (which are given them). Empty coordinator: the
  // agent only supervises stores.
  std::string coordinator;
  std::string product;
  // host:port of the HTTP API; port 0 picks a free port (see port()).
  std::string addr = "127.0.0.1:0";
  // Data directory: apps.json and one sub-directory per application.
  std::string dir;
  // Bearer token for every change; empty: a random one (see token()).
  std::string token;

  // Supervision.
  absl::Duration supervise_interval = absl::Seconds(1);
  absl::Duration backoff_min = absl::Milliseconds(200);
  absl::Duration backoff_max = absl::Seconds(30);
  int max_restarts = 5;  // within restart_window, then give up
  absl::Duration restart_window = absl::Seconds(60);
  // On Stop(): stop the applications (true) or leave them running for the
  // next agent to adopt.
  bool stop_apps_on_exit = true;
  // Programs; empty: next to the running executable (then the build tree's
  // daemons/<name>/<name>), and redis-server from PATH.
  std::string qdb_server_bin;
  std::string redis_server_bin;
  std::string proxy_bin;
  std::string config_bin;

  // High availability.
  bool ha = false;
  absl::Duration check_interval = absl::Seconds(1);
  // A master is down after failing every check for this long...
  absl::Duration down_after = absl::Seconds(3);
  // ...and when this many agents (itself included) see it down. 1 lets a
  // single agent fail over alone.
  int quorum = 2;
  // When > 0, this many proxies seeing the master down (their published
  // view of the backends) count as one more agent: with one agent and
  // quorum 2, the proxies are the second opinion.
  int proxy_quorum = 0;
  // AUTH password of the stores (empty: none).
  std::string store_password;
  // Bound on one store request (PING, INFO, REPLICAOF).
  absl::Duration store_timeout = absl::Milliseconds(800);
  // How long a failover waits for every proxy's ack.
  absl::Duration ack_timeout = absl::Seconds(10);
  // Coordinator session timeout (how fast a dead agent's node goes away).
  absl::Duration session_timeout = absl::Seconds(6);
  // Fault injection for tests: the leader waits this long between
  // promoting a replica and the topology change, so a test can kill it
  // in the middle of a failover. Zero in production.
  absl::Duration test_pause_after_promote = absl::ZeroDuration();
};

// A running reborn-agent (supervisor, HTTP API and, with `ha`, election and
// failover; see the top of this file and docs/agent.md).
// Errors: Start() fails with InvalidArgument for bad options,
// FailedPrecondition when `dir` cannot be created or another agent uses it,
// the coordinator's error (Unavailable, ...) when it cannot be opened, and an
// error when the HTTP address cannot be bound; afterwards problems are
// logged, not returned.
// Thread-safe: every method may be called from any thread.
class REBORN_EXPORT Agent {
 public:
  virtual ~Agent() = default;

  // Opens the coordinator (if any), adopts or restarts the applications of
  // `dir`/apps.json, binds the HTTP API and starts the loops.
  static absl::StatusOr<std::unique_ptr<Agent>> Start(AgentOptions options);

  virtual int port() const = 0;
  virtual std::string token() const = 0;
  // True while this agent is the HA leader (connected and lowest node).
  virtual bool IsLeader() const = 0;
  // Blocks until RequestStop() or Stop().
  virtual void Wait() = 0;
  // Any thread, also signal-handling threads.
  virtual void RequestStop() = 0;
  // Leaves the election, stops the HTTP API and the loops and (per
  // stop_apps_on_exit) the applications. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace reborn
