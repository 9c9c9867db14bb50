#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "command/command_spec.h"
#include "command/session.h"
#include "resp/reply_writer.h"

namespace reborn {

// What a command handler sees: its session, its arguments (args[0] is the
// name as the client sent it) and a reply writer. Never the socket or server.
struct CommandContext {
  Session& session;
  const CommandSpec& spec;
  std::vector<std::string>& args;
  resp::ReplyWriter& reply;
};

using CommandHandler = std::function<void(CommandContext&)>;

// Maps command names to handlers. Specs (arity, flags, keys) come from the
// shared spec table in command_spec.h, so the proxy and the engine agree on
// them. Filled once at start-up, then read-only: lookups need no lock.
class CommandTable {
 public:
  struct Entry {
    const CommandSpec* spec;
    CommandHandler handler;
  };

  // Registers a handler for a command in the spec table. Fails if the name is
  // not in the spec table or already registered.
  absl::Status Register(std::string_view name, CommandHandler handler);

  // Case-insensitive; nullptr if unknown or without a handler.
  const Entry* Find(std::string_view name) const;

  // Looks the command up, checks its arity and runs it. Unknown commands and
  // wrong arities get redis-server's error texts.
  void Dispatch(Session& session, std::vector<std::string>& args,
                resp::ReplyWriter& reply) const;

  size_t size() const { return entries_.size(); }
  // All registered entries (for COMMAND).
  std::vector<const Entry*> Entries() const;

 private:
  absl::flat_hash_map<std::string, Entry> entries_;
};

// "ERR unknown command 'x', with args beginning with: 'a' 'b' "
std::string UnknownCommandError(const std::vector<std::string>& args);
// "ERR wrong number of arguments for 'get' command"
std::string WrongArityError(std::string_view name);
// "ERR unknown subcommand 'x'. Try CONFIG HELP."
std::string UnknownSubcommandError(std::string_view command,
                                   std::string_view subcommand);

}  // namespace reborn
