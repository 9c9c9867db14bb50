#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/acl_selector.h"

namespace reborn::server {

// One ACL user (Redis' `user`): flags, SHA-256 password hashes and the
// selectors (the root one first). A value: ACL SETUSER changes a copy and
// swaps it in whole (see Acl), so readers hold an immutable snapshot.
class AclUser {
 public:
  // A new user as Redis makes one: off, no passwords, -@all, no keys, and
  // channels per acl-pubsub-default.
  AclUser(std::string name, const AclCommandIndex& index, bool all_channels);

  const std::string& name() const { return name_; }
  // Applies one rule: a flag, a password rule, a selector "(...)", reset,
  // or a rule of the root selector. An empty rule does nothing.
  AclRuleError Apply(std::string_view op);

  bool enabled() const { return enabled_; }
  bool nopass() const { return nopass_; }
  // Constant-time against every hash.
  bool PasswordMatches(std::string_view password) const;
  const std::vector<std::string>& password_hashes() const { return passwords_; }
  const std::vector<AclSelector>& selectors() const { return selectors_; }

  // Redis' ACLCheckAllUserCommandPerm: kNone when a selector allows the
  // command; else the weightiest refusal and its argument index.
  AclDenied Check(int id, const CommandSpec& spec,
                  const std::vector<std::string>& args, size_t* pos) const;
  bool CheckChannel(std::string_view channel, bool is_pattern) const;
  // Every command, key and channel: no check needed.
  bool Unrestricted() const;

  // GETUSER's flags ("on", "nopass", ...) in Redis' order.
  std::vector<std::string_view> FlagNames() const;
  // The rules that rebuild the user, as ACL LIST and the ACL file show them.
  std::string Describe() const;

 private:
  std::string name_;
  const AclCommandIndex* index_;
  bool all_channels_default_;
  bool enabled_ = false;
  bool nopass_ = false;
  // Redis' sanitize-payload / skip-sanitize-payload: kept and shown, as
  // RESTORE here always checks payloads.
  int sanitize_ = 0;  // 0 neither, 1 sanitize-payload, 2 skip
  std::vector<std::string> passwords_;
  std::vector<AclSelector> selectors_;
};

}  // namespace reborn::server
