#include <unistd.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "admin/http_limits.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "proxy/proxy_impl.h"
#include "proxy/session.h"
#include "spdlog/spdlog.h"

namespace reborn::proxy {
namespace {

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    const std::string& addr) {
  size_t colon = addr.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(addr.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", addr, "' is not host:port"));
  }
  return std::make_pair(addr.substr(0, colon), port);
}

std::string EndpointText(const asio::ip::tcp::endpoint& ep) {
  return absl::StrCat(ep.address().to_string(), ":", ep.port());
}

}  // namespace

// ---------------------------------------------------------------- metrics

void WorkerMetrics::Record(std::span<const Sample> samples) {
  absl::MutexLock lock(&mu_);
  for (const Sample& sample : samples) {
    size_t b = 0;
    while (b < kLatencyBucketsUs.size() && sample.usec > kLatencyBucketsUs[b]) {
      ++b;
    }
    if (last_stat_ == nullptr ||
        sample.command.data() != last_command_.data() ||
        sample.command.size() != last_command_.size()) {
      last_command_ = sample.command;
      last_stat_ = &commands_[sample.command];
    }
    ++last_stat_->calls;
    if (sample.error) ++last_stat_->errors;
    ++buckets_[b];
    sum_us_ += static_cast<uint64_t>(std::max<int64_t>(sample.usec, 0));
    ++count_;
  }
}

void WorkerMetrics::AddTo(
    std::unordered_map<std::string_view, CommandStat>* commands,
    std::array<uint64_t, kLatencyBucketsUs.size() + 1>* buckets,
    uint64_t* sum_us, uint64_t* count) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [name, s] : commands_) {
    (*commands)[name].calls += s.calls;
    (*commands)[name].errors += s.errors;
  }
  for (size_t i = 0; i < buckets_.size(); ++i) (*buckets)[i] += buckets_[i];
  *sum_us += sum_us_;
  *count += count_;
}

// ---------------------------------------------------------------- worker

Worker::Worker(ProxyImpl* proxy, int index) : proxy_(proxy), index_(index) {}

BackendConnection& Worker::Pooled(const std::string& addr, uint64_t pick) {
  auto& conns = pool_[addr];
  if (conns.empty()) {
    int n = std::max(1, proxy_->options().backend_connections);
    for (int i = 0; i < n; ++i) {
      conns.push_back(std::make_shared<BackendConnection>(
          io_, addr, &proxy_->backend_options(), &proxy_->backend_counters()));
    }
  }
  return *conns[pick % conns.size()];
}

std::shared_ptr<BackendConnection> Worker::Dedicated(const std::string& addr) {
  return std::make_shared<BackendConnection>(
      io_, addr, &proxy_->backend_options(), &proxy_->backend_counters());
}

void Worker::SetTable(std::shared_ptr<const SlotTable> table, bool online) {
  table_ = std::move(table);
  online_ = online;
  // Drop pooled connections to servers no longer in the topology.
  for (auto it = pool_.begin(); it != pool_.end();) {
    bool used = false;
    if (table_) {
      for (const TableGroup& g : table_->groups()) {
        used = used || g.master == it->first ||
               std::find(g.replicas.begin(), g.replicas.end(), it->first) !=
                   g.replicas.end();
      }
    }
    if (!used) {
      for (auto& c : it->second) c->Close();
      it = pool_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<Held> held;
  held.swap(held_);
  for (Held& h : held) h.retry(false);
  std::vector<std::function<bool()>> watchers;
  watchers.swap(watchers_);
  for (auto& watch : watchers) {
    if (watch()) watchers_.push_back(std::move(watch));
  }
}

void Worker::Hold(std::function<void(bool expired)> retry) {
  held_.push_back(
      Held{std::chrono::steady_clock::now() +
               absl::ToChronoMilliseconds(proxy_->options().hold_timeout),
           std::move(retry)});
}

void Worker::StartKeepalive() { Keepalive(); }

void Worker::Keepalive() {
  keepalive_timer_.expires_after(absl::ToChronoMilliseconds(
      std::min(proxy_->options().keepalive, absl::Milliseconds(500))));
  keepalive_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    auto now = std::chrono::steady_clock::now();
    for (auto& [addr, conns] : pool_) {
      for (auto& c : conns) {
        if (c->connected() && c->pending() == 0 &&
            now - c->last_activity() >
                absl::ToChronoMilliseconds(proxy_->options().keepalive)) {
          c->Send("*1\r\n$4\r\nPING\r\n", nullptr);
        }
      }
    }
    ExpireHeld();
    Keepalive();
  });
}

void Worker::ExpireHeld() {
  auto now = std::chrono::steady_clock::now();
  std::vector<Held> expired;
  auto it = std::partition(held_.begin(), held_.end(),
                           [&](const Held& h) { return h.deadline > now; });
  std::move(it, held_.end(), std::back_inserter(expired));
  held_.erase(it, held_.end());
  for (Held& h : expired) h.retry(true);
}

void Worker::StopBackends() {
  keepalive_timer_.cancel();
  for (auto& [addr, conns] : pool_) {
    for (auto& c : conns) c->Close();
  }
  pool_.clear();
  std::vector<Held> held;
  held.swap(held_);
  for (Held& h : held) h.retry(true);
}

// ---------------------------------------------------------------- proxy

ProxyImpl::ProxyImpl(ProxyOptions options,
                     std::shared_ptr<SlotTableSource> source)
    : options_(std::move(options)),
      source_(std::move(source)),
      scripts_(options_.script_cache_bytes) {
  backend_options_.password = options_.backend_password;
  backend_options_.backoff_min =
      absl::ToChronoMilliseconds(options_.backoff_min);
  backend_options_.backoff_max =
      absl::ToChronoMilliseconds(options_.backoff_max);
  backend_options_.connect_timeout =
      absl::ToChronoMilliseconds(options_.connect_timeout);
  backend_options_.request_timeout =
      absl::ToChronoMilliseconds(options_.backend_timeout);
  // The default leaves a core to the kernel's network work and whatever
  // shares the machine: on 2 cores, 2 I/O threads measured 0.67-1.10x
  // nutcracker at -P 1 where 1 thread measured 1.03-1.36x.
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  int n = options_.threads > 0 ? options_.threads : std::max(1, cores - 1);
  for (int i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<Worker>(this, i));
  }
}

ProxyImpl::~ProxyImpl() { Stop(); }

absl::Status ProxyImpl::Init() {
  started_at_ = std::chrono::steady_clock::now();
  auto hp = SplitHostPort(options_.addr);
  if (!hp.ok()) return hp.status();
  asio::error_code ec;
  auto address = asio::ip::make_address(
      hp->first == "localhost" ? "127.0.0.1" : hp->first, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad listen address '", options_.addr, "'"));
  }
  asio::ip::tcp::endpoint endpoint(address, static_cast<uint16_t>(hp->second));
  acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(workers_[0]->io());
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(511, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.addr, ": ", ec.message()));
  }
  port_ = acceptor_->local_endpoint().port();
  // Each worker gets every published table on its own thread.
  subscription_ = source_->Subscribe(
      [this](std::shared_ptr<const SlotTable> table, bool online) {
        for (auto& w : workers_) {
          asio::post(w->io(), [w = w.get(), table, online] {
            w->SetTable(table, online);
          });
        }
        if (!online) {
          // Stop serving: clients get "-ERR proxy is offline" for what they
          // send meanwhile, and are disconnected.
          for (const auto& entry : registry_.Snapshot()) entry->kill();
        }
      });
  for (auto& w : workers_) {
    w->StartKeepalive();
    guards_.push_back(asio::make_work_guard(w->io()));
  }
  Accept();
  for (auto& w : workers_) {
    threads_.emplace_back([w = w.get()] { w->io().run(); });
  }
  if (!options_.admin_addr.empty()) {
    absl::Status s = StartAdmin();
    if (!s.ok()) {
      Stop();
      return s;
    }
  }
  spdlog::info("reborn-proxy listening on {}:{} with {} threads", hp->first,
               port_, workers_.size());
  return absl::OkStatus();
}

void ProxyImpl::Accept() {
  Worker* target = workers_[next_worker_].get();
  next_worker_ = (next_worker_ + 1) % workers_.size();
  acceptor_->async_accept(
      target->io(),
      [this, target](const asio::error_code& ec, asio::ip::tcp::socket socket) {
        if (ec) {
          if (ec == asio::error::operation_aborted) return;
          spdlog::warn("accept failed: {}", ec.message());
        } else {
          asio::error_code ignored;
          socket.set_option(asio::ip::tcp::no_delay(true), ignored);
          auto entry = std::make_shared<net::ClientEntry>();
          entry->id = registry_.NextId();
          entry->peer = EndpointText(socket.remote_endpoint(ignored));
          entry->local = EndpointText(socket.local_endpoint(ignored));
          entry->created_ms = absl::GetCurrentTimeNanos() / 1000000;
          entry->last_active_ms = entry->created_ms;
          auto session = std::make_shared<Session>(target, std::move(socket));
          std::weak_ptr<Session> weak = session;
          asio::io_context* io = &target->io();
          entry->kill = [weak, io] {
            asio::post(*io, [weak] {
              if (auto s = weak.lock()) s->Shutdown();
            });
          };
          if (registry_.Add(entry, options_.max_clients)) {
            asio::post(*io, [session, entry] { session->Start(entry); });
          } else {
            asio::post(*io, [session] { session->RejectMaxClients(); });
          }
        }
        if (accepting_.load()) Accept();
      });
}

void ProxyImpl::RequestStop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  stop_requested_ = true;
  stop_cv_.notify_all();
}

void ProxyImpl::Wait() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  stop_cv_.wait(lock, [this] { return stop_requested_ || stopped_; });
}

void ProxyImpl::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopped_) return;
    stop_requested_ = true;
  }
  if (subscription_ != 0) {
    source_->Unsubscribe(subscription_);
    subscription_ = 0;
  }
  if (admin_) {
    admin_->stop();
    if (admin_thread_.joinable()) admin_thread_.join();
  }
  accepting_ = false;
  if (!threads_.empty()) {
    asio::post(workers_[0]->io(), [this] {
      asio::error_code ignored;
      acceptor_->close(ignored);
    });
    for (const auto& entry : registry_.Snapshot()) entry->kill();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (registry_.size() > 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& w : workers_) {
      asio::post(w->io(), [w = w.get()] { w->StopBackends(); });
    }
    guards_.clear();
    for (auto& w : workers_) {
      asio::post(w->io(), [w = w.get()] { w->io().stop(); });
    }
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  std::lock_guard<std::mutex> lock(stop_mu_);
  stopped_ = true;
  stop_cv_.notify_all();
}

// ---------------------------------------------------------------- admin

std::string ProxyImpl::MetricsText() const {
  std::unordered_map<std::string_view, CommandStat> commands;
  std::array<uint64_t, kLatencyBucketsUs.size() + 1> buckets{};
  uint64_t sum_us = 0, count = 0;
  for (const auto& w : workers_) {
    w->metrics().AddTo(&commands, &buckets, &sum_us, &count);
  }
  std::vector<std::string_view> names;
  for (const auto& [name, s] : commands) names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string out;
  out += "# HELP reborn_proxy_commands_total Commands by name.\n";
  out += "# TYPE reborn_proxy_commands_total counter\n";
  for (auto n : names) {
    absl::StrAppend(&out, "reborn_proxy_commands_total{command=\"",
                    std::string(n), "\"} ", commands[n].calls, "\n");
  }
  out += "# HELP reborn_proxy_command_errors_total Error replies by command.\n";
  out += "# TYPE reborn_proxy_command_errors_total counter\n";
  for (auto n : names) {
    absl::StrAppend(&out, "reborn_proxy_command_errors_total{command=\"",
                    std::string(n), "\"} ", commands[n].errors, "\n");
  }
  out += "# HELP reborn_proxy_command_latency_seconds Command latency.\n";
  out += "# TYPE reborn_proxy_command_latency_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBucketsUs.size(); ++i) {
    cumulative += buckets[i];
    absl::StrAppend(&out, "reborn_proxy_command_latency_seconds_bucket{le=\"",
                    kLatencyBucketsUs[i] / 1e6, "\"} ", cumulative, "\n");
  }
  cumulative += buckets.back();
  absl::StrAppend(&out,
                  "reborn_proxy_command_latency_seconds_bucket{le=\"+Inf\"} ",
                  cumulative, "\n", "reborn_proxy_command_latency_seconds_sum ",
                  sum_us / 1e6, "\n",
                  "reborn_proxy_command_latency_seconds_count ", count, "\n");
  auto gauge = [&out](const char* name, const char* help, int64_t v) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name,
                    " gauge\n", name, " ", v, "\n");
  };
  auto& bc = backend_counters_;
  gauge("reborn_proxy_client_connections", "Connected clients.",
        counters_.clients.load());
  gauge("reborn_proxy_backend_connections", "Connected backend connections.",
        bc.connections.load());
  gauge("reborn_proxy_pipeline_depth",
        "Requests sent to backends and awaiting a reply.", bc.in_flight.load());
  auto counter = [&out](const char* name, const char* help, uint64_t v) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name,
                    " counter\n", name, " ", v, "\n");
  };
  counter("reborn_proxy_backend_requests_total", "Requests sent to backends.",
          bc.requests.load());
  counter("reborn_proxy_backend_batches_total",
          "Backend writes (requests per batch = pipelining).",
          bc.batches.load());
  counter("reborn_proxy_backend_failures_total",
          "Backend connect or I/O failures.", bc.failures.load());
  counter("reborn_proxy_split_commands_total",
          "Multi-key commands split over groups.",
          counters_.split_commands.load());
  counter("reborn_proxy_fanout_commands_total",
          "Commands fanned out to every group.",
          counters_.fanout_commands.load());
  return out;
}

std::string ProxyImpl::StatsJson() const {
  nlohmann::json j;
  auto table = source_->Current();
  j["addr"] = options_.addr;
  j["port"] = port_;
  j["pid"] = getpid();
  j["threads"] = workers_.size();
  j["online"] = source_->online();
  j["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now() - started_at_)
                      .count();
  j["topology_version"] = table ? table->version() : 0;
  j["clients"] = counters_.clients.load();
  j["total_clients"] = counters_.total_clients.load();
  j["commands"] = counters_.commands.load();
  j["split_commands"] = counters_.split_commands.load();
  j["fanout_commands"] = counters_.fanout_commands.load();
  j["held_requests"] = counters_.held_requests.load();
  j["backend"] = {{"connections", backend_counters_.connections.load()},
                  {"in_flight", backend_counters_.in_flight.load()},
                  {"requests", backend_counters_.requests.load()},
                  {"batches", backend_counters_.batches.load()},
                  {"failures", backend_counters_.failures.load()}};
  return j.dump();
}

absl::Status ProxyImpl::StartAdmin() {
  auto hp = SplitHostPort(options_.admin_addr);
  if (!hp.ok()) return hp.status();
  admin_ = std::make_unique<httplib::Server>();
  // Slow or stalled clients must not take every worker of the port that
  // monitoring scrapes.
  admin::ApplyHttpLimits(*admin_);
  admin_->Get("/metrics",
              [this](const httplib::Request&, httplib::Response& res) {
                res.set_content(MetricsText(), "text/plain; version=0.0.4");
              });
  admin_->Get("/api/stats",
              [this](const httplib::Request&, httplib::Response& res) {
                res.set_content(StatsJson(), "application/json");
              });
  admin_->Get(
      "/api/slots", [this](const httplib::Request&, httplib::Response& res) {
        auto table = source_->Current();
        res.set_content(table ? table->ToJson() : "{}", "application/json");
      });
  int port = hp->second;
  if (port == 0) {
    port = admin_->bind_to_any_port(hp->first);
  } else if (!admin_->bind_to_port(hp->first, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on admin address ", options_.admin_addr));
  }
  admin_port_ = port;
  admin_thread_ = std::thread([this] { admin_->listen_after_bind(); });
  return absl::OkStatus();
}

}  // namespace reborn::proxy

namespace reborn {

absl::StatusOr<std::unique_ptr<Proxy>> Proxy::Start(
    ProxyOptions options, std::shared_ptr<SlotTableSource> source) {
  if (source == nullptr) {
    return absl::InvalidArgumentError("a topology source is required");
  }
  auto proxy =
      std::make_unique<proxy::ProxyImpl>(std::move(options), std::move(source));
  absl::Status s = proxy->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<Proxy>(std::move(proxy));
}

}  // namespace reborn
