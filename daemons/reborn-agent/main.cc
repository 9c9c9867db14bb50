// reborn-agent: supervises local qdb-server / redis-server / reborn-proxy /
// dashboard processes and, with --ha, fails over dead group masters.
// All logic lives in libreborn (reborn/agent.h); see docs/agent.md.
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "reborn/agent.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  reborn::AgentOptions o;
  int check_ms = 1000;
  int down_ms = 3000;
  int backoff_min_ms = 200;
  int backoff_max_ms = 30000;
  int window_s = 60;
  int session_ms = 6000;
  int ack_ms = 10000;
  int store_timeout_ms = 800;
  int test_pause_ms = 0;
  bool leave_running = false;
  std::string log_level = "info";

  CLI::App app{"reborn-agent: process supervisor and HA failover"};
  app.add_option("--coordinator", o.coordinator,
                 "coordinator URI (zk://, etcd://, memory://)");
  app.add_option("--product", o.product, "product name");
  app.add_option("--addr", o.addr, "HTTP API host:port")
      ->default_val("127.0.0.1:18090");
  app.add_option("--dir", o.dir, "data directory (apps.json, app dirs)")
      ->required();
  app.add_option("--token", o.token,
                 "token for changes (default: a random one, printed)");
  app.add_flag("--ha", o.ha, "take part in leader election and failover");
  app.add_option("--check-interval-ms", check_ms, "HA check interval")
      ->check(CLI::Range(10, 600000));
  app.add_option("--down-after-ms", down_ms,
                 "a master failing this long is down")
      ->check(CLI::Range(0, 3600000));
  app.add_option("--quorum", o.quorum,
                 "agents (this one included) that must see a master down; "
                 "1 = this agent alone decides")
      ->check(CLI::Range(1, 100));
  app.add_option("--proxy-quorum", o.proxy_quorum,
                 "this many proxies seeing a master down count as one more "
                 "agent (0: proxies are not asked)")
      ->check(CLI::Range(0, 1000));
  app.add_option("--max-restarts", o.max_restarts,
                 "restarts within --restart-window-s before giving up")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--restart-window-s", window_s)->check(CLI::Range(1, 86400));
  app.add_option("--backoff-min-ms", backoff_min_ms)
      ->check(CLI::Range(0, 3600000));
  app.add_option("--backoff-max-ms", backoff_max_ms)
      ->check(CLI::Range(0, 3600000));
  app.add_flag("--leave-running", leave_running,
               "on exit leave the applications running (the next agent "
               "adopts them)");
  app.add_option("--qdb-server", o.qdb_server_bin, "qdb-server program");
  app.add_option("--redis-server", o.redis_server_bin, "redis-server program");
  app.add_option("--reborn-proxy", o.proxy_bin, "reborn-proxy program");
  app.add_option("--reborn-config", o.config_bin, "reborn-config program");
  app.add_option("--store-password", o.store_password,
                 "AUTH password of the stores");
  app.add_option("--store-timeout-ms", store_timeout_ms)
      ->check(CLI::Range(10, 60000));
  app.add_option("--session-timeout-ms", session_ms,
                 "coordinator session timeout")
      ->check(CLI::Range(100, 600000));
  app.add_option("--ack-timeout-ms", ack_ms, "proxy ack timeout of a failover")
      ->check(CLI::Range(10, 600000));
  app.add_option("--test-pause-after-promote-ms", test_pause_ms,
                 "tests only: wait this long between promoting a replica and "
                 "the topology change of a failover")
      ->check(CLI::Range(0, 60000));
  app.add_option("--log-level", log_level)
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  o.check_interval = absl::Milliseconds(check_ms);
  o.down_after = absl::Milliseconds(down_ms);
  o.backoff_min = absl::Milliseconds(backoff_min_ms);
  o.backoff_max = absl::Milliseconds(backoff_max_ms);
  o.restart_window = absl::Seconds(window_s);
  o.session_timeout = absl::Milliseconds(session_ms);
  o.ack_timeout = absl::Milliseconds(ack_ms);
  o.store_timeout = absl::Milliseconds(store_timeout_ms);
  o.test_pause_after_promote = absl::Milliseconds(test_pause_ms);
  o.stop_apps_on_exit = !leave_running;
  const bool generated = o.token.empty();

  // Signals are taken synchronously by one thread; children get a clean
  // mask (see agent/process.h).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  auto agent = reborn::Agent::Start(o);
  if (!agent.ok()) {
    std::fprintf(stderr, "reborn-agent: %s\n",
                 std::string(agent.status().message()).c_str());
    return 1;
  }
  if (generated) {
    std::fprintf(stderr, "reborn-agent: token %s\n", (*agent)->token().c_str());
  }
  std::fprintf(stderr, "reborn-agent: API on port %d\n", (*agent)->port());
  std::thread signal_waiter([&signals, a = agent->get()] {
    int sig = 0;
    sigwait(&signals, &sig);
    a->RequestStop();
  });
  signal_waiter.detach();
  (*agent)->Wait();
  spdlog::info("reborn-agent shutting down");
  (*agent)->Stop();
  return 0;
}
