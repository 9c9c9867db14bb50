#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "asio.hpp"
#include "net/auth_failures.h"
#include "net/client_registry.h"
#include "proxy/backend_conn.h"
#include "proxy/script_cache.h"
#include "reborn/proxy.h"
#include "reborn/slot_table.h"

namespace httplib {
class Server;
}

namespace reborn::proxy {

// Latency histogram bucket upper bounds, in microseconds.
inline constexpr std::array<int64_t, 12> kLatencyBucketsUs = {
    100,   250,   500,   1000,   2500,   5000,
    10000, 25000, 50000, 100000, 500000, 1000000};

struct CommandStat {
  uint64_t calls = 0;
  uint64_t errors = 0;
};

// Per-thread command metrics. Written by its I/O thread, read by the admin
// thread; `mu_` is uncontended on the data path (one writer, a rare reader).
class WorkerMetrics {
 public:
  struct Sample {
    std::string_view command;  // a static name
    bool error = false;
    int64_t usec = 0;
  };
  // A client's drained replies go in together: one lock for all of them.
  void Record(std::span<const Sample> samples) ABSL_LOCKS_EXCLUDED(mu_);
  // Adds this thread's numbers to the totals.
  void AddTo(std::unordered_map<std::string_view, CommandStat>* commands,
             std::array<uint64_t, kLatencyBucketsUs.size() + 1>* buckets,
             uint64_t* sum_us, uint64_t* count) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  // Keys are the command table's static names.
  std::unordered_map<std::string_view, CommandStat> commands_
      ABSL_GUARDED_BY(mu_);
  std::array<uint64_t, kLatencyBucketsUs.size() + 1> buckets_
      ABSL_GUARDED_BY(mu_){};
  uint64_t sum_us_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t count_ ABSL_GUARDED_BY(mu_) = 0;
  // The last command's entry: pipelines repeat one command (map nodes are
  // stable).
  std::string_view last_command_ ABSL_GUARDED_BY(mu_);
  CommandStat* last_stat_ ABSL_GUARDED_BY(mu_) = nullptr;
};

class ProxyImpl;

// One I/O thread: its io_context, its own copy of the current SlotTable and
// its backend connection pool. Everything but `metrics` is touched only by
// the worker's thread (new tables arrive by asio::post), so the data path
// takes no lock.
class Worker {
 public:
  Worker(ProxyImpl* proxy, int index);

  asio::io_context& io() { return io_; }
  ProxyImpl* proxy() { return proxy_; }
  const std::shared_ptr<const SlotTable>& table() const { return table_; }
  bool online() const { return online_; }
  WorkerMetrics& metrics() { return metrics_; }
  // For the proxy's own random choices (RANDOMKEY's group order).
  std::mt19937_64& random() { return random_; }

  // A pooled connection to `addr` (`pick` spreads sessions over the
  // per-backend connections).
  BackendConnection& Pooled(const std::string& addr, uint64_t pick);
  // A fresh connection owned by the caller (transactions, blocking commands,
  // Pub/Sub).
  std::shared_ptr<BackendConnection> Dedicated(const std::string& addr);

  // Installs a new topology; re-runs the requests held for pre_migrate slots.
  void SetTable(std::shared_ptr<const SlotTable> table, bool online);
  // Parks a request until the next topology change (or the hold timeout).
  void Hold(std::function<void(bool expired)> retry);
  // Runs `on_change` after every topology change until it returns false.
  void WatchTable(std::function<bool()> on_change) {
    watchers_.push_back(std::move(on_change));
  }

  void StartKeepalive();
  void StopBackends();

 private:
  void Keepalive();
  void ExpireHeld();

  ProxyImpl* proxy_;
  int index_;
  asio::io_context io_{1};
  std::shared_ptr<const SlotTable> table_;
  bool online_ = true;
  std::unordered_map<std::string,
                     std::vector<std::shared_ptr<BackendConnection>>>
      pool_;
  struct Held {
    std::chrono::steady_clock::time_point deadline;
    std::function<void(bool expired)> retry;
  };
  std::vector<Held> held_;
  std::vector<std::function<bool()>> watchers_;
  asio::steady_timer keepalive_timer_{io_};
  WorkerMetrics metrics_;
  std::mt19937_64 random_{std::random_device{}()};
};

// Global counters (relaxed atomics).
struct ProxyCounters {
  std::atomic<int64_t> clients{0};
  std::atomic<uint64_t> total_clients{0};
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> split_commands{0};
  std::atomic<uint64_t> fanout_commands{0};
  std::atomic<uint64_t> held_requests{0};
};

class ProxyImpl : public Proxy {
 public:
  ProxyImpl(ProxyOptions options, std::shared_ptr<SlotTableSource> source);
  ~ProxyImpl() override;

  absl::Status Init();

  int port() const override { return port_; }
  int admin_port() const override { return admin_port_; }
  void Stop() override;
  void Wait() override;
  void RequestStop() override;
  std::string MetricsText() const override;
  std::string StatsJson() const override;

  const ProxyOptions& options() const { return options_; }
  // I/O threads actually running (options().threads, or its default).
  size_t thread_count() const { return workers_.size(); }
  const BackendOptions& backend_options() const { return backend_options_; }
  BackendCounters& backend_counters() { return backend_counters_; }
  ProxyCounters& counters() { return counters_; }
  net::AuthFailures& auth_failures() { return auth_failures_; }
  net::ClientRegistry& clients() { return registry_; }
  ScriptCache& scripts() { return scripts_; }
  std::shared_ptr<const SlotTable> CurrentTable() const {
    return source_->Current();
  }
  std::chrono::steady_clock::time_point started_at() const {
    return started_at_;
  }
  // The online proxies' client addresses (empty: a static topology).
  std::vector<std::string> ProxyAddrs() const { return source_->ProxyAddrs(); }

 private:
  void Accept();
  absl::Status StartAdmin();

  ProxyOptions options_;
  BackendOptions backend_options_;
  std::shared_ptr<SlotTableSource> source_;
  int subscription_ = 0;
  BackendCounters backend_counters_;
  ProxyCounters counters_;
  net::AuthFailures auth_failures_;
  net::ClientRegistry registry_;
  ScriptCache scripts_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>>
      guards_;
  std::vector<std::thread> threads_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  size_t next_worker_ = 0;  // acceptor thread only
  int port_ = 0;
  int admin_port_ = 0;
  std::unique_ptr<httplib::Server> admin_;
  std::thread admin_thread_;
  std::chrono::steady_clock::time_point started_at_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_requested_ = false;  // guarded by stop_mu_
  bool stopped_ = false;         // guarded by stop_mu_
  std::atomic<bool> accepting_{true};
};

// Starts serving one accepted client socket on `worker` (session.cc).
void StartSession(Worker* worker, asio::ip::tcp::socket socket);

}  // namespace reborn::proxy
