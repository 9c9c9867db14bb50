#include "server/subcommands.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"

namespace reborn::server {
namespace {

struct Container {
  std::string_view name;
  std::vector<std::string_view> subs;
};

// From redis 7.0's src/commands/*.json ("container" entries), sorted.
const std::vector<Container>& Containers() {
  static const auto* kContainers = new std::vector<Container>{
      {"acl",
       {"cat", "deluser", "dryrun", "genpass", "getuser", "help", "list",
        "load", "log", "save", "setuser", "users", "whoami"}},
      {"client",
       {"caching", "getname", "getredir", "help", "id", "info", "kill", "list",
        "no-evict", "pause", "reply", "setname", "tracking", "trackinginfo",
        "unblock", "unpause"}},
      {"cluster",
       {"addslots",
        "addslotsrange",
        "bumpepoch",
        "count-failure-reports",
        "countkeysinslot",
        "delslots",
        "delslotsrange",
        "failover",
        "flushslots",
        "forget",
        "getkeysinslot",
        "help",
        "info",
        "keyslot",
        "links",
        "meet",
        "myid",
        "nodes",
        "replicas",
        "replicate",
        "reset",
        "saveconfig",
        "set-config-epoch",
        "setslot",
        "shards",
        "slaves",
        "slots"}},
      {"command",
       {"count", "docs", "getkeys", "getkeysandflags", "help", "info", "list"}},
      {"config", {"get", "help", "resetstat", "rewrite", "set"}},
      {"function",
       {"delete", "dump", "flush", "help", "kill", "list", "load", "restore",
        "stats"}},
      {"latency",
       {"doctor", "graph", "help", "histogram", "history", "latest", "reset"}},
      {"memory", {"doctor", "help", "malloc-stats", "purge", "stats", "usage"}},
      {"module", {"help", "list", "load", "loadex", "unload"}},
      {"object", {"encoding", "freq", "help", "idletime", "refcount"}},
      {"pubsub",
       {"channels", "help", "numpat", "numsub", "shardchannels",
        "shardnumsub"}},
      {"script", {"debug", "exists", "flush", "help", "kill", "load"}},
      {"slowlog", {"get", "help", "len", "reset"}},
      {"xgroup",
       {"create", "createconsumer", "delconsumer", "destroy", "help", "setid"}},
      {"xinfo", {"consumers", "groups", "help", "stream"}},
  };
  return *kContainers;
}

}  // namespace

std::span<const std::string_view> SubcommandsOf(std::string_view command) {
  for (const Container& c : Containers()) {
    if (EqualsIgnoreCase(c.name, command)) return c.subs;
  }
  return {};
}

std::string FullCommandName(const CommandSpec& spec,
                            const std::vector<std::string>& args) {
  std::span<const std::string_view> subs = SubcommandsOf(spec.name);
  if (subs.empty()) return std::string(spec.name);
  if (args.size() < 2) return "";
  const std::string sub = ToLower(args[1]);
  if (!std::binary_search(subs.begin(), subs.end(), std::string_view(sub))) {
    return "";
  }
  return absl::StrCat(std::string(spec.name), "|", sub);
}

}  // namespace reborn::server
