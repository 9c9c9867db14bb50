// reborn-proxy: a Redis-protocol proxy in front of slot-sharded groups of
// qdb-server or redis-server. See docs/proxy.md.
#include <csignal>
#include <cstdio>
#include <thread>

#include "reborn/proxy.h"
#include "reborn/version.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto launch = reborn::ParseProxyFlags(args);
  if (!launch.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(launch.status().message()).c_str());
    return 2;
  }
  if (launch->help) {
    std::printf("%s", reborn::ProxyUsage().c_str());
    return 0;
  }
  if (launch->version) {
    std::printf("reborn-proxy %s\n", reborn::kVersion);
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(launch->log_level));

  // Signals are taken synchronously by one thread, so no handler runs on an
  // I/O thread; every thread created later inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto source = reborn::OpenTopologySource(*launch);
  if (!source.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(source.status().message()).c_str());
    return 1;
  }
  auto proxy = reborn::Proxy::Start(launch->options, *source);
  if (!proxy.ok()) {
    std::fprintf(stderr, "%s\n", std::string(proxy.status().message()).c_str());
    return 1;
  }
  std::thread signal_waiter([&signals, p = proxy->get()] {
    int sig = 0;
    sigwait(&signals, &sig);
    p->RequestStop();
  });
  signal_waiter.detach();
  (*proxy)->Wait();
  spdlog::info("reborn-proxy shutting down");
  (*proxy)->Stop();
  return 0;
}
