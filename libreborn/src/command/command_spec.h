#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"

namespace reborn {

// Command flags. The names in FlagNames() are Redis' COMMAND INFO flag names
// where Redis has one.
enum CommandFlag : uint32_t {
  kCmdWrite = 1u << 0,
  kCmdReadOnly = 1u << 1,
  kCmdAdmin = 1u << 2,
  kCmdFast = 1u << 3,
  kCmdBlocking = 1u << 4,
  kCmdNoProxy = 1u << 5,  // the proxy does not forward it to a backend
  kCmdPubSub = 1u << 6,
  kCmdNoScript = 1u << 7,
  kCmdLoading = 1u << 8,  // allowed while loading data
  kCmdStale = 1u << 9,    // allowed on a replica with a broken link
  kCmdDenyOom = 1u << 10,
  kCmdMovableKeys = 1u << 11,
  kCmdNoMulti = 1u << 12,  // refused inside MULTI (aborts the transaction)
  kCmdRandom = 1u << 13,   // reply is nondeterministic (order or choice)
  kCmdNoAuth = 1u << 14,   // allowed before AUTH
  kCmdSlot = 1u << 15,     // SLOTS* migration commands
  // Refused while a replica loads its master's data asynchronously (Redis'
  // no_async_loading; shown by COMMAND INFO where a spec carries it).
  kCmdNoAsyncLoading = 1u << 16,
};

// Where the keys of a command are. Most commands use the (first, last, step)
// triple of Redis' legacy key specs; commands with a numkeys argument
// (ZUNIONSTORE, LMPOP, EVAL, ...) name its position instead.
struct CommandSpec {
  std::string_view name;  // lower case
  int arity;              // Redis' convention: -N means "at least N"
  uint32_t flags;
  int first_key;  // 0 = no keys
  int last_key;   // negative counts from the end (-1 = last argument)
  int key_step;
  // When > 0: args[numkeys_index] is a key count and the keys follow it
  // (after `keys_offset` further arguments).
  int numkeys_index = 0;
  int keys_offset = 1;

  bool has(uint32_t flag) const { return (flags & flag) != 0; }
  bool ArityOk(size_t argc) const {
    return arity >= 0 ? static_cast<int>(argc) == arity
                      : static_cast<int>(argc) >= -arity;
  }
};

// Every command libreborn knows (served by QDB, routed by the proxy).
std::span<const CommandSpec> AllCommandSpecs();

// Case-insensitive lookup; nullptr when unknown.
const CommandSpec* FindCommandSpec(std::string_view name);

// The subcommands of a container command that has a table of them (arity
// and flags per subcommand, named "container|sub" as by Redis 7.0's COMMAND
// INFO); empty for every other command. They are not in AllCommandSpecs():
// the container's spec stays the command's identity (statistics, routing),
// its subcommand's spec says what Redis judges a call by (arity, flags).
std::span<const CommandSpec> SubcommandSpecs(std::string_view container);

// The spec of the subcommand `args` name (args[1], case-insensitive);
// nullptr when `spec` has no subcommand table, args has no subcommand or
// names an unknown one.
const CommandSpec* FindSubcommandSpec(const CommandSpec& spec,
                                      const std::vector<std::string>& args);

// Positions of the keys in `args` (args[0] is the command name). Movable-key
// commands are resolved from their arguments; malformed argument lists give
// the keys that can be found (arity and syntax are the handler's business).
// Inline for the usual one to four keys: every routed or watched command
// asks, so it must not allocate.
using KeyPositionList = absl::InlinedVector<size_t, 4>;
KeyPositionList KeyPositions(const CommandSpec& spec,
                             const std::vector<std::string>& args);

// The one slot all keys of `args` hash to; -1 when it has no keys. Fails
// with the CROSSSLOT error text when they span slots.
absl::StatusOr<int> KeysSlot(const CommandSpec& spec,
                             const std::vector<std::string>& args);

// Redis' flag names for COMMAND INFO ("write", "readonly", ...).
std::vector<std::string_view> FlagNames(uint32_t flags);

// Lower-cases ASCII.
std::string ToLower(std::string_view s);

// The name CLIENT LIST's cmd= shows for a command, as Redis 7.0 names it:
// "client|list" for a known subcommand of a container command, else the
// command's own name. The pointer is to static storage.
const char* QualifiedCommandName(const CommandSpec& spec,
                                 const std::vector<std::string>& args);

// ASCII case-insensitive equality (command and option names).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace reborn
