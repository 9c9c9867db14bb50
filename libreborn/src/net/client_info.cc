#include "net/client_info.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "command/command_spec.h"

namespace reborn::net {

namespace {

// CLIENT LIST's flags, in redis-server's order (N when none).
std::string ClientFlags(const ClientEntry& e) {
  char flags[8];
  size_t n = 0;
  if (e.replica.load()) flags[n++] = 'S';
  if (e.sub.load() + e.psub.load() + e.ssub.load() > 0 && !e.replica.load()) {
    flags[n++] = 'P';
  }
  if (e.blocked.load()) flags[n++] = 'b';
  const uint32_t tracking = e.tracking.load();
  if (tracking & 1) flags[n++] = 't';
  if (tracking & 2) flags[n++] = 'R';
  if (tracking & 4) flags[n++] = 'B';
  if (e.no_evict.load()) flags[n++] = 'e';
  if (n == 0) flags[n++] = 'N';
  return std::string(flags, n);
}

}  // namespace

std::string ClientInfoLine(const ClientEntry& e) {
  const int64_t now = absl::GetCurrentTimeNanos() / 1000000;
  const char* cmd = e.last_command.load();
  return absl::StrCat(
      "id=", e.id, " addr=", e.peer, " laddr=", e.local,
      " fd=-1 name=", e.name(), " age=", (now - e.created_ms) / 1000,
      " idle=", (now - e.last_active_ms.load()) / 1000,
      " flags=", ClientFlags(e), " db=", e.db.load(), " sub=", e.sub.load(),
      " psub=", e.psub.load(), " ssub=", e.ssub.load(),
      " multi=-1 qbuf=", e.query_buffer.load(),
      " qbuf-free=", e.query_buffer_free.load(),
      " argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=",
      e.output_buffer.load(), " tot-mem=0 events=r cmd=", cmd,
      " user=", e.user(), " redir=", e.redirect.load(),
      " resp=", e.protocol.load(), "\n");
}

bool ClientKillFilter::Matches(const ClientEntry& e, uint64_t self) const {
  const bool is_pubsub = e.sub.load() + e.psub.load() + e.ssub.load() > 0;
  if (type == "pubsub" && (!is_pubsub || e.replica.load())) return false;
  if ((type == "normal" || type == "replica") &&
      ((type == "replica") != e.replica.load() ||
       (type == "normal" && is_pubsub))) {
    return false;
  }
  if (type == "master") return false;
  if (id != 0 && e.id != id) return false;
  if (!addr.empty() && e.peer != addr) return false;
  if (!laddr.empty() && e.local != laddr) return false;
  if (user && e.user() != *user) return false;
  if (skipme && e.id == self) return false;
  return true;
}

absl::StatusOr<ClientKillFilter> ParseClientKill(
    const std::vector<std::string>& args) {
  if (args.size() < 4 || args.size() % 2 != 0) {
    return absl::InvalidArgumentError("ERR syntax error");
  }
  ClientKillFilter f;
  for (size_t i = 2; i + 1 < args.size(); i += 2) {
    const std::string opt = ToLower(args[i]);
    if (opt == "id") {
      if (!absl::SimpleAtoi(args[i + 1], &f.id) || f.id == 0) {
        return absl::InvalidArgumentError(
            "ERR client-id should be greater than 0");
      }
    } else if (opt == "addr") {
      f.addr = args[i + 1];
    } else if (opt == "laddr") {
      f.laddr = args[i + 1];
    } else if (opt == "skipme") {
      const std::string v = ToLower(args[i + 1]);
      if (v != "yes" && v != "no") {
        return absl::InvalidArgumentError("ERR syntax error");
      }
      f.skipme = v == "yes";
    } else if (opt == "type") {
      f.type = ToLower(args[i + 1]);
      if (f.type == "slave") f.type = "replica";
      if (f.type != "normal" && f.type != "replica" && f.type != "master" &&
          f.type != "pubsub") {
        return absl::InvalidArgumentError(
            absl::StrCat("ERR Unknown client type '", args[i + 1], "'"));
      }
    } else if (opt == "user") {
      f.user = args[i + 1];  // the caller checks that the user exists
    } else if (opt != "maxage") {
      // MAXAGE is accepted and matches every client.
      return absl::InvalidArgumentError("ERR syntax error");
    }
  }
  return f;
}

}  // namespace reborn::net
