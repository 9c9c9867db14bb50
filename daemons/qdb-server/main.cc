// qdb-server: a Redis-compatible server on RocksDB.
//   qdb-server [qdb.conf] [--port 6380] [--dir ./data] [--engine rocksdb] ...
// Arguments follow redis-server's conventions; see docs/ and CONFIG GET *.
#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "reborn/qdb_server.h"
#include "reborn/version.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::printf(
        "usage: qdb-server [config-file] [--directive value ...]\n"
        "example: qdb-server --port 6380 --dir ./data --engine rocksdb\n");
    return 0;
  }
  if (!args.empty() && (args[0] == "--version" || args[0] == "-v")) {
    std::printf("qdb-server v=%s (Redis %s compatible)\n", reborn::kVersion,
                reborn::kRedisCompatibleVersion);
    return 0;
  }

  // Signals are taken synchronously by one thread, so that no handler runs
  // on an I/O thread; every thread created later inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // Debian's abseil is built without NDEBUG, so its deadlock detector would
  // graph every absl::Mutex acquisition; our lock order is fixed by design
  // (docs/architecture.md) and the check costs on every command.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  auto server = reborn::QdbServer::Create(args);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  absl::Status started = (*server)->Start();
  if (!started.ok()) {
    std::fprintf(stderr, "%s\n", std::string(started.message()).c_str());
    return 1;
  }
  std::thread signal_waiter([&signals, s = server->get()] {
    int sig = 0;
    sigwait(&signals, &sig);
    s->RequestStop();
  });
  signal_waiter.detach();
  (*server)->Wait();
  (*server)->Stop();
  return 0;
}
