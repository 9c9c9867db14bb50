#include "routing/backend_health.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/health.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace reborn {

BackendHealthReporter::BackendHealthReporter(
    Coordinator* coord, std::function<std::vector<std::string>()> masters,
    BackendHealthOptions options)
    : coord_(coord),
      masters_(std::move(masters)),
      options_(std::move(options)) {
  thread_ = std::thread([this] { Loop(); });
}

BackendHealthReporter::~BackendHealthReporter() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void BackendHealthReporter::Loop() {
  // While a master fails, re-check every 250 ms (as the agents do).
  const absl::Duration fast =
      std::min(options_.interval, absl::Milliseconds(250));
  absl::Duration wait = options_.interval;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), wait)) return;
    }
    wait = RunOnce(absl::Now()) ? fast : options_.interval;
  }
}

bool BackendHealthReporter::RunOnce(absl::Time now) {
  std::vector<std::string> addrs = masters_();
  std::sort(addrs.begin(), addrs.end());
  addrs.erase(std::unique(addrs.begin(), addrs.end()), addrs.end());
  auto health = agent::ProbeAll(addrs, options_.timeout, options_.password);
  now = std::max(now, absl::Now());  // the probes took time
  std::map<std::string, Track> tracks;
  std::vector<std::string> down;
  bool failing = false;
  for (const std::string& a : addrs) {
    Track t = tracks_.contains(a) ? tracks_[a] : Track{};
    if (health[a].reachable) {
      t = Track{};
      t.last_ok = now;
    } else {
      failing = true;
      if (t.failures++ == 0) {
        t.silent_since = t.last_ok == absl::InfinitePast() ? now : t.last_ok;
      }
      if (t.failures >= 2 && now - t.silent_since >= options_.down_after) {
        down.push_back(a);
      }
    }
    tracks[a] = t;
  }
  tracks_ = std::move(tracks);
  Publish(down);
  return failing;
}

void BackendHealthReporter::Publish(const std::vector<std::string>& down) {
  if (down.empty() && published_.empty()) return;
  const std::string data =
      nlohmann::json{{"down", down}, {"ts", absl::ToUnixMillis(absl::Now())}}
          .dump();
  auto set = coord_->Set(options_.path, data, Coordinator::kAnyVersion);
  if (absl::IsNotFound(set.status())) {
    // First report, or our session (and its ephemeral) was lost.
    const size_t slash = options_.path.rfind('/');
    absl::Status s = coord_->CreateRecursive(options_.path.substr(0, slash));
    if (s.ok()) {
      s = coord_->Create(options_.path, data, CreateMode::kEphemeral).status();
    }
    set = s.ok() ? absl::StatusOr<int64_t>(0) : absl::StatusOr<int64_t>(s);
  }
  if (!set.ok()) {
    spdlog::warn("cannot publish the backends' health: {}",
                 set.status().ToString());
    return;
  }
  if (down != published_) {
    spdlog::warn("backends down in this proxy's view: [{}]",
                 absl::StrJoin(down, ", "));
  }
  published_ = down;
}

}  // namespace reborn
