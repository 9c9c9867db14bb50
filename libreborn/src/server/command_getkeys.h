#pragma once

#include "command/command_table.h"

namespace reborn::server {

// COMMAND GETKEYS / GETKEYSANDFLAGS command args...: the keys of a command
// line (with their Redis key-spec flags), checked and answered as Redis
// 7.0 does.
void CommandGetKeys(CommandContext& ctx, bool with_flags);

// COMMAND HELP: Redis 7.0's text.
void CommandHelp(CommandContext& ctx);

}  // namespace reborn::server
