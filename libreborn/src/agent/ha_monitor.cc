#include "agent/ha_monitor.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "agent/replica_choice.h"
#include "spdlog/spdlog.h"

namespace reborn::agent {

using json = nlohmann::json;

absl::StatusOr<ChangeReport> FencedGroupChange(
    Topology* topology, const Election* election, std::string_view type,
    std::string_view target, int gid,
    const std::function<absl::Status(GroupNode&)>& mutate,
    const ChangeOptions& options) {
  return topology->ChangeOps(
      type, target,
      [&]() -> absl::StatusOr<std::vector<CoordOp>> {
        const std::string node = election->node_path();
        if (!election->IsLeader() || node.empty()) {
          return absl::AbortedError("not the HA leader");
        }
        auto g = topology->GetGroup(gid);
        if (!g.ok()) return g.status();
        if (absl::Status s = mutate(*g); !s.ok()) return s;
        return std::vector<CoordOp>{
            CoordOp::Check(node, Coordinator::kAnyVersion),
            CoordOp::Set(topology->GroupPath(gid), EncodeGroup(*g),
                         g->version)};
      },
      options);
}

HaMonitor::HaMonitor(Topology* topology, Election* election, HaOptions options)
    : topology_(topology), election_(election), options_(std::move(options)) {
  status_ = json{{"leader", false}, {"groups", json::array()}};
}

bool HaMonitor::IsDown(const std::string& addr, absl::Time now) const {
  auto it = tracks_.find(addr);
  return it != tracks_.end() && !it->second.health.reachable &&
         it->second.failures >= 2 &&
         now - it->second.silent_since >= options_.down_after;
}

void HaMonitor::PublishView(const std::vector<std::string>& down) {
  // While something is down the view is re-published every round: its
  // version changing is how the leader tells a fresh opinion from a stale
  // one (no clocks compared across machines).
  if (down.empty() && published_.empty()) return;
  json data{{"addr", options_.api_addr},
            {"pid", static_cast<int64_t>(getpid())},
            {"down", down},
            {"ts", absl::ToUnixMillis(absl::Now())}};
  absl::Status s = election_->Publish(data.dump());
  if (!s.ok()) {
    spdlog::warn("cannot publish our view: {}", s.ToString());
    return;
  }
  published_ = down;
}

void HaMonitor::MergeViews(const std::vector<Published>& published,
                           absl::Time now,
                           std::map<std::string, PeerView>* views) {
  std::map<std::string, PeerView> next;
  for (const Published& p : published) {
    PeerView v;
    auto old = views->find(p.name);
    if (old != views->end() && old->second.version == p.version) {
      v = old->second;
    } else {
      v.version = p.version;
      v.changed_at = now;
      json j = json::parse(p.data, nullptr, false);
      if (j.is_object() && j.contains("down") && j["down"].is_array()) {
        for (const json& a : j["down"]) {
          if (a.is_string()) v.down.insert(a.get<std::string>());
        }
      }
    }
    next[p.name] = std::move(v);
  }
  *views = std::move(next);
}

void HaMonitor::ReadPeers(absl::Time now) {
  auto peers = election_->Peers();
  if (!peers.ok()) return;
  std::vector<Published> published;
  for (const Election::Peer& p : *peers) {
    published.push_back({p.name, p.data, p.version});
  }
  MergeViews(published, now, &peers_);
}

void HaMonitor::ReadProxyViews(absl::Time now) {
  Coordinator* coord = topology_->coordinator();
  const std::string dir =
      absl::StrCat("/reborn/", topology_->product(), "/proxy_views");
  auto names = coord->Children(dir);
  if (!names.ok()) {
    if (absl::IsNotFound(names.status())) proxy_views_.clear();
    return;
  }
  std::vector<Published> published;
  for (const std::string& name : *names) {
    auto node = coord->Get(absl::StrCat(dir, "/", name));
    if (!node.ok()) continue;  // gone meanwhile
    published.push_back({name, node->data, node->version});
  }
  MergeViews(published, now, &proxy_views_);
}

int HaMonitor::Votes(const std::string& master, absl::Time now, int* proxies) {
  // An opinion is fresh while its publisher keeps re-publishing it.
  const absl::Duration fresh =
      3 * options_.check_interval + 2 * options_.store_timeout;
  int votes = 1;  // ours
  for (const auto& [name, v] : peers_) {
    if (now - v.changed_at <= fresh && v.down.contains(master)) ++votes;
  }
  *proxies = 0;
  for (const auto& [name, v] : proxy_views_) {
    if (now - v.changed_at <= fresh && v.down.contains(master)) ++*proxies;
  }
  if (options_.proxy_quorum > 0 && *proxies >= options_.proxy_quorum) ++votes;
  return votes;
}

void HaMonitor::Note(int gid, std::string state, std::string message) {
  auto& n = notes_[gid];
  if (n.first != state || n.second != message) {
    if (state == "ok") {
      if (!n.first.empty() && n.first != "ok") {
        spdlog::info("group {}: ok", gid);
      }
    } else {
      spdlog::warn("group {}: {}: {}", gid, state, message);
    }
  }
  n = {std::move(state), std::move(message)};
}

bool HaMonitor::RunOnce() {
  election_->Refresh();
  auto groups = topology_->Groups();
  if (!groups.ok()) {
    absl::MutexLock lock(&mu_);
    status_["error"] = std::string(groups.status().message());
    status_["leader"] = election_->IsLeader();
    return false;
  }
  std::vector<std::string> addrs;
  for (const GroupNode& g : *groups) {
    for (const ServerInfo& s : g.servers) addrs.push_back(s.addr);
  }
  std::sort(addrs.begin(), addrs.end());
  addrs.erase(std::unique(addrs.begin(), addrs.end()), addrs.end());
  auto health = ProbeAll(addrs, options_.store_timeout, options_.password);
  const absl::Time now = absl::Now();

  std::map<std::string, Track> tracks;
  for (const std::string& a : addrs) {
    Track t = tracks_.contains(a) ? tracks_[a] : Track{};
    t.health = health[a];
    if (t.health.reachable) {
      t.failing_since = absl::InfiniteFuture();
      t.silent_since = absl::InfiniteFuture();
      t.last_ok = now;
      t.failures = 0;
      if (!t.health.is_master && t.health.link_up && !t.health.syncing) {
        t.last_in_sync = now;
        t.in_sync_with = t.health.master;
      }
    } else {
      ++t.failures;
      if (t.failing_since == absl::InfiniteFuture()) {
        t.failing_since = now;
        t.silent_since = t.last_ok == absl::InfinitePast() ? now : t.last_ok;
      }
    }
    tracks[a] = std::move(t);
  }
  tracks_ = std::move(tracks);

  std::vector<std::string> down;
  for (const GroupNode& g : *groups) {
    const ServerInfo* m = g.master();
    if (m != nullptr && IsDown(m->addr, now)) down.push_back(m->addr);
  }
  PublishView(down);
  bool pending = false;
  for (const GroupNode& g : *groups) {
    const ServerInfo* m = g.master();
    pending |= m != nullptr && !tracks_[m->addr].health.reachable;
  }

  const bool leader = election_->IsLeader();
  if (leader) {
    ReadPeers(now);
    if (options_.proxy_quorum > 0) ReadProxyViews(now);
  }
  for (const GroupNode& g : *groups) {
    const ServerInfo* m = g.master();
    if (m == nullptr) {
      Note(g.id, "no_master", "the group has no master");
      continue;
    }
    const Track& mt = tracks_[m->addr];
    if (mt.health.reachable) {
      Note(g.id, "ok", "");
      if (leader) Reconcile(g, now);
      continue;
    }
    if (!IsDown(m->addr, now)) {
      Note(g.id, "suspect",
           absl::StrCat("master ", m->addr, " failing for ",
                        absl::ToInt64Milliseconds(now - mt.failing_since),
                        " ms: ", mt.health.error));
      continue;
    }
    if (!leader) {
      Note(g.id, "down", absl::StrCat("master ", m->addr, " down"));
      continue;
    }
    const bool forced = Forced(g.id, now);
    int proxies = 0;
    const int votes = Votes(m->addr, now, &proxies);
    if (votes < options_.quorum && !forced) {
      Note(g.id, "down",
           absl::StrCat(
               "master ", m->addr, " down; ", votes, " of ", options_.quorum,
               " agents agree",
               options_.proxy_quorum > 0
                   ? absl::StrCat(" (", proxies, " of ", options_.proxy_quorum,
                                  " proxies count as one)")
                   : ""));
      continue;
    }
    if (absl::Status s = Failover(g, m->addr, now, forced); !s.ok()) {
      Note(g.id, "down",
           absl::StrCat("master ", m->addr, " down; failover: ", s.message()));
    }
  }

  json groups_json = json::array();
  for (const GroupNode& g : *groups) {
    json servers = json::array();
    for (const ServerInfo& s : g.servers) {
      const Track& t = tracks_[s.addr];
      json j{{"addr", s.addr},
             {"role", std::string(ServerRoleName(s.role))},
             {"state", std::string(ServerStateName(s.state))},
             {"reachable", t.health.reachable}};
      if (t.health.reachable) {
        j["seen_role"] = t.health.is_master ? "master" : "slave";
        j["offset"] = t.health.offset;
        if (!t.health.is_master) {
          j["following"] = t.health.master;
          j["link_up"] = t.health.link_up;
        }
      } else {
        j["error"] = t.health.error;
        j["failing_ms"] = absl::ToInt64Milliseconds(now - t.failing_since);
      }
      servers.push_back(std::move(j));
    }
    const auto& n = notes_[g.id];
    groups_json.push_back({{"id", g.id},
                           {"state", n.first},
                           {"message", n.second},
                           {"servers", std::move(servers)}});
  }
  absl::MutexLock lock(&mu_);
  status_ = json{{"leader", election_->IsLeader()},
                 {"node", election_->node_path()},
                 {"down_view", down},
                 {"groups", std::move(groups_json)}};
  return pending;
}

absl::Status HaMonitor::Force(int gid, absl::Duration ttl) {
  if (!election_->IsLeader()) {
    return absl::FailedPreconditionError(
        "not the HA leader: ask the agent with the lowest node under "
        "/reborn/<product>/agents");
  }
  absl::MutexLock lock(&mu_);
  forced_[gid] = absl::Now() + ttl;
  spdlog::warn("group {}: forced failover allowed for {}", gid,
               absl::FormatDuration(ttl));
  return absl::OkStatus();
}

bool HaMonitor::Forced(int gid, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = forced_.find(gid);
  if (it == forced_.end()) return false;
  if (it->second < now) {
    forced_.erase(it);
    return false;
  }
  return true;
}

absl::Status HaMonitor::Failover(const GroupNode& g, const std::string& dead,
                                 absl::Time now, bool forced) {
  std::vector<ReplicaCandidate> candidates;
  for (const ServerInfo& s : g.servers) {
    if (s.addr == dead || s.role != ServerRole::kSlave) continue;
    const Track& t = tracks_[s.addr];
    ReplicaCandidate c;
    c.addr = s.addr;
    c.online = s.state == ServerState::kOnline;
    c.health = t.health;
    c.last_in_sync =
        t.in_sync_with == dead ? t.last_in_sync : absl::InfinitePast();
    candidates.push_back(std::move(c));
  }
  const absl::Time failing_since = tracks_[dead].silent_since;
  // Forced: any reachable online replica, in sync or not.
  const absl::Duration grace =
      forced ? absl::InfiniteDuration()
             : 2 * options_.check_interval + options_.store_timeout;
  auto chosen = ChooseReplica(candidates, failing_since, grace);
  if (!chosen.ok()) return chosen.status();
  if (!election_->IsLeader()) return absl::AbortedError("not the HA leader");
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(*chosen, &host, &port); !s.ok()) return s;
  spdlog::warn("group {}: master {} silent for {} ms; promoting {}", g.id, dead,
               absl::ToInt64Milliseconds(now - failing_since), *chosen);
  // Promote first: once the proxies switch, the new master must take writes.
  auto promoted = StoreCommand(*chosen, {"REPLICAOF", "NO", "ONE"},
                               options_.store_timeout, options_.password);
  if (!promoted.ok()) return promoted.status();
  const std::string target = *chosen;
  if (options_.test_pause_after_promote > absl::ZeroDuration()) {
    spdlog::warn(
        "group {}: {} promoted; pausing {} before the topology "
        "change (--test-pause-after-promote-ms)",
        g.id, target, absl::FormatDuration(options_.test_pause_after_promote));
    absl::SleepFor(options_.test_pause_after_promote);
  }
  auto report = FencedGroupChange(
      topology_, election_, "server_failover", absl::StrCat(g.id, ":", target),
      g.id,
      [&](GroupNode& group) -> absl::Status {
        const ServerInfo* m = group.master();
        if (m == nullptr || m->addr != dead) {
          return absl::AbortedError("the group changed meanwhile");
        }
        bool found = false;
        for (ServerInfo& s : group.servers) {
          if (s.addr == target) {
            s.role = ServerRole::kMaster;
            s.state = ServerState::kOnline;
            found = true;
          } else if (s.addr == dead) {
            s.role = ServerRole::kSlave;
            s.state = ServerState::kOffline;
          }
        }
        return found ? absl::OkStatus()
                     : absl::AbortedError("the replica left the group");
      },
      options_.change);
  if (!report.ok()) return report.status();
  const absl::Time done = absl::Now();
  // The others follow the new master; Reconcile retries those that fail.
  for (const ServerInfo& s : g.servers) {
    if (s.addr == target || s.addr == dead) continue;
    if (!tracks_[s.addr].health.reachable) continue;
    auto r = StoreCommand(s.addr, {"REPLICAOF", host, std::to_string(port)},
                          options_.store_timeout, options_.password);
    if (!r.ok()) {
      spdlog::warn("group {}: repointing {}: {}", g.id, s.addr,
                   r.status().ToString());
    }
  }
  const int64_t down_ms = absl::ToInt64Milliseconds(done - failing_since);
  spdlog::warn(
      "group {}: failed over from {} to {} (offset {}), {} ms after its last "
      "good check; {} proxies acked, {} fenced",
      g.id, dead, target, tracks_[target].health.offset, down_ms,
      report->acked.size(), report->fenced.size());
  Note(g.id, "ok", "");
  absl::MutexLock lock(&mu_);
  forced_.erase(g.id);
  failovers_.push_back({{"group", g.id},
                        {"forced", forced},
                        {"from", dead},
                        {"to", target},
                        {"offset", tracks_[target].health.offset},
                        {"down_ms", down_ms},
                        {"at_ms", absl::ToUnixMillis(done)}});
  if (failovers_.size() > 20) failovers_.erase(failovers_.begin());
  return absl::OkStatus();
}

absl::Status HaMonitor::SetServerState(int gid, const std::string& addr,
                                       ServerState state) {
  auto report = FencedGroupChange(
      topology_, election_,
      absl::StrCat("server_", std::string(ServerStateName(state))),
      absl::StrCat(gid, ":", addr), gid,
      [&](GroupNode& group) -> absl::Status {
        for (ServerInfo& s : group.servers) {
          if (s.addr != addr) continue;
          if (s.role != ServerRole::kSlave) {
            return absl::AbortedError("it is the master now");
          }
          s.state = state;
          return absl::OkStatus();
        }
        return absl::NotFoundError("it left the group");
      },
      options_.change);
  if (report.ok()) {
    spdlog::info("group {}: replica {} marked {}", gid, addr,
                 ServerStateName(state));
  } else {
    spdlog::warn("group {}: marking {} {}: {}", gid, addr,
                 ServerStateName(state), report.status().ToString());
  }
  return report.status();
}

void HaMonitor::Reconcile(const GroupNode& g, absl::Time now) {
  const ServerInfo* m = g.master();
  const Track& mt = tracks_[m->addr];
  if (!mt.health.is_master) {
    // The topology's master is itself a replica: perhaps on purpose (a
    // group syncing from an outside Redis), so it is reported, not changed.
    Note(g.id, "master_is_replica",
         absl::StrCat("master ", m->addr, " replicates from ", mt.health.master,
                      "; replicas left alone"));
    return;
  }
  std::string host;
  int port = 0;
  if (!SplitHostPort(m->addr, &host, &port).ok()) return;
  for (const ServerInfo& s : g.servers) {
    if (s.addr == m->addr) continue;
    const Track& t = tracks_[s.addr];
    if (!t.health.reachable) {
      if (s.state == ServerState::kOnline && IsDown(s.addr, now)) {
        (void)SetServerState(g.id, s.addr, ServerState::kOffline);
      }
      continue;
    }
    const bool follows = !t.health.is_master && t.health.master == m->addr;
    if (!follows) {
      // Never a second writable master: it becomes a replica before it may
      // be marked online (and the proxies never route to an offline one).
      spdlog::warn("group {}: {} {}; making it a replica of {}", g.id, s.addr,
                   t.health.is_master
                       ? std::string("is a master")
                       : absl::StrCat("follows ", t.health.master),
                   m->addr);
      auto r = StoreCommand(s.addr, {"REPLICAOF", host, std::to_string(port)},
                            options_.store_timeout, options_.password);
      if (!r.ok()) spdlog::warn("REPLICAOF: {}", r.status().ToString());
      continue;
    }
    if (s.state != ServerState::kOnline && t.health.link_up &&
        !t.health.syncing &&
        mt.health.offset - t.health.offset <= options_.catch_up_bytes) {
      (void)SetServerState(g.id, s.addr, ServerState::kOnline);
    }
  }
}

json HaMonitor::Status() const {
  // Leadership is read live: the snapshot is from the last finished round,
  // and a failover in progress can hold the next round for seconds.
  const bool leader = election_->IsLeader();
  absl::MutexLock lock(&mu_);
  json out = status_;
  out["leader"] = leader;
  out["failovers"] = failovers_;
  return out;
}

}  // namespace reborn::agent
