// ACL SETUSER GETUSER DELUSER USERS LIST WHOAMI CAT LOG GENPASS DRYRUN SAVE
// LOAD HELP, with Redis 7.0's replies and error texts.
#include <random>

#include "absl/strings/str_cat.h"
#include "command/acl_categories.h"
#include "net/client_info.h"
#include "qdb/numbers.h"
#include "server/acl.h"
#include "server/qdb_server_impl.h"
#include "server/transactions.h"
#include "spdlog/spdlog.h"

namespace reborn::server {
namespace {

constexpr int64_t kGenpassMaxBits = 4096;

void WriteSelector(const AclSelector& s, resp::ReplyWriter& reply) {
  reply.Bulk("commands");
  reply.Bulk(s.DescribeCommands());
  reply.Bulk("keys");
  reply.Bulk(s.DescribeKeys());
  reply.Bulk("channels");
  reply.Bulk(s.DescribeChannels());
}

void GetUser(Acl& acl, CommandContext& ctx) {
  std::shared_ptr<const AclUser> user = acl.Find(ctx.args[2]);
  if (user == nullptr) return ctx.reply.Null();
  ctx.reply.MapHeader(6);
  ctx.reply.Bulk("flags");
  const auto flags = user->FlagNames();
  ctx.reply.SetHeader(flags.size());
  for (std::string_view f : flags) ctx.reply.Bulk(f);
  ctx.reply.Bulk("passwords");
  ctx.reply.ArrayHeader(user->password_hashes().size());
  for (const std::string& h : user->password_hashes()) ctx.reply.Bulk(h);
  const auto& selectors = user->selectors();
  WriteSelector(selectors.front(), ctx.reply);
  ctx.reply.Bulk("selectors");
  ctx.reply.ArrayHeader(selectors.size() - 1);
  for (size_t i = 1; i < selectors.size(); ++i) {
    ctx.reply.MapHeader(3);
    WriteSelector(selectors[i], ctx.reply);
  }
}

void Cat(const Acl& acl, CommandContext& ctx) {
  if (ctx.args.size() == 2) {
    const auto names = AclCategoryNames();
    ctx.reply.ArrayHeader(names.size());
    for (std::string_view n : names) ctx.reply.Bulk(n);
    return;
  }
  const uint32_t bit = AclCategoryBit(ctx.args[2]);
  if (bit == 0) {
    return ctx.reply.Error(absl::StrCat("ERR Unknown category '",
                                        ctx.args[2].substr(0, 128), "'"));
  }
  std::vector<std::string_view> names;
  const AclCommandIndex& index = acl.index();
  for (int id : index.order()) {
    const auto& c = index.at(id);
    if (c.served && (c.categories & bit)) names.push_back(c.name);
  }
  ctx.reply.ArrayHeader(names.size());
  for (std::string_view n : names) ctx.reply.Bulk(n);
}

void Genpass(CommandContext& ctx) {
  int64_t bits = 256;
  if (ctx.args.size() == 3 && !qdb::ParseInt64(ctx.args[2], &bits)) {
    return ctx.reply.Error("ERR value is not an integer or out of range");
  }
  if (bits <= 0 || bits > kGenpassMaxBits) {
    return ctx.reply.Error(absl::StrCat(
        "ERR ACL GENPASS argument must be the number of bits for the output "
        "password, a positive number up to ",
        kGenpassMaxBits));
  }
  std::random_device rd;  // the OS's CSPRNG on Linux
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(static_cast<size_t>((bits + 3) / 4), '0');
  for (char& c : out) c = kHex[rd() & 0xf];
  ctx.reply.Bulk(out);
}

void Log(QdbServerImpl& server, CommandContext& ctx) {
  int64_t count = 10;
  if (ctx.args.size() == 3) {
    if (EqualsIgnoreCase(ctx.args[2], "reset")) {
      server.acl().log().Reset();
      return ctx.reply.Ok();
    }
    if (!qdb::ParseInt64(ctx.args[2], &count)) {
      return ctx.reply.Error("ERR value is not an integer or out of range");
    }
  }
  server.acl().log().Write(count, ctx.reply);
}

void DryRun(QdbServerImpl& server, CommandContext& ctx) {
  std::shared_ptr<const AclUser> user = server.acl().Find(ctx.args[2]);
  if (user == nullptr) {
    return ctx.reply.Error(
        absl::StrCat("ERR User '", ctx.args[2], "' not found"));
  }
  std::vector<std::string> args(ctx.args.begin() + 3, ctx.args.end());
  const CommandTable::Entry* entry = server.table().Find(args[0]);
  std::string full_name;
  const int id = server.acl().index().IdOf(args[0], args, &full_name);
  if (entry == nullptr || id < 0) {
    return ctx.reply.Error(
        absl::StrCat("ERR Command '", args[0], "' not found"));
  }
  if (!entry->spec->ArityOk(args.size())) {
    return ctx.reply.Error(absl::StrCat("ERR wrong number of arguments for '",
                                        full_name, "' command"));
  }
  size_t pos = 0;
  switch (user->Check(id, *entry->spec, args, &pos)) {
    case AclDenied::kNone:
      return ctx.reply.Ok();
    case AclDenied::kCommand:
      return ctx.reply.Bulk(absl::StrCat(
          "This user has no permissions to run the '", full_name, "' command"));
    case AclDenied::kKey:
      return ctx.reply.Bulk(absl::StrCat(
          "This user has no permissions to access the '", args[pos], "' key"));
    default:
      return ctx.reply.Bulk(
          absl::StrCat("This user has no permissions to access the '",
                       args[pos], "' channel"));
  }
}

void Help(CommandContext& ctx) {
  static constexpr const char* kHelp[] = {
      "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CAT [<category>]",
      "    List all commands that belong to <category>, or all command "
      "categories",
      "    when no category is specified.",
      "DELUSER <username> [<username> ...]",
      "    Delete a list of users.",
      "DRYRUN <username> <command> [<arg> ...]",
      "    Returns whether the user can execute the given command without "
      "executing the command.",
      "GETUSER <username>",
      "    Get the user's details.",
      "GENPASS [<bits>]",
      "    Generate a secure 256-bit user password. The optional `bits` "
      "argument can",
      "    be used to specify a different size.",
      "LIST",
      "    Show users details in config file format.",
      "LOAD",
      "    Reload users from the ACL file.",
      "LOG [<count> | RESET]",
      "    Show the ACL log entries.",
      "SAVE",
      "    Save the current config to the ACL file.",
      "SETUSER <username> <attribute> [<attribute> ...]",
      "    Create or modify a user with the specified attributes.",
      "USERS",
      "    List all the registered usernames.",
      "WHOAMI",
      "    Return the current connection username.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.ArrayHeader(std::size(kHelp));
  for (const char* line : kHelp) ctx.reply.SimpleString(line);
}

// Redis' arities of the subcommands ("acl|setuser" -3, ...).
int SubcommandArity(std::string_view sub) {
  static constexpr std::pair<std::string_view, int> kArity[] = {
      {"cat", -2},    {"deluser", -3}, {"dryrun", -4},  {"genpass", -2},
      {"getuser", 3}, {"help", 2},     {"list", 2},     {"load", 2},
      {"log", -2},    {"save", 2},     {"setuser", -3}, {"users", 2},
      {"whoami", 2},
  };
  for (const auto& [name, arity] : kArity) {
    if (name == sub) return arity;
  }
  return 0;
}

void AclCommand(QdbServerImpl& server, CommandContext& ctx) {
  auto& args = ctx.args;
  const std::string sub = ToLower(args[1]);
  const int arity = SubcommandArity(sub);
  if (arity == 0) {
    return ctx.reply.Error(UnknownSubcommandError("acl", args[1]));
  }
  const auto argc = static_cast<int>(args.size());
  if (arity > 0 ? argc != arity : argc < -arity) {
    return ctx.reply.Error(WrongArityError("acl|" + sub));
  }
  auto syntax = [&] {
    ctx.reply.Error(absl::StrCat(
        "ERR unknown subcommand or wrong number of arguments for '", args[1],
        "'. Try ACL HELP."));
  };
  Acl& acl = server.acl();
  if (sub == "setuser") {
    const std::string& name = args[2];
    if (name.find_first_of(std::string_view(" \0", 2)) != std::string::npos) {
      return ctx.reply.Error(
          "ERR Usernames can't contain spaces or null characters");
    }
    std::vector<std::string> rules(args.begin() + 3, args.end());
    if (auto error = acl.SetUser(name, rules)) {
      return ctx.reply.Error(absl::StrCat("ERR ", *error));
    }
    ctx.reply.Ok();
  } else if (sub == "deluser") {
    for (size_t i = 2; i < args.size(); ++i) {
      if (args[i] == "default") {
        return ctx.reply.Error("ERR The 'default' user cannot be removed");
      }
    }
    std::vector<std::string> names(args.begin() + 2, args.end());
    const bool self =
        std::find(names.begin(), names.end(), ctx.session.user) != names.end();
    ctx.reply.Integer(acl.DeleteUsers(names));
    if (self) {
      // Redis closes the connection after this reply, unauthenticated.
      ctx.session.authenticated = false;
      ctx.session.close_after_reply = true;
    }
  } else if (sub == "getuser") {
    GetUser(acl, ctx);
  } else if (sub == "list" || sub == "users") {
    const auto users = acl.Users();
    ctx.reply.ArrayHeader(users.size());
    for (const auto& user : users) {
      ctx.reply.Bulk(sub == "users" ? user->name()
                                    : absl::StrCat("user ", user->name(), " ",
                                                   user->Describe()));
    }
  } else if (sub == "whoami") {
    ctx.reply.Bulk(ctx.session.user);
  } else if (!acl.HasFile() && (sub == "load" || sub == "save")) {
    ctx.reply.Error(
        "ERR This Redis instance is not configured to use an ACL file. You "
        "may want to specify users via the ACL SETUSER command and then issue "
        "a CONFIG REWRITE (assuming you have a Redis configuration file set) "
        "in order to store users in the Redis configuration.");
  } else if (sub == "load") {
    if (auto error = acl.LoadFile()) {
      return ctx.reply.Error(absl::StrCat("ERR ", *error));
    }
    ctx.reply.Ok();
  } else if (sub == "save") {
    if (absl::Status s = acl.SaveFile(); !s.ok()) {
      spdlog::warn("ACL SAVE: {}", s.ToString());
      return ctx.reply.Error(
          "ERR There was an error trying to save the ACLs. Please check the "
          "server logs for more information");
    }
    ctx.reply.Ok();
  } else if (sub == "cat") {
    if (argc > 3) return syntax();
    Cat(acl, ctx);
  } else if (sub == "genpass") {
    if (argc > 3) return syntax();
    Genpass(ctx);
  } else if (sub == "log") {
    if (argc > 3) return syntax();
    Log(server, ctx);
  } else if (sub == "dryrun") {
    DryRun(server, ctx);
  } else {
    Help(ctx);
  }
}

// The CLIENT LIST line of the session's connection, for ACL LOG.
std::string ClientInfo(QdbServerImpl& server, const Session& session) {
  auto entry = server.network().clients().Find(session.id);
  if (entry == nullptr) return "";
  std::string line = net::ClientInfoLine(*entry);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

AclLog::Context LogContext(const Session& session) {
  if (session.script) return AclLog::kLua;
  return session.txn && (session.txn->in_multi || session.txn->executing)
             ? AclLog::kMulti
             : AclLog::kToplevel;
}

}  // namespace

bool QdbServerImpl::Authenticate(Session& session, std::string_view command,
                                 std::string_view user,
                                 std::string_view password) {
  std::shared_ptr<const AclUser> found = acl_->Authenticate(user, password);
  if (found == nullptr) {
    acl_->log().Add(AclDenied::kAuth, LogContext(session), std::string(command),
                    std::string(user), ClientInfo(*this, session),
                    static_cast<size_t>(config_->GetInt("acllog-max-len")));
    return false;
  }
  session.authenticated = true;
  session.user = found->name();
  session.acl_user = std::move(found);
  session.acl_generation = acl_->generation();
  if (auto e = network_->clients().Find(session.id)) e->set_user(session.user);
  return true;
}

AclDenied QdbServerImpl::CheckAcl(Session& session, const CommandSpec& spec,
                                  const std::vector<std::string>& args,
                                  std::string* full_name, size_t* pos,
                                  bool log_denial) {
  const uint64_t generation = acl_->generation();
  if (session.acl_user == nullptr || session.acl_generation != generation) {
    session.acl_user = acl_->Find(session.user);
    session.acl_generation = generation;
  }
  const AclUser* user = session.acl_user.get();
  if (user != nullptr && user->Unrestricted()) return AclDenied::kNone;
  const int id = acl_->index().IdOf(spec.name, args, full_name);
  if (user == nullptr || id < 0) return AclDenied::kCommand;
  const AclDenied denied = user->Check(id, spec, args, pos);
  if (denied != AclDenied::kNone && log_denial) {
    acl_->log().Add(denied, LogContext(session),
                    denied == AclDenied::kCommand ? *full_name : args[*pos],
                    session.user, ClientInfo(*this, session),
                    static_cast<size_t>(config_->GetInt("acllog-max-len")));
  }
  return denied;
}

bool QdbServerImpl::RefusedByAcl(Session& session, const CommandSpec& spec,
                                 const std::vector<std::string>& args,
                                 bool queuing, resp::ReplyWriter& reply) {
  std::string full_name(spec.name);
  size_t pos = 0;
  const AclDenied denied = CheckAcl(session, spec, args, &full_name, &pos);
  if (denied == AclDenied::kNone) return false;
  if (queuing) session.txn->aborted = true;
  command_stats_.For(spec).rejected.fetch_add(1, std::memory_order_relaxed);
  std::string error =
      denied == AclDenied::kCommand
          ? absl::StrCat("NOPERM this user has no permissions to run the '",
                         full_name, "' command")
      : denied == AclDenied::kKey
          ? "NOPERM this user has no permissions to access one of the keys "
            "used as arguments"
          : "NOPERM this user has no permissions to access one of the "
            "channels used as arguments";
  if (spec.name == "exec") {
    // Redis' rejectCommand of EXEC discards the transaction.
    ResetTransaction(session);
    error = absl::StrCat("EXECABORT Transaction discarded because of: ", error);
  }
  reply.Error(error);
  return true;
}

std::string QdbServerImpl::AclExecError(Session& session,
                                        const CommandSpec& spec,
                                        const std::vector<std::string>& args) {
  std::string full_name(spec.name);
  size_t pos = 0;
  const AclDenied denied = CheckAcl(session, spec, args, &full_name, &pos);
  if (denied == AclDenied::kNone) return "";
  return absl::StrCat(
      "NOPERM ACLs rules changed between the moment the transaction was "
      "accumulated and the EXEC call. This command is no longer allowed for "
      "the following reason: ",
      denied == AclDenied::kCommand
          ? "no permission to execute the command or subcommand"
      : denied == AclDenied::kKey
          ? "no permission to touch the specified keys"
          : "no permission to access one of the channels used as arguments");
}

absl::Status RegisterAclCommand(QdbServerImpl& server, CommandTable& table) {
  return table.Register(
      "acl", [&server](CommandContext& ctx) { AclCommand(server, ctx); });
}

}  // namespace reborn::server
