#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "command/command_table.h"
#include "net/client_registry.h"
#include "server/acl_command_index.h"
#include "server/acl_log.h"
#include "server/acl_user.h"
#include "server/config.h"

namespace reborn::server {

// The ACL users of a qdb-server (Redis 7.0's ACL): the `default` user,
// whose password is `requirepass`, and those ACL SETUSER / the ACL file
// add. Users are immutable snapshots: a change builds a new AclUser and
// swaps it in, so a connection checks its commands against the snapshot
// it holds (Session::acl_user) and refreshes it when generation() moves.
// Thread-safe: one mutex guards the map; the log has its own.
class Acl {
 public:
  Acl(const CommandTable& table, Config& config, net::ClientRegistry& clients);

  const AclCommandIndex& index() const { return index_; }
  AclLog& log() { return log_; }
  // Bumped by every change of any user.
  uint64_t generation() const { return generation_.load(); }

  std::shared_ptr<const AclUser> Find(std::string_view name) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The user `name` if it is on and `password` is one of its own (or it is
  // nopass); null otherwise.
  std::shared_ptr<const AclUser> Authenticate(std::string_view name,
                                              std::string_view password) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Whether a new connection is authenticated as `default` right away.
  bool DefaultNeedsNoAuth() const ABSL_LOCKS_EXCLUDED(mu_);

  // ACL SETUSER: every rule applies or none; the error is Redis' text
  // (without "ERR ").
  std::optional<std::string> SetUser(std::string_view name,
                                     const std::vector<std::string>& rules)
      ABSL_LOCKS_EXCLUDED(mu_);
  // ACL DELUSER: how many existed; their connections are closed.
  int DeleteUsers(const std::vector<std::string>& names)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Sorted by name (Redis' order).
  std::vector<std::shared_ptr<const AclUser>> Users() const
      ABSL_LOCKS_EXCLUDED(mu_);

  // `requirepass`: the default user's only password, or nopass when empty.
  void SetDefaultPassword(std::string_view password) ABSL_LOCKS_EXCLUDED(mu_);

  // ACL LOAD / ACL SAVE against `aclfile` inside `dir`. Load returns
  // Redis' error text; nothing changes on an error.
  bool HasFile() const;
  std::optional<std::string> LoadFile() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SaveFile() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  std::string FilePath() const;
  // Parses an ACL file's text into users; Redis' error text on failure.
  std::optional<std::string> Parse(
      std::string_view text,
      std::map<std::string, std::shared_ptr<const AclUser>>* users) const;
  void KillClientsOf(const std::string& name);
  // Closes the pub/sub connections of `before`'s user that lose a channel
  // they listen on with `after` (Redis' ACLKillPubsubClientsIfNeeded, for
  // the connections subscribed to anything).
  void KillPubsubClientsIfNeeded(const AclUser& before, const AclUser& after);
  bool AllChannelsDefault() const;
  AclUser MakeDefaultUser() const;

  AclCommandIndex index_;
  Config& config_;
  net::ClientRegistry& clients_;
  AclLog log_;
  std::atomic<uint64_t> generation_{1};
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const AclUser>> users_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace reborn::server
