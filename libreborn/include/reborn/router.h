#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
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

// What a router does with a command on its route (Router::NextStep).
enum class RouteStep {
  kSend,     // send it to route.addr
  kHold,     // the slot is in pre_migrate: wait for the next table (at most
             // the hold timeout), then route again; on timeout answer
             // Router::kHoldTimeoutError
  kPreMove,  // the slot migrates: move each of the command's MoveKeys from
             // route.migrate_from_addr (Router::PreMoveCommand), then send it
             // to route.addr; a failed move fails the command with its error
};

// How the replies of a split command's parts become one reply.
enum class SplitMerge {
  kNone,  // not split: routed whole (CommandSlot)
  kMget,  // MGET: the values put back in the order of the keys
  kSum,   // DEL UNLINK EXISTS TOUCH: the sum of the parts' counts
  kOk,    // MSET: +OK when every part answers +OK
};

// A multi-key command cut into single-server parts. Part i carries the keys
// `parts[i].keys` (indexes among the command's keys) and is routed by
// `parts[i].slot`. The first error among the parts (in part order) is the
// command's reply.
struct SplitPlan {
  struct Part {
    int slot = -1;
    std::vector<size_t> keys;
  };
  SplitMerge merge = SplitMerge::kNone;
  size_t key_count = 0;
  size_t args_per_key = 1;  // MSET: the key and its value
  std::vector<Part> parts;  // one part: the command goes unchanged
};

// Who applies the policy: named in the refusals' texts.
enum class RouterFace { kProxy, kClient };

// The routing policy, one for reborn-proxy and the in-process Client: the
// keys of a command (from the shared command table), its slot and route,
// the split plan of multi-key commands, the hold / pre-move decisions for
// migrating slots, and the error texts (Redis Cluster's where it has one).
// Stateless: every function is a pure function of its arguments (the
// routing ones take the SlotTable snapshot to use, so one call sees one
// consistent topology), so any thread may call any of them at once. Errors
// are absl::Status whose message is the RESP error text without '-'.
class REBORN_EXPORT Router {
 public:
  // The slot of `args` (args[0] is the command name): -1 when it has no
  // keys. Errors: InvalidArgument with Redis' unknown-command or arity text,
  // FailedPrecondition kCrossSlotError.
  static absl::StatusOr<int> CommandSlot(const std::vector<std::string>& args);

  // Whether a router forwards `args` at all: InvalidArgument with Redis'
  // unknown-command or arity text, FailedPrecondition NotSupportedError for
  // a command it refuses (server administration, slot commands, other
  // databases; Pub/Sub for the Client, which has no connection to keep a
  // subscription on). Split commands are not checked here (PlanSplit).
  static absl::Status Admit(const std::vector<std::string>& args,
                            RouterFace face);

  // The keys of `args` (copies), in order.
  static std::vector<std::string> Keys(const std::vector<std::string>& args);

  // The keys to move before `args` runs on a migrating slot: its keys,
  // none for Pub/Sub (a shard channel is not a key).
  static std::vector<std::string> MoveKeys(
      const std::vector<std::string>& args);

  // The route of one slot. Unavailable when the slot is unassigned or
  // offline, or its group has no master. With `read_from_replica` a replica
  // is chosen (by `pick`, modulo the replica count) when the group has one;
  // never while the slot migrates (the key must be moved on the master).
  static absl::StatusOr<Route> RouteSlot(const SlotTable& table, int slot,
                                         bool read_from_replica = false,
                                         size_t pick = 0);

  // CommandSlot + RouteSlot. Keyless commands go to the serving group with
  // the lowest id.
  static absl::StatusOr<Route> RouteCommand(
      const SlotTable& table, const std::vector<std::string>& args,
      bool read_from_replica = false, size_t pick = 0);

  // The hold / pre-move decision for a command on `route`; `has_keys`: its
  // MoveKeys are not empty.
  static RouteStep NextStep(const Route& route, bool has_keys);

  // The command the source group (route.migrate_from_addr) runs to move
  // `key` to route.addr before a command on it: Codis' SLOTSMGRTTAGONE with
  // a 3000 ms timeout.
  static std::vector<std::string> PreMoveCommand(const Route& route,
                                                 std::string_view key);

  // kNone, or how the command `name` (any case) is split across slots.
  static SplitMerge SplitMergeOf(std::string_view name);

  // The parts of a split command (SplitMergeOf(args[0]) != kNone): its keys
  // grouped by slot, in the order their slots first appear. With a `table`
  // and `by_server`, the online slots of one master form one part (sent in
  // one command). Errors: InvalidArgument with Redis' arity text (MSET with
  // a key and no value included).
  static absl::StatusOr<SplitPlan> PlanSplit(
      const std::vector<std::string>& args, const SlotTable* table,
      bool by_server);

  // The command of part `part` of `plan` for `args`.
  static std::vector<std::string> PartCommand(
      const std::vector<std::string>& args, const SplitPlan& plan, size_t part);

  // "ERR <CMD> is not supported by <reborn-proxy|reborn::Client>: <why>".
  static std::string NotSupportedError(std::string_view command,
                                       RouterFace face);

  // Redis Cluster's text for keys in different slots.
  static constexpr const char* kCrossSlotError =
      "CROSSSLOT Keys in request don't hash to the same slot";
  // A slot held in pre_migrate for longer than the hold timeout.
  static constexpr const char* kHoldTimeoutError =
      "TRYAGAIN slot is being migrated, try again";
  // No topology has been read yet (Redis Cluster's text for a cluster that
  // cannot serve).
  static constexpr const char* kNoTopologyError =
      "CLUSTERDOWN The cluster is down";
  // A key move before a command failed without an error text of its own.
  static constexpr const char* kKeyMoveFailedError = "ERR key migration failed";
};

}  // namespace reborn
