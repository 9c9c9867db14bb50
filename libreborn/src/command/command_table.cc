#include "command/command_table.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace reborn {

absl::Status CommandTable::Register(std::string_view name,
                                    CommandHandler handler) {
  const CommandSpec* spec = FindCommandSpec(name);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("no spec for command ", std::string(name)));
  }
  auto [it, inserted] = entries_.emplace(std::string(spec->name),
                                         Entry{spec, std::move(handler)});
  if (!inserted) {
    return absl::AlreadyExistsError(
        absl::StrCat("command registered twice: ", std::string(name)));
  }
  return absl::OkStatus();
}

const CommandTable::Entry* CommandTable::Find(std::string_view name) const {
  const CommandSpec* spec = FindCommandSpec(name);
  if (spec == nullptr) return nullptr;
  auto it =
      entries_.find(absl::string_view(spec->name.data(), spec->name.size()));
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const CommandTable::Entry*> CommandTable::Entries() const {
  std::vector<const Entry*> out;
  out.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) out.push_back(&entry);
  return out;
}

void CommandTable::Dispatch(Session& session, std::vector<std::string>& args,
                            resp::ReplyWriter& reply) const {
  const Entry* entry = args.empty() ? nullptr : Find(args[0]);
  if (entry == nullptr) {
    reply.Error(UnknownCommandError(args));
    return;
  }
  if (!entry->spec->ArityOk(args.size())) {
    reply.Error(WrongArityError(entry->spec->name));
    return;
  }
  CommandContext ctx{session, *entry->spec, args, reply};
  entry->handler(ctx);
}

std::string UnknownCommandError(const std::vector<std::string>& args) {
  // Mirrors redis-server: at most 128 bytes of the name, and arguments are
  // quoted until the quoted list reaches 128 bytes.
  std::string quoted;
  for (size_t i = 1; i < args.size() && quoted.size() < 128; ++i) {
    absl::StrAppend(&quoted, "'", args[i].substr(0, 128 - quoted.size()), "' ");
  }
  std::string_view name = args.empty() ? "" : std::string_view(args[0]);
  return absl::StrCat("ERR unknown command '", std::string(name.substr(0, 128)),
                      "', with args beginning with: ", quoted);
}

std::string WrongArityError(std::string_view name) {
  return absl::StrCat("ERR wrong number of arguments for '",
                      absl::AsciiStrToLower(std::string(name)), "' command");
}

std::string UnknownSubcommandError(std::string_view command,
                                   std::string_view subcommand) {
  return absl::StrCat("ERR unknown subcommand '", std::string(subcommand),
                      "'. Try ", absl::AsciiStrToUpper(std::string(command)),
                      " HELP.");
}

}  // namespace reborn
