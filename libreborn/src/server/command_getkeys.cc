#include "server/command_getkeys.h"

#include "absl/strings/numbers.h"
#include "command/key_flags.h"

namespace reborn::server {

void CommandHelp(CommandContext& ctx) {
  static constexpr const char* kHelp[] = {
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand)",
      "    Return details about all Redis commands.",
      "COUNT",
      "    Return the total number of commands in this Redis server.",
      "LIST",
      "    Return a list of all commands in this Redis server.",
      "INFO [<command-name> ...]",
      "    Return details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "GETKEYS <full-command>",
      "    Return the keys from a full Redis command.",
      "GETKEYSANDFLAGS <full-command>",
      "    Return the keys and the access flags from a full Redis command.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kHelp));
  for (const char* line : kHelp) ctx.reply.SimpleString(line);
}

void CommandGetKeys(CommandContext& ctx, bool with_flags) {
  const CommandSpec* spec = FindCommandSpec(ctx.args[2]);
  if (spec == nullptr) {
    return ctx.reply.Error("ERR Invalid command specified");
  }
  std::vector<std::string> cmd(ctx.args.begin() + 2, ctx.args.end());
  // A subcommand with keys (MEMORY USAGE key): Redis looks it up as its own
  // command.
  const size_t sub_key = SubcommandKeyPosition(*spec, cmd);
  if ((spec->first_key == 0 && !spec->has(kCmdMovableKeys) && sub_key == 0) ||
      KeysAreNotKeys(*spec)) {
    return ctx.reply.Error("ERR The command has no key arguments");
  }
  if (!spec->ArityOk(cmd.size())) {
    return ctx.reply.Error(
        "ERR Invalid number of arguments specified for command");
  }
  if (spec->numkeys_index > 0) {
    // Redis' getkeys procs refuse a key count below one or past the
    // arguments; for scripts (keys optional) that is an empty list.
    const auto index = static_cast<size_t>(spec->numkeys_index);
    const bool script =
        spec->name.starts_with("eval") || spec->name.starts_with("fcall");
    int64_t n = 0;
    if (!absl::SimpleAtoi(cmd[index], &n) || n < (script ? 0 : 1) ||
        index + static_cast<size_t>(spec->keys_offset) +
                static_cast<size_t>(n) - 1 >=
            cmd.size()) {
      if (script) return ctx.reply.ArrayHeader(0);
      return ctx.reply.Error("ERR Invalid arguments specified for command");
    }
  }
  KeyPositionList positions = KeyPositions(*spec, cmd);
  if (positions.empty() && sub_key > 0) positions.push_back(sub_key);
  if (positions.empty()) {
    // Scripts may name no keys (Redis' CMD_NO_MANDATORY_KEYS).
    if (spec->name.starts_with("eval") || spec->name.starts_with("fcall")) {
      return ctx.reply.ArrayHeader(0);
    }
    return ctx.reply.Error("ERR Invalid arguments specified for command");
  }
  ctx.reply.ArrayHeader(positions.size());
  for (size_t p : positions) {
    if (!with_flags) {
      ctx.reply.Bulk(cmd[p]);
      continue;
    }
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(cmd[p]);
    const auto names = KeyFlagNames(KeyFlagsAt(*spec, cmd, p));
    ctx.reply.SetHeader(names.size());
    for (std::string_view n : names) ctx.reply.SimpleString(n);
  }
}

}  // namespace reborn::server
