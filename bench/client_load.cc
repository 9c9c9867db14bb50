// A load generator for the in-process Client, shaped like redis-benchmark so
// the macro bench (bench/macro/client_bench.py) can compare it with the same
// workload sent through reborn-proxy:
//   bench_client_load URI MODE TEST REQUESTS CLIENTS KEYSPACE
// MODE: sync  (CLIENTS threads, each Execute() in a loop)
//       async (CLIENTS logical clients, each one command outstanding:
//              its completion submits the next, on the dispatcher threads)
// TEST: set | get. Prints "requests_per_second <n>".
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "reborn/client.h"

namespace {

std::vector<std::string> Command(const std::string& test, uint64_t key) {
  std::string k = "key:" + std::to_string(key);
  if (test == "set") return {"SET", k, "xxx"};
  return {"GET", k};
}

// Each logical client submits its next command when the last one completes.
class AsyncLoad {
 public:
  AsyncLoad(reborn::Client& client, std::string test, int64_t requests,
            uint64_t keyspace)
      : client_(client),
        test_(std::move(test)),
        remaining_(requests),
        keyspace_(keyspace) {}

  void StartOne(uint64_t seed) {
    if (remaining_.fetch_sub(1) <= 0) {
      Finish();
      return;
    }
    client_.ExecuteAsync(Command(test_, seed % keyspace_),
                         [this, seed](absl::StatusOr<reborn::Reply> r) {
                           if (!r.ok() || r->is_error()) ++errors_;
                           StartOne(seed * 6364136223846793005ULL + 1);
                         });
  }
  void Run(int clients) {
    clients_ = clients;
    for (int c = 0; c < clients; ++c) StartOne(c + 1);
    done_.WaitForNotification();
  }
  int64_t errors() const { return errors_.load(); }

 private:
  void Finish() {
    if (finished_.fetch_add(1) + 1 == clients_) done_.Notify();
  }
  reborn::Client& client_;
  const std::string test_;
  std::atomic<int64_t> remaining_;
  const uint64_t keyspace_;
  int clients_ = 0;
  std::atomic<int> finished_{0};
  std::atomic<int64_t> errors_{0};
  absl::Notification done_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: %s URI sync|async set|get REQUESTS CLIENTS KEYSPACE\n",
                 argv[0]);
    return 2;
  }
  const std::string uri = argv[1], mode = argv[2], test = argv[3];
  const int64_t requests = std::atoll(argv[4]);
  const int clients = std::atoi(argv[5]);
  const uint64_t keyspace = std::max<int64_t>(1, std::atoll(argv[6]));
  reborn::ClientOptions options;
  options.max_idle_connections = clients;
  auto client = reborn::Client::Open(uri, "bench", options);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(client.status().message()).c_str());
    return 1;
  }
  std::atomic<int64_t> errors{0};
  auto start = std::chrono::steady_clock::now();
  if (mode == "sync") {
    std::atomic<int64_t> next{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        std::mt19937_64 rng(c + 1);
        while (next.fetch_add(1) < requests) {
          auto r = (*client)->Execute(Command(test, rng() % keyspace));
          if (!r.ok() || r->is_error()) ++errors;
        }
      });
    }
    for (auto& t : threads) t.join();
  } else {
    AsyncLoad load(**client, test, requests, keyspace);
    load.Run(clients);
    errors += load.errors();
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("requests_per_second %.0f\nerrors %lld\n", requests / seconds,
              static_cast<long long>(errors.load()));
  return errors.load() == 0 ? 0 : 1;
}
