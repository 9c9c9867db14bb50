// JSON encoding of the topology nodes (docs/coordinator.md).

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "reborn/topology.h"

namespace reborn {
namespace {

using json = nlohmann::json;

template <typename T, typename Fn>
absl::StatusOr<T> Decode(std::string_view text, const char* what, Fn fn) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) {
      return absl::DataLossError(absl::StrCat(what, ": not a JSON object"));
    }
    return fn(j);
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("bad ", what, " JSON: ", e.what()));
  }
}

}  // namespace

std::string_view SlotStateName(SlotState s) {
  switch (s) {
    case SlotState::kOffline:
      return "offline";
    case SlotState::kOnline:
      return "online";
    case SlotState::kPreMigrate:
      return "pre_migrate";
    case SlotState::kMigrate:
      return "migrate";
  }
  return "offline";
}

std::string_view ServerRoleName(ServerRole r) {
  return r == ServerRole::kMaster ? "master" : "slave";
}

std::string_view ProxyStateName(ProxyState s) {
  switch (s) {
    case ProxyState::kOnline:
      return "online";
    case ProxyState::kOffline:
      return "offline";
    case ProxyState::kMarkOffline:
      return "mark_offline";
  }
  return "offline";
}

std::string_view ServerStateName(ServerState s) {
  return s == ServerState::kOnline ? "online" : "offline";
}

std::string EncodeSlot(const SlotNode& s) {
  json j = {{"id", s.id},
            {"group_id", s.group_id},
            {"state", std::string(SlotStateName(s.state))}};
  if (s.state == SlotState::kPreMigrate || s.state == SlotState::kMigrate) {
    j["migrate"] = {{"from", s.migrate_from}, {"to", s.migrate_to}};
  }
  return j.dump();
}

absl::StatusOr<SlotNode> DecodeSlot(std::string_view text) {
  return Decode<SlotNode>(
      text, "slot", [](const json& j) -> absl::StatusOr<SlotNode> {
        SlotNode s;
        s.id = j.value("id", 0);
        s.group_id = j.value("group_id", 0);
        std::string state = j.value("state", "offline");
        if (state == "online") {
          s.state = SlotState::kOnline;
        } else if (state == "pre_migrate") {
          s.state = SlotState::kPreMigrate;
        } else if (state == "migrate") {
          s.state = SlotState::kMigrate;
        } else if (state == "offline") {
          s.state = SlotState::kOffline;
        } else {
          return absl::DataLossError(
              absl::StrCat("bad slot state '", state, "'"));
        }
        if (j.contains("migrate") && j["migrate"].is_object()) {
          s.migrate_from = j["migrate"].value("from", 0);
          s.migrate_to = j["migrate"].value("to", 0);
        }
        return s;
      });
}

std::string EncodeGroup(const GroupNode& g) {
  json servers = json::array();
  for (const ServerInfo& s : g.servers) {
    servers.push_back({{"addr", s.addr},
                       {"role", std::string(ServerRoleName(s.role))},
                       {"state", std::string(ServerStateName(s.state))}});
  }
  return json{{"id", g.id}, {"servers", servers}}.dump();
}

absl::StatusOr<GroupNode> DecodeGroup(std::string_view text) {
  return Decode<GroupNode>(
      text, "group", [](const json& j) -> absl::StatusOr<GroupNode> {
        GroupNode g;
        g.id = j.value("id", 0);
        if (j.contains("servers") && j["servers"].is_array()) {
          for (const json& s : j["servers"]) {
            ServerInfo info;
            info.addr = s.value("addr", "");
            info.role = s.value("role", "slave") == "master"
                            ? ServerRole::kMaster
                            : ServerRole::kSlave;
            // Anything but "offline" serves, as the proxies read it.
            info.state = s.value("state", "online") == "offline"
                             ? ServerState::kOffline
                             : ServerState::kOnline;
            g.servers.push_back(std::move(info));
          }
        }
        return g;
      });
}

std::string EncodeProxy(const ProxyInfo& p) {
  return json{{"id", p.id},
              {"addr", p.addr},
              {"admin_addr", p.admin_addr},
              {"state", std::string(ProxyStateName(p.state))},
              {"pid", p.pid},
              {"start_at", p.start_at},
              {"lease_ms", p.lease_ms}}
      .dump();
}

absl::StatusOr<ProxyInfo> DecodeProxy(std::string_view text) {
  return Decode<ProxyInfo>(
      text, "proxy", [](const json& j) -> absl::StatusOr<ProxyInfo> {
        ProxyInfo p;
        p.id = j.value("id", "");
        p.addr = j.value("addr", "");
        p.admin_addr = j.value("admin_addr", "");
        std::string state = j.value("state", "online");
        p.state = state == "online"         ? ProxyState::kOnline
                  : state == "mark_offline" ? ProxyState::kMarkOffline
                                            : ProxyState::kOffline;
        p.pid = j.value("pid", int64_t{0});
        p.start_at = j.value("start_at", int64_t{0});
        p.lease_ms = j.value("lease_ms", int64_t{0});
        return p;
      });
}

std::string EncodeAction(const ActionInfo& a) {
  return json{{"type", a.type}, {"target", a.target}, {"ts", a.ts}}.dump();
}

absl::StatusOr<ActionInfo> DecodeAction(std::string_view text) {
  return Decode<ActionInfo>(text, "action",
                            [](const json& j) -> absl::StatusOr<ActionInfo> {
                              ActionInfo a;
                              a.type = j.value("type", "");
                              a.target = j.value("target", "");
                              a.ts = j.value("ts", int64_t{0});
                              return a;
                            });
}

const ServerInfo* GroupNode::master() const {
  for (const ServerInfo& s : servers) {
    if (s.role == ServerRole::kMaster) return &s;
  }
  return nullptr;
}

}  // namespace reborn
