#include "admin/config_service.h"

#include <chrono>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "admin/access_token.h"
#include "net/sync_client.h"
#include "reborn/slot.h"

namespace reborn::admin {
namespace {

using json = nlohmann::json;

absl::Status CheckSlot(int slot) {
  if (slot < 0 || slot >= kSlotCount) {
    return absl::OutOfRangeError(
        absl::StrCat("slot ", slot, " out of range [0, ", kSlotCount - 1, "]"));
  }
  return absl::OkStatus();
}

// Whether a replica's "master_host:master_port" names `addr` (loopback
// spellings are the same host).
bool SameServer(const std::string& host, int port, const std::string& addr) {
  std::string h;
  int p = 0;
  if (!SplitAddr(addr, &h, &p).ok() || p != port) return false;
  return absl::EqualsIgnoreCase(h, host) ||
         (IsLoopbackHost(h) && IsLoopbackHost(host));
}

constexpr char kForceHint[] = "; pass force (CLI --force) to promote anyway";

}  // namespace

ReplicationInfo ParseReplicationInfo(absl::string_view info) {
  ReplicationInfo r;
  bool have_slave_offset = false;
  int64_t master_offset = 0;
  for (absl::string_view line : absl::StrSplit(info, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    absl::string_view key = line.substr(0, colon);
    absl::string_view value = line.substr(colon + 1);
    if (key == "role") {
      r.role = std::string(value);
    } else if (key == "master_host") {
      r.master_host = std::string(value);
    } else if (key == "master_port") {
      if (!absl::SimpleAtoi(value, &r.master_port)) r.master_port = 0;
    } else if (key == "master_link_status") {
      r.link_up = value == "up";
    } else if (key == "master_replid") {
      r.replid = std::string(value);
    } else if (key == "master_repl_offset") {
      if (!absl::SimpleAtoi(value, &master_offset)) master_offset = 0;
    } else if (key == "slave_repl_offset") {
      have_slave_offset = absl::SimpleAtoi(value, &r.offset);
    }
  }
  if (!have_slave_offset) r.offset = master_offset;
  return r;
}

json SlotJson(const reborn::SlotNode& s) {
  json j = {{"id", s.id},
            {"group_id", s.group_id},
            {"state", std::string(SlotStateName(s.state))}};
  if (s.state == SlotState::kPreMigrate || s.state == SlotState::kMigrate) {
    j["migrate"] = {{"from", s.migrate_from}, {"to", s.migrate_to}};
  }
  return j;
}

json GroupJson(const GroupNode& g) {
  json servers = json::array();
  for (const ServerInfo& s : g.servers) {
    servers.push_back({{"addr", s.addr},
                       {"role", std::string(ServerRoleName(s.role))},
                       {"state", std::string(ServerStateName(s.state))}});
  }
  return {{"id", g.id}, {"servers", servers}};
}

json ProxyJson(const ProxyInfo& p) {
  return {{"id", p.id},
          {"addr", p.addr},
          {"admin_addr", p.admin_addr},
          {"state", std::string(ProxyStateName(p.state))},
          {"pid", p.pid},
          {"start_at", p.start_at}};
}

absl::Status SplitAddr(const std::string& addr, std::string* host, int* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(addr.substr(colon + 1), port) || *port <= 0 ||
      *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad server address '", addr, "' (want host:port)"));
  }
  *host = addr.substr(0, colon);
  return absl::OkStatus();
}

ConfigService::ConfigService(Coordinator* coord, std::string_view product,
                             ConfigServiceOptions options)
    : coord_(coord), topology_(coord, product), options_(std::move(options)) {}

absl::StatusOr<json> ConfigService::Changed(
    const absl::StatusOr<ChangeReport>& r, json out) {
  if (!r.ok()) return r.status();
  out["action"] = r->action;
  out["acked"] = r->acked;
  out["fenced"] = r->fenced;
  return out;
}

absl::StatusOr<json> ConfigService::SlotInit(bool force) {
  json out = {{"ok", true}, {"slots", kSlotCount}, {"forced", force}};
  // Whether slots exist takes one Children call, not a read of every slot.
  auto existing = coord_->Children(topology_.SlotsPath());
  if (!existing.ok() && !absl::IsNotFound(existing.status())) {
    return existing.status();
  }
  if (!force || !existing.ok() || existing->empty()) {
    // First init, or refused as initialised: InitSlots checks it.
    if (absl::Status s = topology_.InitSlots(force); !s.ok()) return s;
    return out;
  }
  // Resetting live slots is a topology change like any other: under the
  // lock, never across a migration, acked by every proxy.
  auto report = topology_.Change(
      "slot_init", "force",
      [&]() -> absl::Status {
        auto slots = topology_.Slots();
        if (!slots.ok()) return slots.status();
        for (const auto& slot : *slots) {
          if (slot.state == SlotState::kPreMigrate ||
              slot.state == SlotState::kMigrate) {
            return absl::FailedPreconditionError(
                absl::StrCat("slot ", slot.id,
                             " is migrating; let the migration finish "
                             "(or cancel it) before resetting the slots"));
          }
        }
        return topology_.InitSlots(true);
      },
      options_.change);
  return Changed(report, std::move(out));
}

absl::StatusOr<json> ConfigService::SlotRangeSet(int from, int to, int gid) {
  if (absl::Status s = CheckSlot(from); !s.ok()) return s;
  if (absl::Status s = CheckSlot(to); !s.ok()) return s;
  if (from > to) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty slot range ", from, "..", to));
  }
  auto report = topology_.Change(
      "slot_range_set", absl::StrCat(from, "-", to, ":", gid),
      [&]() -> absl::Status {
        // Checked under the lock: the group may be removed meanwhile.
        if (auto g = topology_.GetGroup(gid); !g.ok()) return g.status();
        std::vector<reborn::SlotNode> slots;
        for (int i = from; i <= to; ++i) {
          auto s = topology_.GetSlot(i);
          if (!s.ok()) return s.status();
          if (s->state == SlotState::kPreMigrate ||
              s->state == SlotState::kMigrate) {
            return absl::FailedPreconditionError(
                absl::StrCat("slot ", i, " is migrating"));
          }
          s->group_id = gid;
          s->state = SlotState::kOnline;
          slots.push_back(*s);
        }
        return topology_.WriteSlots(slots);
      },
      options_.change);
  return Changed(report,
                 {{"ok", true}, {"from", from}, {"to", to}, {"group_id", gid}});
}

absl::StatusOr<json> ConfigService::SlotNode(int slot) {
  if (absl::Status s = CheckSlot(slot); !s.ok()) return s;
  auto s = topology_.GetSlot(slot);
  if (!s.ok()) return s.status();
  return SlotJson(*s);
}

absl::StatusOr<json> ConfigService::Slots() {
  auto slots = topology_.Slots();
  if (!slots.ok()) return slots.status();
  json out = json::array();
  for (const auto& s : *slots) out.push_back(SlotJson(s));
  return out;
}

absl::StatusOr<json> ConfigService::GroupAdd(int gid) {
  if (absl::Status s = topology_.CreateGroup(gid); !s.ok()) return s;
  return json{{"ok", true}, {"id", gid}};
}

absl::StatusOr<json> ConfigService::GroupRemove(int gid) {
  auto report = topology_.Change(
      "group_remove", absl::StrCat(gid),
      [&]() -> absl::Status {
        // Under the lock, so no slot can be given to the group between the
        // check and the delete.
        auto g = topology_.GetGroup(gid);
        if (!g.ok()) return g.status();
        auto slots = topology_.Slots();
        if (!slots.ok()) return slots.status();
        int owned = 0;
        for (const auto& s : *slots) {
          if (s.group_id == gid ||
              (s.state != SlotState::kOnline &&
               s.state != SlotState::kOffline &&
               (s.migrate_from == gid || s.migrate_to == gid))) {
            owned++;
          }
        }
        if (owned > 0) {
          return absl::FailedPreconditionError(
              absl::StrCat("group ", gid, " still owns ", owned,
                           " slot(s); move them first"));
        }
        return topology_.DeleteGroup(gid, g->version);
      },
      options_.change);
  return Changed(report, {{"ok", true}, {"id", gid}});
}

absl::StatusOr<json> ConfigService::GroupList() {
  auto groups = topology_.Groups();
  if (!groups.ok()) return groups.status();
  json out = json::array();
  for (const auto& g : *groups) out.push_back(GroupJson(g));
  return out;
}

absl::Status ConfigService::Ping(const std::string& addr) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitAddr(addr, &host, &port); !s.ok()) return s;
  auto timeout = std::chrono::milliseconds(
      absl::ToInt64Milliseconds(options_.server_timeout));
  auto client =
      net::SyncClient::Connect(host, port, timeout, options_.password);
  if (absl::IsPermissionDenied(client.status())) {  // up, wrong password
    return absl::FailedPreconditionError(absl::StrCat(
        "server ", addr, " refused the password: ", client.status().message()));
  }
  if (!client.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "server ", addr, " is unreachable: ", client.status().message()));
  }
  auto reply = client->Call({"PING"});
  if (!reply.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "server ", addr, " is unreachable: ", reply.status().message()));
  }
  if (reply->is_error()) {
    return absl::FailedPreconditionError(
        absl::StrCat("server ", addr, " refused PING: ", reply->str));
  }
  return absl::OkStatus();
}

absl::StatusOr<ReplicationInfo> ConfigService::Replication(
    const std::string& addr) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitAddr(addr, &host, &port); !s.ok()) return s;
  auto timeout = std::chrono::milliseconds(
      absl::ToInt64Milliseconds(options_.server_timeout));
  auto client =
      net::SyncClient::Connect(host, port, timeout, options_.password);
  if (!client.ok()) return client.status();
  auto reply = client->Call({"INFO", "replication"});
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) {
    return absl::FailedPreconditionError(
        absl::StrCat("INFO replication: ", reply->str));
  }
  ReplicationInfo info = ParseReplicationInfo(reply->str);
  if (info.role.empty()) {
    return absl::FailedPreconditionError(
        "INFO replication has no role (not a Redis-compatible store?)");
  }
  return info;
}

absl::StatusOr<json> ConfigService::CheckPromote(const GroupNode& group,
                                                 const std::string& addr) {
  const ServerInfo* master = group.master();
  if (master != nullptr && master->addr == addr) {
    return json{{"candidate", addr}, {"already_master", true}};
  }
  auto refuse = [&](const std::string& why) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing to promote ", addr, " in group ", group.id, ": ",
                     why, kForceHint));
  };
  auto candidate_of = [&]() -> absl::StatusOr<ReplicationInfo> {
    auto c = Replication(addr);
    if (!c.ok()) {
      return refuse(absl::StrCat("cannot read its replication state (",
                                 c.status().message(), ")"));
    }
    return c;
  };
  json out = {{"candidate", addr}};

  // The master answers: the candidate must hold everything it has. The
  // master is read first, so a candidate at or past that offset holds every
  // write acknowledged before the check.
  if (master != nullptr) {
    out["master"] = master->addr;
    constexpr int kTries = 10;  // ~1 s for a replica to catch up
    for (int attempt = 1;; ++attempt) {
      auto m = Replication(master->addr);
      if (absl::IsUnavailable(m.status()) ||
          absl::IsDeadlineExceeded(m.status())) {
        out["master_error"] = std::string(m.status().message());
        break;  // down or hung: the failover case below
      }
      if (!m.ok()) {  // up but refusing (a password?): not a failover
        return refuse(
            absl::StrCat("cannot read the replication state of master ",
                         master->addr, " (", m.status().message(), ")"));
      }
      auto c = candidate_of();
      if (!c.ok()) return c.status();
      if (c->role != "slave") {
        return refuse(absl::StrCat(
            "it is not a replica (role ", c->role,
            "): it holds a data set of its own, and promoting it would "
            "replace the data of master ",
            master->addr, "; make it a replica of ", master->addr,
            " and let it sync first"));
      }
      if (m->replid.empty() || c->replid != m->replid) {
        return refuse(absl::StrCat(
            "it has not synced with master ", master->addr, " (it replicates ",
            c->master_host, ":", c->master_port, ", link ",
            c->link_up ? "up" : "down", ", replication id ", c->replid, " vs ",
            m->replid, ")"));
      }
      out["master_offset"] = m->offset;
      out["candidate_offset"] = c->offset;
      if (c->offset >= m->offset) return out;
      if (attempt == kTries) {
        return refuse(absl::StrCat(
            "it is behind master ", master->addr, " by ", m->offset - c->offset,
            " bytes (offset ", c->offset, " < ", m->offset,
            "); let it catch up (pause writes) and retry"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // No master, or it does not answer (failover): the candidate must be a
  // replica of that master, and no other replica of the same history ahead.
  auto c = candidate_of();
  if (!c.ok()) return c.status();
  if (master != nullptr &&
      (c->role != "slave" ||
       !SameServer(c->master_host, c->master_port, master->addr))) {
    return refuse(absl::StrCat(
        "it is not a replica of the group's master ", master->addr,
        " (unreachable: ", out.value("master_error", ""), "); role ", c->role,
        c->role == "slave" ? absl::StrCat(", replicating ", c->master_host, ":",
                                          c->master_port)
                           : ""));
  }
  out["candidate_offset"] = c->offset;
  json others = json::object();
  for (const ServerInfo& s : group.servers) {
    if (s.addr == addr || (master != nullptr && s.addr == master->addr)) {
      continue;
    }
    auto r = Replication(s.addr);
    if (!r.ok()) {
      others[s.addr] = std::string(r.status().message());
      continue;
    }
    others[s.addr] = r->offset;
    if (r->replid == c->replid && r->offset > c->offset) {
      return refuse(absl::StrCat("replica ", s.addr, " is ahead of it (offset ",
                                 r->offset, " > ", c->offset, "); promote ",
                                 s.addr, " instead"));
    }
  }
  out["replicas"] = others;
  return out;
}

absl::StatusOr<json> ConfigService::GroupAddServer(int gid,
                                                   const std::string& addr,
                                                   const std::string& role) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitAddr(addr, &host, &port); !s.ok()) return s;
  if (!role.empty() && role != "master" && role != "slave") {
    return absl::InvalidArgumentError(
        absl::StrCat("bad role '", role, "' (want master or slave)"));
  }
  if (auto g = topology_.GetGroup(gid); !g.ok()) return g.status();
  if (absl::Status s = Ping(addr); !s.ok()) return s;
  std::string chosen;
  auto report = topology_.Change(
      "group_add_server", absl::StrCat(gid, ":", addr),
      [&]() -> absl::Status {
        auto groups = topology_.Groups();
        if (!groups.ok()) return groups.status();
        GroupNode* target = nullptr;
        for (GroupNode& g : *groups) {
          for (const ServerInfo& s : g.servers) {
            if (s.addr == addr) {
              return absl::AlreadyExistsError(
                  absl::StrCat("server ", addr, " is already in group ", g.id));
            }
          }
          if (g.id == gid) target = &g;
        }
        if (target == nullptr) {
          return absl::NotFoundError(
              absl::StrCat("group ", gid, " does not exist"));
        }
        const ServerInfo* master = target->master();
        chosen = role.empty() ? (master ? "slave" : "master") : role;
        if (chosen == "master" && master != nullptr) {
          return absl::FailedPreconditionError(absl::StrCat(
              "group ", gid, " already has a master (", master->addr, ")"));
        }
        target->servers.push_back(
            {addr,
             chosen == "master" ? ServerRole::kMaster : ServerRole::kSlave,
             ServerState::kOnline});
        return topology_.WriteGroup(*target);
      },
      options_.change);
  return Changed(
      report,
      {{"ok", true}, {"group_id", gid}, {"addr", addr}, {"role", chosen}});
}

absl::StatusOr<json> ConfigService::GroupRemoveServer(int gid,
                                                      const std::string& addr) {
  auto report = topology_.Change(
      "group_remove_server", absl::StrCat(gid, ":", addr),
      [&]() -> absl::Status {
        auto g = topology_.GetGroup(gid);
        if (!g.ok()) return g.status();
        auto it =
            std::find_if(g->servers.begin(), g->servers.end(),
                         [&](const ServerInfo& s) { return s.addr == addr; });
        if (it == g->servers.end()) {
          return absl::NotFoundError(
              absl::StrCat("server ", addr, " is not in group ", gid));
        }
        if (it->role == ServerRole::kMaster && g->servers.size() > 1) {
          return absl::FailedPreconditionError(absl::StrCat(
              "server ", addr, " is the master of group ", gid,
              " and the group has other servers; promote one first"));
        }
        g->servers.erase(it);
        return topology_.WriteGroup(*g);
      },
      options_.change);
  return Changed(report, {{"ok", true}, {"group_id", gid}, {"addr", addr}});
}

absl::StatusOr<json> ConfigService::ServerPromote(int gid,
                                                  const std::string& addr,
                                                  bool force) {
  json warnings = json::array();
  json check;
  auto report = topology_.Change(
      "server_promote", absl::StrCat(gid, ":", addr),
      [&]() -> absl::Status {
        auto g = topology_.GetGroup(gid);
        if (!g.ok()) return g.status();
        bool found = false;
        for (const ServerInfo& s : g->servers) found |= s.addr == addr;
        if (!found) {
          return absl::NotFoundError(
              absl::StrCat("server ", addr, " is not in group ", gid));
        }
        // Checked under the lock, on the group that is then written.
        if (!force) {
          auto checked = CheckPromote(*g, addr);
          if (!checked.ok()) return checked.status();
          check = *std::move(checked);
        }
        std::string host;
        int port = 0;
        if (absl::Status s = SplitAddr(addr, &host, &port); !s.ok()) return s;
        auto timeout = std::chrono::milliseconds(
            absl::ToInt64Milliseconds(options_.server_timeout));
        // Telling the stores is best effort: a store that does not answer
        // is reported; the topology is the source of truth.
        auto send = [&](const std::string& target,
                        const std::vector<std::string>& cmd) {
          std::string h;
          int p = 0;
          if (!SplitAddr(target, &h, &p).ok()) return;
          auto c = net::SyncClient::Connect(h, p, timeout, options_.password);
          absl::StatusOr<Reply> r =
              c.ok() ? c->Call(cmd) : absl::StatusOr<Reply>(c.status());
          if (!r.ok()) {
            warnings.push_back(
                absl::StrCat(target, ": ", r.status().message()));
          } else if (r->is_error()) {
            warnings.push_back(absl::StrCat(target, ": ", r->str));
          }
        };
        for (ServerInfo& s : g->servers) {
          s.role = s.addr == addr ? ServerRole::kMaster : ServerRole::kSlave;
        }
        // One atomic write of the whole group (compare-and-set), and only
        // then the stores: a lost race must not have re-pointed them.
        auto r = coord_->Multi({CoordOp::Set(topology_.GroupPath(gid),
                                             EncodeGroup(*g), g->version)});
        if (!r.ok()) return r.status();
        send(addr, {"REPLICAOF", "NO", "ONE"});
        for (const ServerInfo& s : g->servers) {
          if (s.addr != addr) {
            send(s.addr, {"REPLICAOF", host, std::to_string(port)});
          }
        }
        return absl::OkStatus();
      },
      options_.change);
  return Changed(report, {{"ok", true},
                          {"group_id", gid},
                          {"master", addr},
                          {"forced", force},
                          {"check", check},
                          {"warnings", warnings}});
}

absl::StatusOr<json> ConfigService::ProxyList() {
  auto proxies = topology_.Proxies();
  if (!proxies.ok()) return proxies.status();
  json out = json::array();
  for (const auto& p : *proxies) out.push_back(ProxyJson(p));
  return out;
}

absl::StatusOr<json> ConfigService::AgentList() {
  const std::string dir =
      absl::StrCat("/reborn/", topology_.product(), "/agents");
  auto names = coord_->Children(dir);
  if (absl::IsNotFound(names.status())) return json::array();
  if (!names.ok()) return names.status();
  // Election order is the 10-digit sequence number that ends each name.
  auto seq = [](const std::string& name) {
    return name.size() >= 10 ? name.substr(name.size() - 10) : name;
  };
  std::sort(names->begin(), names->end(),
            [&](const std::string& a, const std::string& b) {
              return std::make_pair(seq(a), a) < std::make_pair(seq(b), b);
            });
  json out = json::array();
  for (const std::string& name : *names) {
    auto node = coord_->Get(absl::StrCat(dir, "/", name));
    if (absl::IsNotFound(node.status())) continue;  // left meanwhile
    if (!node.ok()) return node.status();
    json view = json::parse(node->data, nullptr, /*allow_exceptions=*/false);
    if (!view.is_object()) view = json::object();
    out.push_back({{"name", name},
                   {"addr", view.value("addr", "")},
                   {"pid", view.value("pid", int64_t{0})},
                   {"leader", out.empty()},
                   {"down", view.value("down", json::array())}});
  }
  return out;
}

absl::StatusOr<json> ConfigService::ProxyOffline(const std::string& id) {
  // A topology change like the others: under the lock, and announced, so
  // the other proxies ack it while the marked one stops serving.
  auto report = topology_.Change(
      "proxy_offline", id,
      [&] { return topology_.SetProxyState(id, ProxyState::kMarkOffline); },
      options_.change);
  return Changed(report, {{"ok", true}, {"id", id}, {"state", "mark_offline"}});
}

absl::StatusOr<json> ConfigService::Actions() {
  auto actions = topology_.Actions();
  if (!actions.ok()) return actions.status();
  json out = json::array();
  for (const auto& a : *actions) {
    out.push_back({{"seq", a.seq},
                   {"type", a.type},
                   {"target", a.target},
                   {"ts", a.ts},
                   {"acks", a.acks}});
  }
  return out;
}

absl::StatusOr<json> ConfigService::Overview() {
  auto slots = topology_.Slots();
  if (!slots.ok()) return slots.status();
  auto groups = GroupList();
  if (!groups.ok()) return groups.status();
  auto proxies = ProxyList();
  if (!proxies.ok()) return proxies.status();
  std::map<std::string, int> by_state;
  std::map<int, int> by_group;
  for (const auto& s : *slots) {
    by_state[std::string(SlotStateName(s.state))]++;
    if (s.group_id != 0) by_group[s.group_id]++;
  }
  json per_group = json::object();
  for (const auto& [g, n] : by_group) per_group[std::to_string(g)] = n;
  return json{{"product", topology_.product()},
              {"coordinator", coord_->uri()},
              {"slots",
               {{"total", slots->size()},
                {"by_state", by_state},
                {"by_group", per_group}}},
              {"groups", *groups},
              {"proxies", *proxies}};
}

}  // namespace reborn::admin
