#include "reborn/agent.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "agent/apps.h"
#include "agent/election.h"
#include "agent/ha_monitor.h"
#include "agent/health.h"
#include "agent/http_api.h"
#include "agent/supervisor.h"
#include "reborn/coordinator.h"
#include "reborn/topology.h"
#include "spdlog/spdlog.h"

namespace reborn {
namespace {

using json = nlohmann::json;

absl::StatusOr<std::string> RandomToken() {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string bytes(16, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    return absl::InternalError("cannot read /dev/urandom");
  }
  return absl::BytesToHexString(bytes);
}

std::string SelfDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

// Threads: the HTTP server's, the supervise loop, and with `ha` the HA loop.
// `mu_` guards the stop flag the loops wait on.
class AgentImpl : public Agent {
 public:
  explicit AgentImpl(AgentOptions options) : options_(std::move(options)) {}
  ~AgentImpl() override { Stop(); }

  absl::Status Init() {
    if (options_.dir.empty()) {
      return absl::InvalidArgumentError("--dir is required");
    }
    if (options_.ha &&
        (options_.coordinator.empty() || options_.product.empty())) {
      return absl::InvalidArgumentError(
          "--ha needs --coordinator and --product");
    }
    if (options_.quorum < 1) {
      return absl::InvalidArgumentError("--quorum must be at least 1");
    }
    if (options_.check_interval <= absl::ZeroDuration() ||
        options_.down_after < absl::ZeroDuration() ||
        options_.supervise_interval <= absl::ZeroDuration() ||
        options_.max_restarts < 0) {
      return absl::InvalidArgumentError("intervals must be positive");
    }
    std::string host;
    int port = 0;
    const std::string addr = options_.addr;
    size_t colon = addr.rfind(':');
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(addr.substr(colon + 1), &port) || port < 0 ||
        port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad --addr '", addr, "' (want host:port)"));
    }
    host = addr.substr(0, colon);
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create ", options_.dir, ": ", ec.message()));
    }
    options_.dir = std::filesystem::absolute(options_.dir).string();
    // One agent per directory: a second one would adopt (and stop) the
    // first one's processes.
    const std::string lock_path = options_.dir + "/agent.lock";
    lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0 || flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "another agent uses ", options_.dir, " (", lock_path, " is locked)"));
    }
    if (options_.token.empty()) {
      auto t = RandomToken();
      if (!t.ok()) return t.status();
      options_.token = *t;
    }

    if (!options_.coordinator.empty()) {
      CoordinatorOptions copts;
      copts.session_timeout = options_.session_timeout;
      auto coord = Coordinator::Open(options_.coordinator, copts);
      if (!coord.ok()) return coord.status();
      coord_ = std::move(*coord);
      topology_ = std::make_unique<Topology>(coord_.get(), options_.product);
    }

    agent::SupervisorOptions sopts;
    sopts.dir = options_.dir;
    sopts.backoff_min = options_.backoff_min;
    sopts.backoff_max = options_.backoff_max;
    sopts.max_restarts = options_.max_restarts;
    sopts.restart_window = options_.restart_window;
    supervisor_ = std::make_unique<agent::Supervisor>(sopts);

    const std::string self = SelfDir();
    agent::AppContext ctx;
    ctx.dir = options_.dir;
    ctx.qdb_bin =
        agent::FindProgram(options_.qdb_server_bin, self, "qdb-server");
    ctx.redis_bin =
        agent::FindProgram(options_.redis_server_bin, self, "redis-server");
    ctx.proxy_bin =
        agent::FindProgram(options_.proxy_bin, self, "reborn-proxy");
    ctx.config_bin =
        agent::FindProgram(options_.config_bin, self, "reborn-config");
    ctx.coordinator = options_.coordinator;
    ctx.product = options_.product;
    http_ = std::make_unique<agent::HttpApi>(
        supervisor_.get(), ctx, options_.token, [this] { return StatusJson(); },
        [this](int gid) -> absl::Status {
          if (monitor_ == nullptr) {
            return absl::FailedPreconditionError(
                "this agent runs without --ha");
          }
          return monitor_->Force(gid);
        });
    if (absl::Status s = http_->Bind(host, port); !s.ok()) return s;
    api_addr_ = absl::StrCat(host, ":", http_->port());
    if (absl::Status s = supervisor_->Load(); !s.ok()) return s;

    if (options_.ha) {
      const std::string dir =
          absl::StrCat("/reborn/", options_.product, "/agents");
      json data{{"addr", api_addr_},
                {"pid", static_cast<int64_t>(getpid())},
                {"down", json::array()}};
      election_ =
          std::make_unique<agent::Election>(coord_.get(), dir, data.dump());
      if (absl::Status s = election_->Start(); !s.ok()) return s;
      agent::HaOptions hopts;
      hopts.check_interval = options_.check_interval;
      hopts.down_after = options_.down_after;
      hopts.quorum = options_.quorum;
      hopts.proxy_quorum = options_.proxy_quorum;
      hopts.store_timeout = options_.store_timeout;
      hopts.password = options_.store_password;
      hopts.change.owner = "reborn-agent";
      hopts.change.ack_timeout = options_.ack_timeout;
      hopts.change.lock_timeout = absl::Seconds(5);
      hopts.api_addr = api_addr_;
      hopts.test_pause_after_promote = options_.test_pause_after_promote;
      monitor_ = std::make_unique<agent::HaMonitor>(topology_.get(),
                                                    election_.get(), hopts);
    }

    http_thread_ = std::thread([this] { http_->Serve(); });
    supervise_thread_ = std::thread([this] { SuperviseLoop(); });
    if (monitor_ != nullptr) ha_thread_ = std::thread([this] { HaLoop(); });
    started_ = true;
    spdlog::info("reborn-agent: API on {}{}", api_addr_,
                 options_.ha ? ", HA on" : "");
    return absl::OkStatus();
  }

  int port() const override { return http_ ? http_->port() : 0; }
  std::string token() const override { return options_.token; }
  bool IsLeader() const override {
    return election_ != nullptr && election_->IsLeader();
  }

  void Wait() override {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&stop_));
  }

  void RequestStop() override {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }

  void Stop() override {
    RequestStop();
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    if (ha_thread_.joinable()) ha_thread_.join();
    if (supervise_thread_.joinable()) supervise_thread_.join();
    // The HTTP handlers use the monitor: they go first.
    if (http_ != nullptr) http_->Stop();
    if (http_thread_.joinable()) http_thread_.join();
    monitor_.reset();
    election_.reset();  // leaves the election at once
    if (supervisor_ != nullptr && started_) {
      if (options_.stop_apps_on_exit) {
        supervisor_->StopAll(/*forget=*/false);
      } else {
        spdlog::info("leaving the applications running");
      }
    }
    http_.reset();
    topology_.reset();
    coord_.reset();
    if (lock_fd_ >= 0) close(lock_fd_);
    lock_fd_ = -1;
  }

 private:
  // Sleeps `d` or until a stop; false on a stop.
  bool Sleep(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), d);
    return !stop_;
  }

  void SuperviseLoop() {
    do {
      supervisor_->Tick();
    } while (Sleep(options_.supervise_interval));
  }

  void HaLoop() {
    do {
      const bool pending = monitor_->RunOnce();
      // While a master is failing, look more often: the failover waits for
      // the other agents' views, which are re-read every round.
      if (!Sleep(pending ? std::min(options_.check_interval,
                                    absl::Milliseconds(250))
                         : options_.check_interval)) {
        return;
      }
    } while (true);
  }

  json StatusJson() const {
    json out{{"addr", api_addr_},
             {"pid", static_cast<int64_t>(getpid())},
             {"coordinator", options_.coordinator},
             {"product", options_.product},
             {"ha", options_.ha},
             {"quorum", options_.quorum},
             {"proxy_quorum", options_.proxy_quorum}};
    if (monitor_ != nullptr) out.update(monitor_->Status());
    return out;
  }

  AgentOptions options_;
  int lock_fd_ = -1;
  bool started_ = false;  // the applications were loaded
  std::string api_addr_;
  std::unique_ptr<Coordinator> coord_;
  std::unique_ptr<Topology> topology_;
  std::unique_ptr<agent::Supervisor> supervisor_;
  std::unique_ptr<agent::HttpApi> http_;
  std::unique_ptr<agent::Election> election_;
  std::unique_ptr<agent::HaMonitor> monitor_;
  std::thread http_thread_;
  std::thread supervise_thread_;
  std::thread ha_thread_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Agent>> Agent::Start(AgentOptions options) {
  auto agent = std::make_unique<AgentImpl>(std::move(options));
  if (absl::Status s = agent->Init(); !s.ok()) return s;
  return agent;
}

}  // namespace reborn
