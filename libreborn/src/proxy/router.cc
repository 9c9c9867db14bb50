#include "reborn/router.h"

#include "absl/strings/str_cat.h"
#include "command/command_spec.h"
#include "command/command_table.h"

namespace reborn {

absl::StatusOr<int> Router::CommandSlot(const std::vector<std::string>& args) {
  if (args.empty()) return absl::InvalidArgumentError("ERR empty command");
  const CommandSpec* spec = FindCommandSpec(args[0]);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(UnknownCommandError(args));
  }
  if (!spec->ArityOk(args.size())) {
    return absl::InvalidArgumentError(WrongArityError(spec->name));
  }
  return KeysSlot(*spec, args);
}

std::vector<std::string> Router::Keys(const std::vector<std::string>& args) {
  std::vector<std::string> keys;
  if (args.empty()) return keys;
  const CommandSpec* spec = FindCommandSpec(args[0]);
  if (spec == nullptr) return keys;
  for (size_t pos : KeyPositions(*spec, args)) keys.push_back(args[pos]);
  return keys;
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

}  // namespace reborn
