#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "command/command_spec.h"

namespace reborn::server {

// Redis 7's container commands and their subcommands (lower case), for the
// names Redis reports per subcommand: "config|get" in LATENCY HISTOGRAM
// and INFO latencystats, COMMAND INFO's subcommand list. Empty for a
// command without subcommands.
std::span<const std::string_view> SubcommandsOf(std::string_view command);

// "container|sub" when `args` name a known subcommand of a container
// command, the command's name for other commands, and "" for a container
// command without a known subcommand (Redis refuses those before running
// them, so they are neither timed nor logged).
std::string FullCommandName(const CommandSpec& spec,
                            const std::vector<std::string>& args);

}  // namespace reborn::server
