// DEBUG, the subcommands of redis-server's that make sense for qdb-server
// (docs/introspection.md). Gated by enable-debug-command in Dispatch.
#include <chrono>
#include <cstdlib>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "net/server.h"
#include "server/qdb_server_impl.h"

namespace reborn::server {
namespace {

void Debug(QdbServerImpl& server, CommandContext& ctx) {
  const std::string sub = absl::AsciiStrToLower(ctx.args[1]);
  if (sub == "help" && ctx.args.size() == 2) {
    ctx.reply.BulkArray({
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANGE-REPL-ID",
        "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication "
        "subsystem.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "HELP",
        "    Print this help.",
    });
  } else if (sub == "change-repl-id" && ctx.args.size() == 2) {
    server.replication().ChangeReplid();
    ctx.reply.Ok();
  } else if (sub == "sleep" && ctx.args.size() == 3) {
    // As redis-server: strtod, what does not parse sleeps 0 seconds.
    const double secs = std::strtod(ctx.args[2].c_str(), nullptr);
    if (secs > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(secs));
    }
    ctx.reply.Ok();
  } else {
    ctx.reply.Error(absl::StrCat(
        "ERR unknown subcommand or wrong number of arguments for '",
        ctx.args[1].substr(0, 128), "'. Try ",
        absl::AsciiStrToUpper(ctx.args[0]), " HELP."));
  }
}

}  // namespace

bool DebugCommandAllowed(QdbServerImpl& server, const Session& session) {
  const std::string allowed = server.config().GetString("enable-debug-command");
  return allowed == "yes" ||
         (allowed == "local" && net::IsLocalPeer(session.peer));
}

absl::Status RegisterDebugCommand(QdbServerImpl& server, CommandTable& table) {
  return table.Register("debug",
                        [&server](CommandContext& ctx) { Debug(server, ctx); });
}

}  // namespace reborn::server
