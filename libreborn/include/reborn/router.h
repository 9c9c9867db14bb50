#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reborn/export.h"
#include "reborn/slot_table.h"

namespace reborn {

// Where one command (or one part of a split command) goes.
struct REBORN_EXPORT Route {
  int slot = -1;     // -1: the command has no keys
  int group_id = 0;  // the group serving the slot
  std::string addr;  // the server to send to (master, or a replica)
  SlotState state = SlotState::kOnline;
  // When state is kMigrate: the master of the group the keys come from;
  // the key must be moved first (SLOTSMGRTTAGONE) and the command sent to
  // `addr`.
  std::string migrate_from_addr;
};

// The slot of a command: every key goes through HashTag/SlotOf and all keys
// must share one slot. Key positions come from the shared command table.
// Stateless; the routing functions take the SlotTable snapshot to use, so
// one call sees one consistent topology.
class REBORN_EXPORT Router {
 public:
  // The slot of `args` (args[0] is the command name): -1 when it has no
  // keys. Errors: InvalidArgument with Redis' unknown-command or arity text,
  // FailedPrecondition "CROSSSLOT Keys in request don't hash to the same
  // slot". The messages are the RESP error text without '-'.
  static absl::StatusOr<int> CommandSlot(const std::vector<std::string>& args);

  // The keys of `args` (copies), in order.
  static std::vector<std::string> Keys(const std::vector<std::string>& args);

  // The route of one slot. Unavailable when the slot is unassigned or
  // offline, or its group has no master. With `read_from_replica` a replica
  // is chosen (by `pick`, modulo the replica count) when the group has one.
  static absl::StatusOr<Route> RouteSlot(const SlotTable& table, int slot,
                                         bool read_from_replica = false,
                                         size_t pick = 0);

  // CommandSlot + RouteSlot. Keyless commands go to the serving group with
  // the lowest id.
  static absl::StatusOr<Route> RouteCommand(
      const SlotTable& table, const std::vector<std::string>& args,
      bool read_from_replica = false, size_t pick = 0);

  static constexpr const char* kCrossSlotError =
      "CROSSSLOT Keys in request don't hash to the same slot";
};

}  // namespace reborn
