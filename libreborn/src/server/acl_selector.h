#pragma once

#include <bitset>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "command/command_spec.h"
#include "server/acl_command_index.h"

namespace reborn::server {

// Why an ACL rule was refused; AclRuleErrorText gives Redis' text.
enum class AclRuleError {
  kOk,
  kUnknownName,           // ENOENT: command or category
  kSyntax,                // EINVAL
  kKeyAfterAll,           // EEXIST
  kChannelAfterAll,       // EISDIR
  kNoSuchPassword,        // ENODEV
  kBadHash,               // EBADMSG
  kFirstArgOfSubcommand,  // ECHILD
  kDuplicateUser,         // EALREADY
};
std::string_view AclRuleErrorText(AclRuleError error);

// Why a command was refused (Redis' ACL_DENIED_*, in its order of weight).
enum class AclDenied {
  kNone = 0,
  kCommand = 1,
  kKey = 2,
  kAuth = 3,
  kChannel = 4
};

// Redis' key pattern permission bits (%R~, %W~, %RW~ and ~).
inline constexpr int kAclRead = 1;
inline constexpr int kAclWrite = 2;

// One set of permissions of a user (Redis' aclSelector): the commands it
// may run, the keys and channels they may name. A user has a root selector
// and maybe more in parentheses; a command passes when one selector
// allows it. A value type: users are copied, changed and swapped whole.
class AclSelector {
 public:
  AclSelector(const AclCommandIndex& index, bool root, bool all_channels);

  // Applies one rule (+get, -@write, ~key*, %R~x, &chan, allkeys, ...).
  AclRuleError Apply(std::string_view op);

  // Whether this selector lets `args` (args[0] the command, `id` its index
  // id from AclCommandIndex::IdOf) run; on a refused key or channel,
  // `*pos` is its argument index.
  AclDenied Check(int id, const CommandSpec& spec,
                  const std::vector<std::string>& args, size_t* pos) const;
  bool CheckChannel(std::string_view channel, bool is_pattern) const;
  bool AllChannels() const { return all_channels_; }
  const std::vector<std::string>& channels() const { return channels_; }
  bool Unrestricted() const {
    return all_commands_ && all_keys_ && all_channels_;
  }
  bool root() const { return root_; }

  // The command rules as ACL GETUSER shows them ("+@all -flushall").
  std::string DescribeCommands() const;
  // "~* " patterns as GETUSER's "keys" field, channels as "channels".
  std::string DescribeKeys() const;
  std::string DescribeChannels() const;
  // Keys, channels and commands as ACL LIST shows them.
  std::string Describe() const;

 private:
  using Bits = std::bitset<AclCommandIndex::kBits>;
  void SetBit(int id, bool allow);
  void ChangePerm(int id, bool allow);
  bool ApplyCategory(std::string_view category, bool allow);
  bool KeyAllowed(std::string_view key, int need) const;

  const AclCommandIndex* index_;
  bool root_;
  bool all_keys_ = false;
  bool all_channels_;
  bool all_commands_ = false;
  Bits allowed_;
  // Allowed first arguments of otherwise blocked commands (+select|0).
  std::map<int, std::vector<std::string>> first_args_;
  std::vector<std::pair<std::string, int>> patterns_;  // pattern, kAcl*
  std::vector<std::string> channels_;
};

}  // namespace reborn::server
