// Connection and server commands of qdb-server: PING ECHO HELLO AUTH QUIT
// RESET COMMAND CLIENT TIME CONFIG INFO SHUTDOWN.
#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "command/acl_categories.h"
#include "command/deferred_reply.h"
#include "net/client_info.h"
#include "qdb/numbers.h"
#include "reborn/version.h"
#include "server/command_getkeys.h"
#include "server/qdb_server_impl.h"
#include "server/subcommands.h"
#include "server/transactions.h"
#include "spdlog/spdlog.h"
#include "util/glob.h"

namespace reborn::server {
namespace {

void Ping(CommandContext& ctx) {
  if (ctx.args.size() > 2) {
    ctx.reply.Error(WrongArityError("ping"));
  } else if (ctx.session.subscribed() && ctx.session.protocol == 2) {
    // Subscribed mode (RESP2), as redis-server: ["pong", message or ""].
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk("pong");
    ctx.reply.Bulk(ctx.args.size() == 2 ? ctx.args[1] : "");
  } else if (ctx.args.size() == 2) {
    ctx.reply.Bulk(ctx.args[1]);
  } else {
    ctx.reply.SimpleString("PONG");
  }
}

void Echo(CommandContext& ctx) { ctx.reply.Bulk(ctx.args[1]); }

void Quit(CommandContext& ctx) {
  ctx.reply.Ok();
  ctx.session.close_after_reply = true;
}

void Time(CommandContext& ctx) {
  int64_t us = absl::GetCurrentTimeNanos() / 1000;
  ctx.reply.ArrayHeader(2);
  ctx.reply.Bulk(std::to_string(us / 1000000));
  ctx.reply.Bulk(std::to_string(us % 1000000));
}

// AUTH [username] password against the ACL users (the default user's
// password is requirepass). A failure is counted, logged and put in ACL
// LOG, and after a few on one connection its reply is held back
// (AuthFailures), outside EXEC where nothing may wait.
bool CheckAuth(QdbServerImpl& server, CommandContext& ctx,
               std::string_view user, std::string_view password) {
  if (server.Authenticate(ctx.session, ctx.args[0], user, password)) {
    ctx.session.auth_failures = 0;
    return true;
  }
  const int64_t delay_ms = server.auth_failures().Record(
      ctx.session.peer, ++ctx.session.auth_failures);
  const bool in_exec = ctx.session.txn && ctx.session.txn->executing;
  if (delay_ms > 0 && !in_exec) {
    std::string encoded;
    resp::ReplyWriter(&encoded, ctx.session.protocol)
        .Error(net::kWrongPassError);
    // Nobody completes it: the connection sends it when the delay is up
    // and reads nothing of this client meanwhile.
    ctx.session.deferred =
        std::make_shared<DeferredReply>(delay_ms, std::move(encoded));
  } else {
    ctx.reply.Error(net::kWrongPassError);
  }
  return false;
}

void Auth(QdbServerImpl& server, CommandContext& ctx) {
  if (ctx.args.size() > 3) {
    ctx.reply.Error("ERR syntax error");
    return;
  }
  const auto default_user = server.acl().Find("default");
  if (ctx.args.size() == 2 && default_user && default_user->nopass()) {
    ctx.reply.Error(
        "ERR AUTH <password> called without any password configured for the "
        "default user. Are you sure your configuration is correct?");
    return;
  }
  std::string user = ctx.args.size() == 3 ? ctx.args[1] : "default";
  if (CheckAuth(server, ctx, user, ctx.args.back())) ctx.reply.Ok();
}

void Hello(QdbServerImpl& server, CommandContext& ctx) {
  auto& args = ctx.args;
  int protocol = ctx.session.protocol;
  size_t i = 1;
  if (args.size() >= 2) {
    int64_t ver = 0;
    if (!absl::SimpleAtoi(args[1], &ver)) {
      ctx.reply.Error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (ver < 2 || ver > 3) {
      ctx.reply.Error("NOPROTO unsupported protocol version");
      return;
    }
    protocol = static_cast<int>(ver);
    i = 2;
  }
  std::string name;
  bool set_name = false;
  for (; i < args.size(); ++i) {
    bool more = i + 1 < args.size();
    if (EqualsIgnoreCase(args[i], "AUTH") && i + 2 < args.size()) {
      if (!CheckAuth(server, ctx, args[i + 1], args[i + 2])) return;
      i += 2;
    } else if (EqualsIgnoreCase(args[i], "SETNAME") && more) {
      name = args[++i];
      set_name = true;
    } else {
      ctx.reply.Error(
          absl::StrCat("ERR Syntax error in HELLO option '", args[i], "'"));
      return;
    }
  }
  if (!ctx.session.authenticated) {
    ctx.reply.Error(
        "NOAUTH HELLO must be called with the client already authenticated, "
        "otherwise the HELLO <proto> AUTH <user> <pass> option can be used "
        "to authenticate the client and select the RESP protocol version at "
        "the same time");
    return;
  }
  if (set_name) {
    ctx.session.name = name;
    if (auto entry = server.network().clients().Find(ctx.session.id)) {
      entry->set_name(name);
    }
  }
  ctx.session.protocol = protocol;
  ctx.reply.set_protocol(protocol);
  ctx.reply.MapHeader(7);
  ctx.reply.Bulk("server");
  ctx.reply.Bulk("redis");
  ctx.reply.Bulk("version");
  ctx.reply.Bulk(kRedisCompatibleVersion);
  ctx.reply.Bulk("proto");
  ctx.reply.Integer(protocol);
  ctx.reply.Bulk("id");
  ctx.reply.Integer(static_cast<int64_t>(ctx.session.id));
  ctx.reply.Bulk("mode");
  ctx.reply.Bulk("standalone");
  ctx.reply.Bulk("role");
  ctx.reply.Bulk("master");
  ctx.reply.Bulk("modules");
  ctx.reply.ArrayHeader(0);
}

void Reset(QdbServerImpl& server, CommandContext& ctx) {
  server.ResetTransaction(ctx.session);
  server.pubsub().UnsubscribeAll(ctx.session);
  server.tracking().Disable(ctx.session);
  server.monitors().Stop(ctx.session);
  ctx.session.db = 0;
  ctx.session.protocol = 2;
  ctx.reply.set_protocol(2);
  ctx.session.name.clear();
  // Back to the default user, authenticated only if it needs no password.
  ctx.session.user = "default";
  ctx.session.acl_user = nullptr;
  ctx.session.authenticated = server.acl().DefaultNeedsNoAuth();
  if (auto e = server.network().clients().Find(ctx.session.id)) {
    e->set_user("default");
    e->set_name("");
  }
  ctx.reply.SimpleString("RESET");
}

// COMMAND [COUNT | INFO name... | DOCS name... | LIST | GETKEYS cmd args...]
// A container with a subcommand table (CLUSTER) lists its subcommands' info
// in the last field; a subcommand's own info shows Redis' tip
// nondeterministic_output where its spec is flagged random.
void WriteCommandInfo(const CommandSpec& spec, resp::ReplyWriter& reply,
                      bool subcommand = false) {
  reply.ArrayHeader(10);
  reply.Bulk(spec.name);
  reply.Integer(spec.arity);
  auto flags = FlagNames(spec.flags);
  reply.SetHeader(flags.size());
  for (auto f : flags) reply.SimpleString(f);
  reply.Integer(spec.first_key);
  reply.Integer(spec.last_key);
  reply.Integer(spec.key_step);
  const auto categories = AclCategoriesOf(spec.name, spec);
  reply.SetHeader(categories.size());
  for (std::string_view c : categories) {
    std::string name = "@";
    name.append(c.data(), c.size());
    reply.SimpleString(name);
  }
  if (subcommand && spec.has(kCmdRandom)) {
    reply.SetHeader(1);
    reply.Bulk("nondeterministic_output");
  } else {
    reply.SetHeader(0);  // tips
  }
  reply.SetHeader(0);  // key specs
  // Subcommands: an empty set, or an array of their info.
  const std::span<const CommandSpec> subs =
      subcommand ? std::span<const CommandSpec>() : SubcommandSpecs(spec.name);
  if (subs.empty()) {
    reply.SetHeader(0);
    return;
  }
  reply.ArrayHeader(subs.size());
  for (const CommandSpec& sub : subs) WriteCommandInfo(sub, reply, true);
}

// The spec COMMAND INFO names: a command, or "container|sub" for a
// subcommand of a container with a subcommand table; nullptr when unknown.
const CommandSpec* InfoSpec(QdbServerImpl& server, std::string_view name,
                            bool* subcommand) {
  *subcommand = false;
  const size_t bar = name.find('|');
  if (bar == std::string_view::npos) {
    const auto* e = server.table().Find(name);
    return e != nullptr ? e->spec : nullptr;
  }
  const auto* e = server.table().Find(name.substr(0, bar));
  if (e == nullptr) return nullptr;
  const CommandSpec* sub = FindSubcommandSpec(
      *e->spec,
      {std::string(name.substr(0, bar)), std::string(name.substr(bar + 1))});
  *subcommand = sub != nullptr;
  return sub;
}

// CLUSTER on a server without cluster support, as redis-server 7.0 with
// cluster-enabled no: the dispatcher has checked the subcommand and its
// arity, then every subcommand (HELP too) gets the same error.
void Cluster(CommandContext& ctx) {
  ctx.reply.Error("ERR This instance has cluster support disabled");
}

void Command(QdbServerImpl& server, CommandContext& ctx) {
  auto entries = server.table().Entries();
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
    return a->spec->name < b->spec->name;
  });
  if (ctx.args.size() == 1) {
    ctx.reply.ArrayHeader(entries.size());
    for (const auto* e : entries) WriteCommandInfo(*e->spec, ctx.reply);
    return;
  }
  std::string sub = ToLower(ctx.args[1]);
  if ((sub == "count" && ctx.args.size() != 2) ||
      ((sub == "getkeys" || sub == "getkeysandflags") &&
       ctx.args.size() < 4)) {  // Redis 7.0: -4
    ctx.reply.Error(WrongArityError("command|" + sub));
  } else if (sub == "count") {
    ctx.reply.Integer(static_cast<int64_t>(entries.size()));
  } else if (sub == "list") {
    // LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: no
    // modules here, so that filter matches nothing.
    std::string filter =
        ctx.args.size() == 5 && ToLower(ctx.args[2]) == "filterby"
            ? ToLower(ctx.args[3])
            : "";
    if (ctx.args.size() != 2 && filter != "module" && filter != "aclcat" &&
        filter != "pattern") {
      ctx.reply.Error("ERR syntax error");
      return;
    }
    // Like Redis, subcommands ("config|get") are listed and filtered too.
    std::vector<std::string> names;
    for (const auto* e : entries) {
      std::vector<std::string> full = {std::string(e->spec->name)};
      for (std::string_view s : SubcommandsOf(e->spec->name)) {
        full.push_back(absl::StrCat(full[0], "|", std::string(s)));
      }
      for (std::string& name : full) {
        if (filter == "aclcat") {
          const auto cats = AclCategoriesOf(name, *e->spec);
          if (std::none_of(cats.begin(), cats.end(), [&](std::string_view c) {
                return EqualsIgnoreCase(c, ctx.args[4]);
              })) {
            continue;
          }
        }
        if (filter.empty() || filter == "aclcat" ||
            (filter == "pattern" &&
             GlobMatch(ctx.args[4], name, /*nocase=*/true))) {
          names.push_back(std::move(name));
        }
      }
    }
    ctx.reply.ArrayHeader(names.size());
    for (std::string_view name : names) ctx.reply.Bulk(name);
  } else if (sub == "info") {
    if (ctx.args.size() == 2) {
      ctx.reply.ArrayHeader(entries.size());
      for (const auto* e : entries) WriteCommandInfo(*e->spec, ctx.reply);
      return;
    }
    ctx.reply.ArrayHeader(ctx.args.size() - 2);
    for (size_t i = 2; i < ctx.args.size(); ++i) {
      bool subcommand = false;
      if (const CommandSpec* spec =
              InfoSpec(server, ctx.args[i], &subcommand)) {
        WriteCommandInfo(*spec, ctx.reply, subcommand);
      } else {
        ctx.reply.Null();  // Redis 7: $-1 (RESP2), _ (RESP3)
      }
    }
  } else if (sub == "docs") {
    std::vector<const CommandSpec*> specs;
    if (ctx.args.size() == 2) {
      for (const auto* e : entries) specs.push_back(e->spec);
    } else {
      for (size_t i = 2; i < ctx.args.size(); ++i) {
        if (const auto* e = server.table().Find(ctx.args[i])) {
          specs.push_back(e->spec);
        }
      }
    }
    ctx.reply.MapHeader(specs.size());
    for (const auto* spec : specs) {
      ctx.reply.Bulk(spec->name);
      ctx.reply.MapHeader(3);
      ctx.reply.Bulk("summary");
      ctx.reply.Bulk("");
      ctx.reply.Bulk("since");
      ctx.reply.Bulk("1.0.0");
      ctx.reply.Bulk("group");
      ctx.reply.Bulk(spec->has(kCmdSlot) ? "slots" : "generic");
    }
  } else if (sub == "getkeys" || sub == "getkeysandflags") {
    CommandGetKeys(ctx, sub == "getkeysandflags");
  } else if (sub == "help") {
    CommandHelp(ctx);
  } else {
    ctx.reply.Error(UnknownSubcommandError("command", ctx.args[1]));
  }
}

bool ValidClientName(std::string_view name) {
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c >= '!' && c <= '~'; });
}

void ClientCommand(QdbServerImpl& server, CommandContext& ctx) {
  auto& args = ctx.args;
  std::string sub = ToLower(args[1]);
  auto& registry = server.network().clients();
  if (sub == "list" || sub == "info") {
    // Its own line shows the command being run (cmd=client|list).
    if (auto e = registry.Find(ctx.session.id)) {
      e->last_command.store(ctx.session.last_command);
    }
  }
  auto arity = [&](bool ok) {
    if (!ok) {
      ctx.reply.Error(absl::StrCat("ERR wrong number of arguments for 'client|",
                                   sub, "' command"));
    }
    return ok;
  };
  if (sub == "id") {
    if (arity(args.size() == 2)) ctx.reply.Integer(ctx.session.id);
  } else if (sub == "reply") {
    // ON answers +OK; OFF and SKIP answer nothing (the connection drops
    // the replies, never pushed messages).
    if (!arity(args.size() == 3)) return;
    const std::string mode = ToLower(args[2]);
    if (mode == "on") {
      // Also clears a SKIP aimed at this very command, as Redis does.
      ctx.session.reply_off = false;
      ctx.session.reply_skip_next = false;
      ctx.session.reply_skip = false;
      ctx.reply.Ok();
    } else if (mode == "off") {
      ctx.session.reply_off = true;
    } else if (mode == "skip") {
      if (!ctx.session.reply_off) ctx.session.reply_skip_next = true;
    } else {
      ctx.reply.Error("ERR syntax error");
    }
  } else if (sub == "getname") {
    if (!arity(args.size() == 2)) return;
    if (ctx.session.name.empty()) {
      ctx.reply.Null();
    } else {
      ctx.reply.Bulk(ctx.session.name);
    }
  } else if (sub == "setname") {
    if (!arity(args.size() == 3)) return;
    if (!ValidClientName(args[2])) {
      ctx.reply.Error(
          "ERR Client names cannot contain spaces, newlines or special "
          "characters.");
      return;
    }
    ctx.session.name = args[2];
    if (auto e = registry.Find(ctx.session.id)) e->set_name(args[2]);
    ctx.reply.Ok();
  } else if (sub == "list" || sub == "info") {
    std::string text;
    if (sub == "info") {
      if (!arity(args.size() == 2)) return;
      if (auto e = registry.Find(ctx.session.id))
        text = net::ClientInfoLine(*e);
    } else {
      std::set<uint64_t> ids;
      for (size_t i = 2; i < args.size(); ++i) {
        if (EqualsIgnoreCase(args[i], "ID")) continue;
        uint64_t id;
        if (i == 2 || !absl::SimpleAtoi(args[i], &id)) {
          if (EqualsIgnoreCase(args[2], "TYPE") && args.size() == 4) break;
          ctx.reply.Error("ERR syntax error");
          return;
        }
        ids.insert(id);
      }
      for (const auto& e : registry.Snapshot()) {
        if (ids.empty() || ids.count(e->id)) text += net::ClientInfoLine(*e);
      }
    }
    ctx.reply.Bulk(text);
  } else if (sub == "unblock") {
    // CLIENT UNBLOCK id [TIMEOUT|ERROR], checked in redis-server's order.
    if (!arity(args.size() >= 3)) return;
    if (args.size() > 4) {  // past the table's arity, redis' generic text
      ctx.reply.Error(
          absl::StrCat("ERR unknown subcommand or wrong number of arguments "
                       "for '",
                       args[1], "'. Try CLIENT HELP."));
      return;
    }
    bool error = false;
    if (args.size() == 4) {
      const std::string how = ToLower(args[3]);
      if (how != "timeout" && how != "error") {
        ctx.reply.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        return;
      }
      error = how == "error";
    }
    int64_t id;
    if (!qdb::ParseInt64(args[2], &id)) {
      ctx.reply.Error("ERR value is not an integer or out of range");
      return;
    }
    auto e = id > 0 ? registry.Find(static_cast<uint64_t>(id)) : nullptr;
    if (e == nullptr || !e->blocked.load() || !e->unblock) {
      return ctx.reply.Integer(0);
    }
    e->unblock(error);
    ctx.reply.Integer(1);
  } else if (sub == "kill") {
    // CLIENT KILL addr | CLIENT KILL [ID id] [ADDR addr] [LADDR addr]
    // [SKIPME yes|no]
    if (args.size() == 2) {
      ctx.reply.Error(WrongArityError("client|kill"));
      return;
    }
    if (args.size() == 3) {
      for (const auto& e : registry.Snapshot()) {
        if (e->peer == args[2]) {
          e->kill();
          ctx.reply.Ok();
          return;
        }
      }
      ctx.reply.Error("ERR No such client");
      return;
    }
    absl::StatusOr<net::ClientKillFilter> filter = net::ParseClientKill(args);
    if (!filter.ok()) {
      ctx.reply.Error(std::string(filter.status().message()));
      return;
    }
    if (filter->user && server.acl().Find(*filter->user) == nullptr) {
      ctx.reply.Error(absl::StrCat("ERR No such user '", *filter->user, "'"));
      return;
    }
    int64_t killed = 0;
    if (filter->type == "master") {
      killed = server.replication().KillMasterLink() ? 1 : 0;
      ctx.reply.Integer(killed);
      return;
    }
    for (const auto& e : registry.Snapshot()) {
      if (!filter->Matches(*e, ctx.session.id)) continue;
      e->kill();
      ++killed;
    }
    ctx.reply.Integer(killed);
  } else if (sub == "pause") {
    if (args.size() > 4) {
      ctx.reply.Error(
          absl::StrCat("ERR unknown subcommand or wrong number of arguments "
                       "for '",
                       args[1], "'. Try CLIENT HELP."));
      return;
    }
    if (arity(args.size() >= 3)) server.client_pause().PauseCommand(ctx);
  } else if (sub == "unpause") {
    if (!arity(args.size() == 2)) return;
    server.client_pause().Unpause();
    ctx.reply.Ok();
  } else if (sub == "no-evict") {
    // Accepted and shown (flags=e): qdb-server never evicts clients.
    if (!arity(args.size() == 3)) return;
    const std::string mode = ToLower(args[2]);
    if (mode != "on" && mode != "off") {
      ctx.reply.Error("ERR syntax error");
      return;
    }
    if (auto e = registry.Find(ctx.session.id)) {
      e->no_evict.store(mode == "on", std::memory_order_relaxed);
    }
    ctx.reply.Ok();
  } else if (sub == "tracking") {
    if (arity(args.size() >= 3)) server.tracking().ClientSubcommand(sub, ctx);
  } else if (sub == "caching") {
    if (arity(args.size() == 3)) server.tracking().ClientSubcommand(sub, ctx);
  } else if (sub == "getredir" || sub == "trackinginfo") {
    if (arity(args.size() == 2)) server.tracking().ClientSubcommand(sub, ctx);
  } else if (sub == "help") {
    ctx.reply.BulkArray({"CLIENT <subcommand> [<arg> ...]",
                         "ID, GETNAME, SETNAME, LIST, INFO, KILL, UNBLOCK, "
                         "HELP"});
  } else {
    ctx.reply.Error(UnknownSubcommandError("client", args[1]));
  }
}

void ConfigCommand(QdbServerImpl& server, CommandContext& ctx) {
  auto& args = ctx.args;
  std::string sub = ToLower(args[1]);
  auto& config = server.config();
  if (sub == "get") {
    if (args.size() < 3) {
      ctx.reply.Error("ERR wrong number of arguments for 'config|get' command");
      return;
    }
    std::vector<std::pair<std::string, std::string>> found;
    std::set<std::string> seen;
    for (size_t i = 2; i < args.size(); ++i) {
      for (auto& kv : config.Match(args[i])) {
        if (seen.insert(kv.first).second) found.push_back(std::move(kv));
      }
    }
    ctx.reply.MapHeader(found.size());
    for (const auto& [name, value] : found) {
      ctx.reply.Bulk(name);
      ctx.reply.Bulk(value);
    }
  } else if (sub == "set") {
    if (args.size() < 4 || args.size() % 2 != 0) {
      ctx.reply.Error("ERR wrong number of arguments for 'config|set' command");
      return;
    }
    for (size_t i = 2; i < args.size(); i += 2) {
      if (!config.Has(args[i])) {
        ctx.reply.Error(absl::StrCat(
            "ERR Unknown option or number of arguments for CONFIG SET - '",
            args[i], "'"));
        return;
      }
    }
    std::vector<std::pair<std::string, std::string>> changes;
    for (size_t i = 2; i < args.size(); i += 2) {
      changes.emplace_back(args[i], args[i + 1]);
    }
    const Config::Caller caller = net::IsLocalPeer(ctx.session.peer)
                                      ? Config::Caller::kLocalClient
                                      : Config::Caller::kClient;
    std::string failed;
    absl::Status s = config.SetMany(changes, caller, &failed);
    if (!s.ok()) {
      ctx.reply.Error(
          absl::StrCat("ERR CONFIG SET failed (possibly related to argument '",
                       failed, "') - ", s.message()));
      return;
    }
    ctx.reply.Ok();
  } else if (sub == "resetstat" && args.size() == 2) {
    server.ResetStats();
    ctx.reply.Ok();
  } else if (sub == "rewrite" && args.size() == 2) {
    absl::Status s = config.Rewrite();
    if (!s.ok()) {
      ctx.reply.Error(absl::StrCat("ERR ", s.message()));
    } else {
      ctx.reply.Ok();
    }
  } else if (sub == "help") {
    ctx.reply.BulkArray({"CONFIG <subcommand> [<arg> ...]",
                         "GET, SET, RESETSTAT, REWRITE, HELP"});
  } else if (sub == "resetstat" || sub == "rewrite") {
    ctx.reply.Error(absl::StrCat("ERR wrong number of arguments for 'config|",
                                 sub, "' command"));
  } else {
    ctx.reply.Error(UnknownSubcommandError("config", args[1]));
  }
}

void Info(QdbServerImpl& server, CommandContext& ctx) {
  std::vector<std::string> sections;
  bool all = false;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string s = ToLower(ctx.args[i]);
    if (s == "all" || s == "everything") {
      all = true;
    } else if (s == "default") {
      for (const auto& d : server.info_sections()) sections.push_back(d);
    } else {
      sections.push_back(s);
    }
  }
  if (ctx.args.size() == 1) sections = server.info_sections();
  if (all) {
    sections = server.info_sections();
    // After cpu, around errorstats, as redis-server orders them.
    sections.insert(sections.begin() + 7, "commandstats");
    sections.insert(sections.begin() + 9, "latencystats");
    sections.push_back("rocksdb");
  }
  std::string text;
  for (const auto& section : sections) {
    std::string part;
    server.AppendInfo(section, &part);
    if (part.empty()) continue;
    if (!text.empty()) text += "\r\n";
    text += part;
  }
  ctx.reply.Bulk(text);
}

void Shutdown(QdbServerImpl& server, CommandContext& ctx) {
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string opt = ToLower(ctx.args[i]);
    if (opt != "nosave" && opt != "save" && opt != "now" && opt != "force" &&
        opt != "abort") {
      ctx.reply.Error("ERR syntax error");
      return;
    }
    if (opt == "abort") {
      ctx.reply.Error("ERR No shutdown in progress.");
      return;
    }
  }
  spdlog::info("SHUTDOWN requested by client {} ({})", ctx.session.id,
               ctx.session.peer);
  // Like redis-server, no reply: the connection closes as the server stops.
  ctx.session.close_after_reply = true;
  server.RequestStop();
}

}  // namespace

absl::Status RegisterServerCommands(QdbServerImpl& server,
                                    CommandTable& table) {
  auto with_server = [&server](void (*fn)(QdbServerImpl&, CommandContext&)) {
    return [&server, fn](CommandContext& ctx) { fn(server, ctx); };
  };
  const std::pair<const char*, CommandHandler> handlers[] = {
      {"ping", Ping},
      {"echo", Echo},
      {"quit", Quit},
      {"time", Time},
      {"reset", with_server(Reset)},
      {"monitor", [&server](CommandContext& c) { server.monitors().Start(c); }},
      {"multi",
       with_server([](QdbServerImpl& s, CommandContext& c) { s.Multi(c); })},
      {"exec",
       with_server([](QdbServerImpl& s, CommandContext& c) { s.Exec(c); })},
      {"discard",
       with_server([](QdbServerImpl& s, CommandContext& c) { s.Discard(c); })},
      {"watch",
       with_server([](QdbServerImpl& s, CommandContext& c) { s.Watch(c); })},
      {"unwatch",
       with_server([](QdbServerImpl& s, CommandContext& c) { s.Unwatch(c); })},
      {"auth", with_server(Auth)},
      {"hello", with_server(Hello)},
      {"command", with_server(Command)},
      {"client", with_server(ClientCommand)},
      {"cluster", Cluster},
      {"config", with_server(ConfigCommand)},
      {"info", with_server(Info)},
      {"shutdown", with_server(Shutdown)},
      {"sync", with_server([](QdbServerImpl& s, CommandContext& c) {
         s.replication().Sync(c);
       })},
      {"psync", with_server([](QdbServerImpl& s, CommandContext& c) {
         s.replication().Sync(c);
       })},
      {"replconf", with_server([](QdbServerImpl& s, CommandContext& c) {
         s.replication().Replconf(c);
       })},
      {"wait", with_server([](QdbServerImpl& s, CommandContext& c) {
         s.replication().Wait(c);
       })},
      {"replicaof", with_server([](QdbServerImpl& s, CommandContext& c) {
         s.replication().ReplicaOf(c);
       })},
      {"slaveof", with_server([](QdbServerImpl& s, CommandContext& c) {
         s.replication().ReplicaOf(c);
       })},
      {"role", with_server([](QdbServerImpl& s, CommandContext& c) {
         s.replication().Role(c);
       })},
  };
  for (const char* name : {"blpop", "brpop", "brpoplpush", "blmove", "blmpop",
                           "bzpopmin", "bzpopmax", "bzmpop"}) {
    absl::Status s = table.Register(
        name, [&server](CommandContext& ctx) { server.Blocking(ctx); });
    if (!s.ok()) return s;
  }
  for (bool group : {false, true}) {
    absl::Status s = table.Register(group ? "xreadgroup" : "xread",
                                    [&server, group](CommandContext& ctx) {
                                      server.StreamRead(ctx, group);
                                    });
    if (!s.ok()) return s;
  }
  for (const auto& [name, handler] : handlers) {
    absl::Status s = table.Register(name, handler);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace reborn::server
