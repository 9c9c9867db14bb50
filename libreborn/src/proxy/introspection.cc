#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "command/command_table.h"
#include "net/client_info.h"
#include "proxy/cluster_face.h"
#include "proxy/session.h"
#include "reborn/version.h"
#include "routing/merge.h"

// What the proxy tells about itself: INFO, CLIENT, ROLE and the reasons of
// the commands it refuses.
namespace reborn::proxy {
namespace {

// The proxy's own resident memory (/proc/self/statm), 0 when unknown.
uint64_t OwnRss() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::string OsText() {
  struct utsname u {};
  if (uname(&u) != 0) return "unknown";
  return absl::StrCat(u.sysname, " ", u.release, " ", u.machine);
}

bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

}  // namespace

void Session::Info(std::vector<std::string>& args) {
  absl::flat_hash_set<std::string> sections;
  for (size_t i = 1; i < args.size(); ++i) sections.insert(ToLower(args[i]));
  const bool all = sections.empty() || sections.contains("default") ||
                   sections.contains("all") || sections.contains("everything");
  auto want = [&](std::string_view s) {
    return all || sections.contains(std::string(s));
  };
  // The proxy's own sections are made now; memory, stats and keyspace need
  // the groups' numbers (summed).
  std::string head;
  if (want("server")) {
    const int64_t uptime =
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::steady_clock::now() - proxy_->started_at())
            .count();
    absl::StrAppend(
        &head, "# Server\r\nredis_version:", kRedisCompatibleVersion,
        "\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n",
        "redis_build_id:0\r\nredis_mode:cluster\r\nos:", OsText(),
        "\r\narch_bits:", sizeof(void*) * 8,
        "\r\nmultiplexing_api:epoll\r\nprocess_id:", getpid(),
        "\r\nprocess_supervised:no\r\nrun_id:",
        ClusterNodeId(absl::StrCat(getpid(), "@", SelfAddr())),
        "\r\ntcp_port:", proxy_->port(),
        "\r\nserver_time_usec:", absl::GetCurrentTimeNanos() / 1000,
        "\r\nuptime_in_seconds:", uptime, "\r\nuptime_in_days:", uptime / 86400,
        "\r\nhz:10\r\nconfigured_hz:10\r\nio_threads_active:0\r\n",
        "reborn_version:", kVersion, "\r\nreborn_mode:proxy\r\n\r\n");
  }
  if (want("clients")) {
    int64_t blocked = 0;
    for (const auto& e : proxy_->clients().Snapshot()) {
      if (e->blocked.load()) ++blocked;
    }
    absl::StrAppend(
        &head,
        "# Clients\r\nconnected_clients:", proxy_->counters().clients.load(),
        "\r\ncluster_connections:0\r\nmaxclients:",
        proxy_->options().max_clients, "\r\nblocked_clients:", blocked,
        "\r\ntracking_clients:0\r\n\r\n");
  }
  std::string proxy_section;
  if (want("proxy")) {
    auto table = worker_->table();
    absl::StrAppend(
        &proxy_section,
        "# Proxy\r\ntopology_version:", table ? table->version() : 0,
        "\r\ngroups:", table ? table->groups().size() : 0,
        "\r\nbackend_connections:",
        proxy_->backend_counters().connections.load(),
        "\r\nauth_failures:", proxy_->auth_failures().total(), "\r\n\r\n");
  }
  if (want("cluster")) {
    absl::StrAppend(&proxy_section, "# Cluster\r\ncluster_enabled:1\r\n\r\n");
  }
  const bool memory = want("memory"), stats = want("stats"),
             keyspace = want("keyspace");
  const uint64_t total_connections = proxy_->clients().total_connections();
  const uint64_t rejected = proxy_->clients().rejected_connections();
  const uint64_t commands = proxy_->counters().commands.load();
  auto assemble = [head, proxy_section, memory, stats, keyspace,
                   total_connections, rejected,
                   commands](const std::vector<std::string>& parts) {
    std::string out = head;
    if (memory) {
      const int64_t used =
          routing::SumInfoField(parts, "used_memory").value_or(0);
      const int64_t rss =
          routing::SumInfoField(parts, "used_memory_rss").value_or(0);
      const uint64_t own = OwnRss();
      absl::StrAppend(&out, "# Memory\r\nused_memory:", used,
                      "\r\nused_memory_human:", routing::BytesToHuman(used),
                      "\r\nused_memory_rss:", rss,
                      "\r\nused_memory_rss_human:", routing::BytesToHuman(rss),
                      "\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\n",
                      "maxmemory_policy:noeviction\r\nmem_allocator:libc\r\n",
                      "proxy_used_memory_rss:", own,
                      "\r\nproxy_used_memory_rss_human:",
                      routing::BytesToHuman(own), "\r\n\r\n");
    }
    if (stats) {
      absl::StrAppend(
          &out, "# Stats\r\ntotal_connections_received:", total_connections,
          "\r\ntotal_commands_processed:", commands,
          "\r\nrejected_connections:", rejected, "\r\n");
      for (const char* field :
           {"total_net_input_bytes", "total_net_output_bytes", "expired_keys",
            "evicted_keys", "keyspace_hits", "keyspace_misses"}) {
        if (auto sum = routing::SumInfoField(parts, field)) {
          absl::StrAppend(&out, field, ":", *sum, "\r\n");
        }
      }
      out += "\r\n";
    }
    out += proxy_section;
    if (keyspace) out += routing::MergeKeyspace(parts);
    while (out.ends_with("\r\n\r\n")) out.resize(out.size() - 2);
    return routing::BulkReply(out);
  };
  if (!memory && !stats && !keyspace) {  // nothing to ask the groups
    Reply(assemble({}));
    return;
  }
  FanOut({"INFO"}, [assemble](Pending& pend) { return assemble(pend.parts); });
}

void Session::ClientCmd(std::vector<std::string>& args) {
  const std::string sub = args.size() > 1 ? ToLower(args[1]) : "";
  const size_t n = args.size();
  auto arity = [&](bool ok) {
    if (!ok) ReplyError(WrongArityError(absl::StrCat("client|", sub)));
    return ok;
  };
  if (n < 2) {
    ReplyError(WrongArityError("client"));
  } else if (sub == "id") {
    if (arity(n == 2)) Reply(absl::StrCat(":", id_, "\r\n"));
  } else if (sub == "getname") {
    if (arity(n == 2)) {
      Reply(name_.empty() ? std::string("$-1\r\n") : routing::BulkReply(name_));
    }
  } else if (sub == "setname") {
    if (!arity(n == 3)) return;
    if (!ValidClientName(args[2])) {
      ReplyError(
          "ERR Client names cannot contain spaces, newlines or special "
          "characters.");
      return;
    }
    name_ = args[2];
    entry_->set_name(name_);
    Reply("+OK\r\n");
  } else if (sub == "setinfo") {
    if (arity(n == 4)) Reply("+OK\r\n");
  } else if (sub == "info") {
    if (arity(n == 2)) Reply(routing::BulkReply(net::ClientInfoLine(*entry_)));
  } else if (sub == "list") {
    // CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...]
    std::string type;
    absl::flat_hash_set<uint64_t> ids;
    for (size_t i = 2; i < n; ++i) {
      if (EqualsIgnoreCase(args[i], "type") && i + 1 < n) {
        type = ToLower(args[++i]);
        if (type == "slave") type = "replica";
        if (type != "normal" && type != "master" && type != "replica" &&
            type != "pubsub") {
          ReplyError(absl::StrCat("ERR Unknown client type '", args[i], "'"));
          return;
        }
      } else if (EqualsIgnoreCase(args[i], "id") && i + 1 < n) {
        for (++i; i < n; ++i) {
          uint64_t id = 0;
          if (!absl::SimpleAtoi(args[i], &id) || id == 0) {
            ReplyError("ERR Invalid client ID");
            return;
          }
          ids.insert(id);
        }
      } else {
        ReplyError("ERR syntax error");
        return;
      }
    }
    std::string text;
    for (const auto& e : proxy_->clients().Snapshot()) {
      const bool pubsub = e->sub.load() + e->psub.load() > 0;
      if (!ids.empty() && !ids.contains(e->id)) continue;
      if ((type == "normal" && pubsub) || (type == "pubsub" && !pubsub) ||
          type == "master" || type == "replica") {
        continue;
      }
      text += net::ClientInfoLine(*e);
    }
    Reply(routing::BulkReply(text));
  } else if (sub == "kill") {
    if (!arity(n >= 3)) return;
    if (n == 3) {  // CLIENT KILL addr
      for (const auto& e : proxy_->clients().Snapshot()) {
        if (e->peer == args[2]) {
          e->kill();
          Reply("+OK\r\n");
          return;
        }
      }
      ReplyError("ERR No such client");
      return;
    }
    absl::StatusOr<net::ClientKillFilter> filter = net::ParseClientKill(args);
    if (!filter.ok()) {
      ReplyError(std::string(filter.status().message()));
      return;
    }
    int64_t killed = 0;
    for (const auto& e : proxy_->clients().Snapshot()) {
      if (!filter->Matches(*e, id_)) continue;
      if (e->id == id_) {
        close_after_reply_ = true;  // as Redis: the reply, then the close
      } else {
        e->kill();
      }
      ++killed;
    }
    Reply(absl::StrCat(":", killed, "\r\n"));
  } else if (sub == "help") {
    if (!arity(n == 2)) return;
    Reply(absl::StrCat(
        "*2\r\n",
        routing::BulkReply("CLIENT <subcommand> [<arg> ...] (reborn-proxy)"),
        routing::BulkReply(
            "ID, GETNAME, SETNAME, SETINFO, INFO, LIST, KILL, HELP: "
            "about the proxy's own client connections")));
  } else {
    ReplyError(absl::StrCat(
        "ERR CLIENT ", absl::AsciiStrToUpper(sub),
        " is not supported by reborn-proxy: it is about one backend "
        "connection, and the proxy pools them"));
  }
}

}  // namespace reborn::proxy
