#include "agent/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/process.h"
#include "spdlog/spdlog.h"

namespace reborn::agent {

using json = nlohmann::json;

json AppSpecToJson(const AppSpec& spec) {
  return json{{"id", spec.id},       {"kind", spec.kind}, {"argv", spec.argv},
              {"ports", spec.ports}, {"dir", spec.dir},   {"log", spec.log}};
}

absl::StatusOr<AppSpec> AppSpecFromJson(const json& j) {
  try {
    AppSpec s;
    s.id = j.at("id").get<std::string>();
    s.kind = j.at("kind").get<std::string>();
    s.argv = j.at("argv").get<std::vector<std::string>>();
    s.ports = j.value("ports", std::vector<int>{});
    s.dir = j.at("dir").get<std::string>();
    s.log = j.at("log").get<std::string>();
    if (s.id.empty() || s.argv.empty()) {
      return absl::InvalidArgumentError("app without id or argv");
    }
    return s;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad app entry: ", e.what()));
  }
}

Supervisor::Supervisor(SupervisorOptions options)
    : options_(std::move(options)) {}

Supervisor::~Supervisor() = default;

std::string Supervisor::StatePath() const {
  return (std::filesystem::path(options_.dir) / "apps.json").string();
}

absl::Status Supervisor::Load() {
  std::ifstream in(StatePath());
  if (!in) return absl::OkStatus();
  json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("apps") ||
      !doc["apps"].is_array()) {
    return absl::DataLossError(absl::StrCat(StatePath(), ": not an app list"));
  }
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  for (const json& entry : doc["apps"]) {
    auto spec = AppSpecFromJson(entry.value("spec", json::object()));
    if (!spec.ok()) {
      spdlog::warn("apps.json: skipping an entry: {}",
                   spec.status().ToString());
      continue;
    }
    App app;
    app.spec = *spec;
    app.restarts = entry.value("restarts", 0);
    const pid_t pid = entry.value("pid", 0);
    const uint64_t start = entry.value("start_time", uint64_t{0});
    App& a = apps_[app.spec.id] = std::move(app);
    if (SameProcessAlive(pid, start)) {
      a.pid = pid;
      a.start_time = start;
      a.child = false;
      a.state = "running";
      a.started_at = absl::FromUnixMillis(entry.value("started_at_ms", 0));
      spdlog::info("adopted {} (pid {})", a.spec.id, pid);
    } else {
      spdlog::info("{} is not running: starting it", a.spec.id);
      StartLocked(a, now);
    }
  }
  SaveLocked();
  return absl::OkStatus();
}

absl::Status Supervisor::Add(const AppSpec& spec) {
  absl::MutexLock lock(&mu_);
  if (apps_.contains(spec.id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("application ", spec.id, " exists"));
  }
  for (const auto& [id, app] : apps_) {
    for (int p : spec.ports) {
      if (std::find(app.spec.ports.begin(), app.spec.ports.end(), p) !=
          app.spec.ports.end()) {
        return absl::AlreadyExistsError(
            absl::StrCat("port ", p, " is used by ", id));
      }
    }
  }
  App app;
  app.spec = spec;
  // The first start is synchronous so that a program that cannot run is
  // reported to the caller, not retried.
  SpawnSpec s{spec.argv, spec.dir, spec.log};
  auto pid = Spawn(s);
  if (!pid.ok()) return pid.status();
  app.pid = *pid;
  app.start_time = ProcessStartTime(*pid).value_or(0);
  app.child = true;
  app.state = "running";
  app.started_at = absl::Now();
  spdlog::info("started {} (pid {}): {}", spec.id, *pid,
               absl::StrJoin(spec.argv, " "));
  apps_[spec.id] = std::move(app);
  SaveLocked();
  return absl::OkStatus();
}

absl::StatusOr<Supervisor::App> Supervisor::TakeApp(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = apps_.find(id);
  if (it == apps_.end()) {
    return absl::NotFoundError(absl::StrCat("no application ", id));
  }
  App app = std::move(it->second);
  apps_.erase(it);
  SaveLocked();
  return app;
}

absl::Status Supervisor::Detach(const std::string& id) {
  auto app = TakeApp(id);
  if (!app.ok()) return app.status();
  if (app->state == "running" && app->child) {
    absl::MutexLock lock(&mu_);
    detached_.push_back(app->pid);
  }
  spdlog::info("detached {} (pid {}): left running, no longer supervised", id,
               app->pid);
  return absl::OkStatus();
}

absl::Status Supervisor::Remove(const std::string& id) {
  auto taken = TakeApp(id);
  if (!taken.ok()) return taken.status();
  App& app = *taken;
  if (app.state == "running") {
    std::string how = Terminate(app.pid, app.start_time, app.child, SIGTERM,
                                options_.stop_grace_ms);
    spdlog::info("stopped {} (pid {}): {}", id, app.pid, how);
  }
  return absl::OkStatus();
}

void Supervisor::StopAll(bool forget) {
  std::vector<App> running;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, app] : apps_) {
      if (app.state == "running") running.push_back(app);
      app.state = "stopped";
      app.pid = 0;
    }
    if (forget) apps_.clear();
    // Kept entries have no pid: the next agent starts them again.
    SaveLocked();
  }
  for (const App& app : running) {
    std::string how = Terminate(app.pid, app.start_time, app.child, SIGTERM,
                                options_.stop_grace_ms);
    spdlog::info("stopped {} (pid {}): {}", app.spec.id, app.pid, how);
  }
}

void Supervisor::StartLocked(App& app, absl::Time now) {
  SpawnSpec s{app.spec.argv, app.spec.dir, app.spec.log};
  auto pid = Spawn(s);
  if (!pid.ok()) {
    spdlog::warn("cannot start {}: {}", app.spec.id, pid.status().ToString());
    DiedLocked(app, std::string(pid.status().message()), now);
    return;
  }
  app.pid = *pid;
  app.start_time = ProcessStartTime(*pid).value_or(0);
  app.child = true;
  app.state = "running";
  app.started_at = now;
  spdlog::info("started {} (pid {})", app.spec.id, *pid);
}

void Supervisor::DiedLocked(App& app, std::string how, absl::Time now) {
  app.last_exit = std::move(how);
  app.pid = 0;
  while (!app.recent.empty() &&
         now - app.recent.front() > options_.restart_window) {
    app.recent.pop_front();
  }
  const int n = static_cast<int>(app.recent.size());
  if (n >= options_.max_restarts) {
    app.state = "failed";
    spdlog::error("{} died ({}) after {} restarts within {}: giving up",
                  app.spec.id, app.last_exit, n,
                  absl::FormatDuration(options_.restart_window));
    return;
  }
  absl::Duration delay = options_.backoff_min * std::pow(2.0, n);
  delay = std::min(delay, options_.backoff_max);
  app.state = "backoff";
  app.next_start = now + delay;
  app.backoff = delay;
  spdlog::warn("{} died ({}): restarting in {}", app.spec.id, app.last_exit,
               absl::FormatDuration(delay));
}

void Supervisor::Tick() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  bool changed = false;
  for (auto& [id, app] : apps_) {
    if (app.state == "running") {
      if (app.child) {
        int status = 0;
        pid_t r = waitpid(app.pid, &status, WNOHANG);
        if (r == app.pid) {
          DiedLocked(app, DescribeWaitStatus(status), now);
          changed = true;
        } else if (r < 0) {
          DiedLocked(app, "gone", now);
          changed = true;
        }
      } else if (!SameProcessAlive(app.pid, app.start_time)) {
        DiedLocked(app, "gone (adopted: exit status unknown)", now);
        changed = true;
      }
    } else if (app.state == "backoff" && now >= app.next_start) {
      app.recent.push_back(now);
      ++app.restarts;
      StartLocked(app, now);
      changed = true;
    }
  }
  if (changed) SaveLocked();
  std::erase_if(detached_,
                [](pid_t pid) { return waitpid(pid, nullptr, WNOHANG) != 0; });
}

namespace {

// Secrets on a command line are not shown by GET /api/apps.
std::vector<std::string> Redacted(const std::vector<std::string>& argv) {
  std::vector<std::string> out = argv;
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    const std::string& a = out[i];
    if (a == "--token" || a == "--requirepass" || a == "--masterauth" ||
        a == "--backend-password" || a == "--password") {
      out[i + 1] = "***";
    }
  }
  return out;
}

}  // namespace

json Supervisor::Apps() const {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  json out = json::array();
  for (const auto& [id, app] : apps_) {
    const bool up = app.state == "running";
    int recent = 0;
    for (absl::Time t : app.recent) {
      recent += now - t <= options_.restart_window ? 1 : 0;
    }
    out.push_back(
        {{"id", id},
         {"kind", app.spec.kind},
         {"state", app.state},
         {"pid", up ? app.pid : 0},
         {"uptime_s", up ? absl::ToInt64Seconds(now - app.started_at) : 0},
         {"restarts", app.restarts},
         {"recent_restarts", recent},
         {"last_exit", app.last_exit},
         {"ports", app.spec.ports},
         {"adopted", up && !app.child},
         {"dir", app.spec.dir},
         {"log", app.spec.log},
         {"argv", Redacted(app.spec.argv)}});
    if (app.state == "backoff") {
      out.back()["backoff_ms"] = absl::ToInt64Milliseconds(app.backoff);
      out.back()["restart_in_ms"] =
          std::max<int64_t>(0, absl::ToInt64Milliseconds(app.next_start - now));
    }
  }
  return out;
}

pid_t Supervisor::PidForTest(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = apps_.find(id);
  return it != apps_.end() && it->second.state == "running" ? it->second.pid
                                                            : 0;
}

std::string Supervisor::StateForTest(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = apps_.find(id);
  return it == apps_.end() ? "" : it->second.state;
}

void Supervisor::SaveLocked() {
  json apps = json::array();
  for (const auto& [id, app] : apps_) {
    const bool up = app.state == "running";
    apps.push_back(
        {{"spec", AppSpecToJson(app.spec)},
         {"pid", up ? app.pid : 0},
         {"start_time", up ? app.start_time : 0},
         {"started_at_ms", up ? absl::ToUnixMillis(app.started_at) : 0},
         {"restarts", app.restarts}});
  }
  const std::string path = StatePath();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json{{"apps", apps}}.dump(2) << "\n";
    if (!out) {
      spdlog::error("cannot write {}", tmp);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) spdlog::error("cannot rename {}: {}", tmp, ec.message());
}

}  // namespace reborn::agent
