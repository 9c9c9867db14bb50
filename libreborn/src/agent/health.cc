#include "agent/health.h"

#include <chrono>
#include <future>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "net/sync_client.h"

namespace reborn::agent {

void ParseReplicationInfo(std::string_view info, ServerHealth* h) {
  std::string host;
  std::string port;
  int64_t master_offset = 0;
  int64_t slave_offset = -1;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(info.data(), info.size()), '\n')) {
    line = absl::StripSuffix(line, "\r");
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    absl::string_view key = line.substr(0, colon);
    absl::string_view value = line.substr(colon + 1);
    if (key == "role") {
      h->is_master = value == "master";
    } else if (key == "master_host") {
      host = std::string(value);
    } else if (key == "master_port") {
      port = std::string(value);
    } else if (key == "master_link_status") {
      h->link_up = value == "up";
    } else if (key == "master_sync_in_progress") {
      h->syncing = value == "1";
    } else if (key == "master_repl_offset") {
      (void)absl::SimpleAtoi(value, &master_offset);
    } else if (key == "slave_repl_offset") {
      (void)absl::SimpleAtoi(value, &slave_offset);
    }
  }
  if (h->is_master) {
    h->master.clear();
    h->link_up = false;
    h->offset = master_offset;
  } else {
    h->master = host.empty() ? "" : absl::StrCat(host, ":", port);
    h->offset = slave_offset >= 0 ? slave_offset : master_offset;
  }
}

absl::Status SplitHostPort(std::string_view addr, std::string* host,
                           int* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(std::string(addr.substr(colon + 1)), port) ||
      *port <= 0 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad address '", std::string(addr), "' (want host:port)"));
  }
  *host = std::string(addr.substr(0, colon));
  return absl::OkStatus();
}

namespace {

absl::StatusOr<net::SyncClient> Connect(const std::string& addr,
                                        absl::Duration timeout,
                                        const std::string& password) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(addr, &host, &port); !s.ok()) return s;
  return net::SyncClient::Connect(
      host, port, std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)),
      password);
}

}  // namespace

ServerHealth Probe(const std::string& addr, absl::Duration timeout,
                   const std::string& password) {
  ServerHealth h;
  auto c = Connect(addr, timeout, password);
  if (!c.ok()) {
    h.error = std::string(c.status().message());
    return h;
  }
  auto replies = c->CallAll({{"PING"}, {"INFO", "replication"}});
  if (!replies.ok()) {
    h.error = std::string(replies.status().message());
    return h;
  }
  const Reply& pong = (*replies)[0];
  if (pong.is_error() || pong.str != "PONG") {
    // LOADING, MASTERDOWN, NOAUTH ...: alive but not serving.
    h.error = absl::StrCat("PING: ", pong.str);
    return h;
  }
  const Reply& info = (*replies)[1];
  if (info.is_error()) {
    h.error = absl::StrCat("INFO: ", info.str);
    return h;
  }
  h.reachable = true;
  ParseReplicationInfo(info.str, &h);
  return h;
}

std::map<std::string, ServerHealth> ProbeAll(
    const std::vector<std::string>& addrs, absl::Duration timeout,
    const std::string& password) {
  std::vector<std::future<ServerHealth>> futures;
  futures.reserve(addrs.size());
  for (const std::string& a : addrs) {
    futures.push_back(std::async(std::launch::async, [a, timeout, &password] {
      return Probe(a, timeout, password);
    }));
  }
  std::map<std::string, ServerHealth> out;
  for (size_t i = 0; i < addrs.size(); ++i) out[addrs[i]] = futures[i].get();
  return out;
}

absl::StatusOr<Reply> StoreCommand(const std::string& addr,
                                   const std::vector<std::string>& args,
                                   absl::Duration timeout,
                                   const std::string& password) {
  auto c = Connect(addr, timeout, password);
  if (!c.ok()) return c.status();
  auto r = c->Call(args);
  if (!r.ok()) return r.status();
  if (r->is_error()) {
    return absl::FailedPreconditionError(absl::StrCat(addr, ": ", r->str));
  }
  return r;
}

}  // namespace reborn::agent
