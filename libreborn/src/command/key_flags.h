#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "command/command_spec.h"

namespace reborn {

// Redis 7.0's key-spec flags (CMD_KEY_*), as COMMAND GETKEYSANDFLAGS and
// COMMAND INFO name them.
enum KeyFlag : uint32_t {
  kKeyRO = 1u << 0,
  kKeyRW = 1u << 1,
  kKeyOW = 1u << 2,
  kKeyRM = 1u << 3,
  kKeyAccess = 1u << 4,
  kKeyUpdate = 1u << 5,
  kKeyInsert = 1u << 6,
  kKeyDelete = 1u << 7,
  kKeyNotKey = 1u << 8,
  kKeyIncomplete = 1u << 9,
  kKeyVariableFlags = 1u << 10,
};

// "RO", "RW", ..., "access", "update", ... in Redis' reply order.
std::vector<std::string_view> KeyFlagNames(uint32_t flags);

// True when Redis marks the command's keys "not_key" (SPUBLISH's shard
// channel): COMMAND GETKEYS says it has no key arguments.
bool KeysAreNotKeys(const CommandSpec& spec);

// For a container command line whose subcommand has keys in Redis (MEMORY
// USAGE key, XGROUP CREATE key ...): the position of its key, 0 if none.
size_t SubcommandKeyPosition(const CommandSpec& spec,
                             const std::vector<std::string>& args);

// The flags of the key at args[pos] (args[0] is the command, pos one of
// KeyPositions): the flags of the Redis key spec that finds it, resolved
// for the commands whose flags depend on their arguments (SET ... GET,
// BITFIELD). Commands Redis does not have get RW access update (writes)
// or RO access.
uint32_t KeyFlagsAt(const CommandSpec& spec,
                    const std::vector<std::string>& args, size_t pos);

}  // namespace reborn
