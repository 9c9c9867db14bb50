#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "command/command_table.h"
#include "proxy/proxy_impl.h"
#include "proxy/session.h"
#include "routing/merge.h"
#include "util/glob.h"

// CONFIG through the proxy: GET answers the proxy's own settings (Redis' name
// where one means the same, the reborn-proxy flag's name otherwise); the
// settings are fixed at start, so SET, REWRITE and RESETSTAT are refused with
// the reason. The stores' settings are read on each qdb-server.
namespace reborn::proxy {
namespace {

std::string LimitText(const ProxyOptions::OutputLimit& l) {
  return absl::StrCat(l.hard, " ", l.soft, " ",
                      absl::ToInt64Seconds(l.soft_time));
}

std::string HostOf(const std::string& addr) {
  const size_t colon = addr.rfind(':');
  return colon == std::string::npos ? addr : addr.substr(0, colon);
}

// Name/value pairs in a stable order. backend-password is left out on
// purpose: a proxy client must not learn the stores' password.
std::vector<std::pair<std::string, std::string>> Settings(
    const ProxyImpl& proxy) {
  const ProxyOptions& o = proxy.options();
  auto ms = [](absl::Duration d) {
    return std::to_string(absl::ToInt64Milliseconds(d));
  };
  return {
      {"bind", HostOf(o.addr)},
      {"port", std::to_string(proxy.port())},
      {"databases", "1"},
      {"requirepass", o.requirepass},
      {"maxclients", std::to_string(o.max_clients)},
      {"client-output-buffer-limit",
       absl::StrCat("normal ", LimitText(o.output_limit_normal), " pubsub ",
                    LimitText(o.output_limit_pubsub))},
      {"client-query-buffer-limit", std::to_string(o.query_buffer_limit)},
      {"cluster-enabled", "yes"},
      {"threads", std::to_string(proxy.thread_count())},
      {"admin-addr", o.admin_addr},
      {"read-from-replicas", o.read_from_replicas ? "yes" : "no"},
      {"backend-connections", std::to_string(o.backend_connections)},
      {"backend-timeout-ms", ms(o.backend_timeout)},
      {"connect-timeout-ms", ms(o.connect_timeout)},
      {"hold-timeout-ms", ms(o.hold_timeout)},
      {"keepalive-ms", ms(o.keepalive)},
      {"script-cache-bytes", std::to_string(o.script_cache_bytes)},
  };
}

}  // namespace

void Session::ConfigCmd(std::vector<std::string>& args) {
  const size_t n = args.size();
  if (n < 2) {
    ReplyError(WrongArityError("config"));
    return;
  }
  const std::string sub = ToLower(args[1]);
  if (sub == "get") {
    if (n < 3) {
      ReplyError(WrongArityError("config|get"));
      return;
    }
    // Redis 7: several patterns, each setting once.
    std::string body;
    size_t pairs = 0;
    absl::flat_hash_set<std::string> seen;
    const auto settings = Settings(*proxy_);
    for (size_t i = 2; i < n; ++i) {
      for (const auto& [name, value] : settings) {
        if (!GlobMatch(args[i], name, /*nocase=*/true)) continue;
        if (!seen.insert(name).second) continue;
        absl::StrAppend(&body, routing::BulkReply(name),
                        routing::BulkReply(value));
        ++pairs;
      }
    }
    Reply(absl::StrCat("*", 2 * pairs, "\r\n", body));
  } else if (sub == "help" && n == 2) {
    const char* lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return the reborn-proxy settings matching the pattern.",
        "SET, REWRITE and RESETSTAT are not supported by reborn-proxy: its",
        "settings are fixed at start; run them on each qdb-server.",
        "HELP",
        "    Print this help."};
    std::string out = absl::StrCat("*", std::size(lines), "\r\n");
    for (const char* l : lines) absl::StrAppend(&out, "+", l, "\r\n");
    Reply(out);
  } else if (sub == "set" || sub == "rewrite" || sub == "resetstat") {
    ReplyError(absl::StrCat(
        "ERR CONFIG ", absl::AsciiStrToUpper(sub),
        " is not supported by reborn-proxy: its settings are fixed at start "
        "(restart it with new flags); run it on each qdb-server for theirs"));
  } else {
    ReplyError(absl::StrCat("ERR unknown subcommand '", args[1],
                            "'. Try CONFIG HELP."));
  }
}

}  // namespace reborn::proxy
