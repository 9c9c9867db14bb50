#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "net/client_registry.h"

// CLIENT LIST / CLIENT INFO lines and CLIENT KILL filters over a
// ClientRegistry, shared by qdb-server and reborn-proxy.
namespace reborn::net {

// One CLIENT LIST line (with its "\n") in Redis' field order.
std::string ClientInfoLine(const ClientEntry& e);

// The filters of CLIENT KILL ID/ADDR/LADDR/TYPE/USER/MAXAGE/SKIPME (the new
// form, args[2...] in pairs).
struct ClientKillFilter {
  uint64_t id = 0;
  std::string addr;
  std::string laddr;
  std::string type;                 // "", normal, replica, master, pubsub
  std::optional<std::string> user;  // USER: the ACL user's clients
  bool skipme = true;

  // Whether `e` is killed by the filter; `self` is the caller's client id.
  // (TYPE master is the server's own business.)
  bool Matches(const ClientEntry& e, uint64_t self) const;
};

// Parses the new form of CLIENT KILL; the error is Redis' reply text.
absl::StatusOr<ClientKillFilter> ParseClientKill(
    const std::vector<std::string>& args);

}  // namespace reborn::net
