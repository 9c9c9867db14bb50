#include "reborn/router.h"

#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "command/command_spec.h"
#include "command/command_table.h"
#include "reborn/slot.h"

namespace reborn {
namespace {

// "COPY src dst DB n": another database, which no router serves.
bool CopiesToOtherDb(const std::vector<std::string>& args) {
  for (size_t i = 3; i + 1 < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], "db") && args[i + 1] != "0") return true;
  }
  return false;
}

// The spec of `args`; InvalidArgument with Redis' unknown-command or arity
// text.
absl::StatusOr<const CommandSpec*> CheckedSpec(
    const std::vector<std::string>& args) {
  if (args.empty()) return absl::InvalidArgumentError("ERR empty command");
  const CommandSpec* spec = FindCommandSpec(args[0]);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(UnknownCommandError(args));
  }
  if (!spec->ArityOk(args.size())) {
    return absl::InvalidArgumentError(WrongArityError(spec->name));
  }
  return spec;
}

}  // namespace

absl::StatusOr<int> Router::CommandSlot(const std::vector<std::string>& args) {
  absl::StatusOr<const CommandSpec*> spec = CheckedSpec(args);
  if (!spec.ok()) return spec.status();
  return KeysSlot(**spec, args);
}

absl::Status Router::Admit(const std::vector<std::string>& args,
                           RouterFace face) {
  absl::StatusOr<const CommandSpec*> checked = CheckedSpec(args);
  if (!checked.ok()) return checked.status();
  const CommandSpec* spec = *checked;
  bool refused = spec->has(kCmdNoProxy) || spec->has(kCmdSlot);
  if (face == RouterFace::kClient && spec->has(kCmdPubSub) &&
      spec->name != "publish") {
    refused = true;
  }
  if (refused) {
    return absl::FailedPreconditionError(NotSupportedError(spec->name, face));
  }
  if (spec->name == "copy" && CopiesToOtherDb(args)) {
    return absl::FailedPreconditionError(
        absl::StrCat("ERR COPY ... DB is not supported by ",
                     face == RouterFace::kProxy ? "reborn-proxy: the proxy"
                                                : "reborn::Client: the client",
                     " serves database 0 only"));
  }
  return absl::OkStatus();
}

std::string Router::NotSupportedError(std::string_view command,
                                      RouterFace face) {
  const std::string name = ToLower(command);
  const bool proxy = face == RouterFace::kProxy;
  std::string reason = "it acts on one server: run it on each qdb-server";
  if (name == "monitor") {
    reason = "it would need every backend's command stream";
  } else if (name == "swapdb" || name == "move" || name == "select") {
    reason = proxy ? "the proxy serves database 0 only"
                   : "the client serves database 0 only";
  } else if (name == "replicaof" || name == "slaveof" || name == "replconf" ||
             name == "sync" || name == "psync" || name == "wait") {
    reason = "replication is set up per group by reborn-config";
  } else if (name == "config") {
    // The proxy answers CONFIG GET with its own settings, outside MULTI.
    reason = proxy ? "run it outside MULTI (CONFIG GET answers the proxy's "
                     "own settings)"
                   : "the client never reconfigures its backends";
  } else if (name == "cluster") {
    reason = proxy ? "run it outside MULTI (the proxy answers CLUSTER itself)"
                   : "the client answers CLUSTER KEYSLOT only";
  } else if (name.starts_with("slots")) {
    reason = "slot migration is driven by reborn-config";
  } else if (!proxy && FindCommandSpec(name) != nullptr &&
             FindCommandSpec(name)->has(kCmdPubSub)) {
    reason = "Pub/Sub needs a connection of its own: use reborn-proxy";
  }
  return absl::StrCat("ERR ", absl::AsciiStrToUpper(name),
                      " is not supported by ",
                      proxy ? "reborn-proxy" : "reborn::Client", ": ", reason);
}

std::vector<std::string> Router::Keys(const std::vector<std::string>& args) {
  std::vector<std::string> keys;
  if (args.empty()) return keys;
  const CommandSpec* spec = FindCommandSpec(args[0]);
  if (spec == nullptr) return keys;
  for (size_t pos : KeyPositions(*spec, args)) keys.push_back(args[pos]);
  return keys;
}

std::vector<std::string> Router::MoveKeys(
    const std::vector<std::string>& args) {
  if (args.empty()) return {};
  const CommandSpec* spec = FindCommandSpec(args[0]);
  if (spec != nullptr && spec->has(kCmdPubSub)) return {};
  return Keys(args);
}

absl::StatusOr<Route> Router::RouteSlot(const SlotTable& table, int slot,
                                        bool read_from_replica, size_t pick) {
  Route route;
  route.slot = slot;
  if (slot < 0) {
    std::vector<int> serving = table.ServingGroups();
    if (serving.empty()) {
      return absl::UnavailableError("CLUSTERDOWN no group is serving slots");
    }
    route.group_id = serving.front();
  } else {
    const TableSlot& info = table.slot(slot);
    if (info.group_id == 0 || info.state == SlotState::kOffline) {
      return absl::UnavailableError(
          absl::StrCat("CLUSTERDOWN slot ", slot, " is not served"));
    }
    route.group_id = info.group_id;
    route.state = info.state;
    if (info.state == SlotState::kMigrate) {
      const TableGroup* from = table.group(info.migrate_from);
      if (from != nullptr && info.migrate_from != info.group_id) {
        route.migrate_from_addr = from->master;
      }
      read_from_replica = false;  // the key must be moved on the master
    }
  }
  const TableGroup* group = table.group(route.group_id);
  if (group == nullptr || group->master.empty()) {
    return absl::UnavailableError(
        absl::StrCat("CLUSTERDOWN group ", route.group_id, " has no master"));
  }
  route.addr = group->master;
  if (read_from_replica && !group->replicas.empty()) {
    route.addr = group->replicas[pick % group->replicas.size()];
  }
  return route;
}

absl::StatusOr<Route> Router::RouteCommand(const SlotTable& table,
                                           const std::vector<std::string>& args,
                                           bool read_from_replica,
                                           size_t pick) {
  absl::StatusOr<int> slot = CommandSlot(args);
  if (!slot.ok()) return slot.status();
  return RouteSlot(table, *slot, read_from_replica, pick);
}

RouteStep Router::NextStep(const Route& route, bool has_keys) {
  if (route.state == SlotState::kPreMigrate) return RouteStep::kHold;
  if (!route.migrate_from_addr.empty() && has_keys) return RouteStep::kPreMove;
  return RouteStep::kSend;
}

std::vector<std::string> Router::PreMoveCommand(const Route& route,
                                                std::string_view key) {
  size_t colon = route.addr.rfind(':');
  std::string host = route.addr.substr(0, colon);
  std::string port =
      colon == std::string::npos ? "" : route.addr.substr(colon + 1);
  return {"SLOTSMGRTTAGONE", std::move(host), std::move(port), "3000",
          std::string(key)};
}

SplitMerge Router::SplitMergeOf(std::string_view name) {
  if (EqualsIgnoreCase(name, "mget")) return SplitMerge::kMget;
  if (EqualsIgnoreCase(name, "mset")) return SplitMerge::kOk;
  if (EqualsIgnoreCase(name, "del") || EqualsIgnoreCase(name, "unlink") ||
      EqualsIgnoreCase(name, "exists") || EqualsIgnoreCase(name, "touch")) {
    return SplitMerge::kSum;
  }
  return SplitMerge::kNone;
}

absl::StatusOr<SplitPlan> Router::PlanSplit(
    const std::vector<std::string>& args, const SlotTable* table,
    bool by_server) {
  SplitPlan plan;
  plan.merge = args.empty() ? SplitMerge::kNone : SplitMergeOf(args[0]);
  const CommandSpec* spec =
      plan.merge == SplitMerge::kNone ? nullptr : FindCommandSpec(args[0]);
  if (spec == nullptr) {
    return absl::InvalidArgumentError("ERR the command is not split");
  }
  plan.args_per_key = plan.merge == SplitMerge::kOk ? 2 : 1;
  if (!spec->ArityOk(args.size()) ||
      (args.size() - 1) % plan.args_per_key != 0) {
    return absl::InvalidArgumentError(WrongArityError(spec->name));
  }
  plan.key_count = (args.size() - 1) / plan.args_per_key;
  // The keys by slot, the slots in first-seen order; then the online slots
  // of one master merged into the part of the first.
  std::unordered_map<int, size_t> part_of_slot;
  std::unordered_map<std::string, size_t> part_of_master;
  for (size_t k = 0; k < plan.key_count; ++k) {
    int slot = SlotOf(args[1 + k * plan.args_per_key]);
    auto [it, inserted] = part_of_slot.try_emplace(slot, plan.parts.size());
    if (inserted) {
      std::string master;
      if (table != nullptr && by_server) {
        const TableSlot& info = table->slot(slot);
        const TableGroup* g = table->group(info.group_id);
        if (info.state == SlotState::kOnline && g != nullptr) {
          master = g->master;
        }
      }
      if (!master.empty()) {
        auto [m, fresh] = part_of_master.try_emplace(master, plan.parts.size());
        it->second = m->second;
        if (!fresh) {
          plan.parts[it->second].keys.push_back(k);
          continue;
        }
      }
      plan.parts.push_back(SplitPlan::Part{slot, {}});
    }
    plan.parts[it->second].keys.push_back(k);
  }
  return plan;
}

std::vector<std::string> Router::PartCommand(
    const std::vector<std::string>& args, const SplitPlan& plan, size_t part) {
  std::vector<std::string> sub;
  const auto& keys = plan.parts[part].keys;
  sub.reserve(1 + keys.size() * plan.args_per_key);
  sub.push_back(args[0]);
  for (size_t k : keys) {
    for (size_t j = 0; j < plan.args_per_key; ++j) {
      sub.push_back(args[1 + k * plan.args_per_key + j]);
    }
  }
  return sub;
}

}  // namespace reborn
