#include "server/acl_selector.h"

#include <climits>

#include "absl/strings/ascii.h"
#include "command/acl_categories.h"
#include "command/key_flags.h"
#include "util/glob.h"

namespace reborn::server {
namespace {

using Bits = std::bitset<AclCommandIndex::kBits>;

// Redis' ACLStringHasSpaces: no spaces or NULs in patterns and names.
bool HasSpaces(std::string_view s) {
  return s.find_first_of(std::string_view(" \0", 2)) != std::string_view::npos;
}

// A command and all its subcommands (Redis' ACLChangeSelectorPerm).
void ChangeBits(const AclCommandIndex& index, Bits& bits, int id, bool allow) {
  bits.set(id, allow);
  for (int child : index.at(id).children) bits.set(child, allow);
}

// Every command of a category, and its subcommands (Redis'
// ACLSetSelectorCommandBitsForCategoryLogic).
void CategoryBits(const AclCommandIndex& index, Bits& bits, uint32_t bit,
                  bool allow) {
  for (int id : index.order()) {
    if (index.at(id).categories & bit) ChangeBits(index, bits, id, allow);
  }
}

}  // namespace

std::string_view AclRuleErrorText(AclRuleError error) {
  switch (error) {
    case AclRuleError::kUnknownName:
      return "Unknown command or category name in ACL";
    case AclRuleError::kSyntax:
      return "Syntax error";
    case AclRuleError::kKeyAfterAll:
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is "
             "not valid and does not have any effect. Try 'resetkeys' to start "
             "with an empty list of patterns";
    case AclRuleError::kChannelAfterAll:
      return "Adding a pattern after the * pattern (or the 'allchannels' "
             "flag) is not valid and does not have any effect. Try "
             "'resetchannels' to start with an empty list of channels";
    case AclRuleError::kNoSuchPassword:
      return "The password you are trying to remove from the user does not "
             "exist";
    case AclRuleError::kBadHash:
      return "The password hash must be exactly 64 characters and contain "
             "only lowercase hexadecimal characters";
    case AclRuleError::kDuplicateUser:
      return "Duplicate user found. A user can only be defined once in "
             "config files";
    case AclRuleError::kFirstArgOfSubcommand:
      return "Allowing first-arg of a subcommand is not supported";
    case AclRuleError::kOk:
      break;
  }
  return "Wrong format";
}

AclSelector::AclSelector(const AclCommandIndex& index, bool root,
                         bool all_channels)
    : index_(&index), root_(root), all_channels_(all_channels) {}

void AclSelector::SetBit(int id, bool allow) {
  allowed_.set(id, allow);
  if (!allow) all_commands_ = false;
}

void AclSelector::ChangePerm(int id, bool allow) {
  SetBit(id, allow);
  first_args_.erase(id);
  for (int child : index_->at(id).children) SetBit(child, allow);
}

bool AclSelector::ApplyCategory(std::string_view category, bool allow) {
  const uint32_t bit = AclCategoryBit(category);
  if (bit == 0) return false;
  for (int id : index_->order()) {
    if (index_->at(id).categories & bit) ChangePerm(id, allow);
  }
  return true;
}

AclRuleError AclSelector::Apply(std::string_view op) {
  auto is = [op](std::string_view word) { return EqualsIgnoreCase(op, word); };
  if (is("allkeys") || is("~*")) {
    all_keys_ = true;
    patterns_.clear();
  } else if (is("resetkeys")) {
    all_keys_ = false;
    patterns_.clear();
  } else if (is("allchannels") || is("&*")) {
    all_channels_ = true;
    channels_.clear();
  } else if (is("resetchannels")) {
    all_channels_ = false;
    channels_.clear();
  } else if (is("allcommands") || is("+@all")) {
    allowed_.set();
    all_commands_ = true;
    first_args_.clear();
  } else if (is("nocommands") || is("-@all")) {
    allowed_.reset();
    all_commands_ = false;
    first_args_.clear();
  } else if (!op.empty() && (op[0] == '~' || op[0] == '%')) {
    if (all_keys_) return AclRuleError::kKeyAfterAll;
    int flags = 0;
    size_t offset = 1;
    if (op[0] == '%') {
      bool ok = true;
      for (; offset < op.size(); ++offset) {
        const char c =
            absl::ascii_toupper(static_cast<unsigned char>(op[offset]));
        if (c == 'R' && !(flags & kAclRead)) {
          flags |= kAclRead;
        } else if (c == 'W' && !(flags & kAclWrite)) {
          flags |= kAclWrite;
        } else if (op[offset] == '~') {
          ++offset;
          break;
        } else {
          ok = false;
          break;
        }
      }
      if (flags == 0 || !ok) return AclRuleError::kSyntax;
    } else {
      flags = kAclRead | kAclWrite;
    }
    // Redis' loop may stop at the end without a '~': "%R" is "%R~".
    const std::string_view pattern = op.substr(std::min(offset, op.size()));
    if (HasSpaces(pattern)) return AclRuleError::kSyntax;
    bool found = false;
    for (auto& [p, f] : patterns_) {
      if (p == pattern) {
        f |= flags;
        found = true;
        break;
      }
    }
    if (!found) patterns_.emplace_back(std::string(pattern), flags);
    all_keys_ = false;
  } else if (!op.empty() && op[0] == '&') {
    if (all_channels_) return AclRuleError::kChannelAfterAll;
    const std::string_view pattern = op.substr(1);
    if (HasSpaces(pattern)) return AclRuleError::kSyntax;
    if (std::find(channels_.begin(), channels_.end(), pattern) ==
        channels_.end()) {
      channels_.emplace_back(pattern);
    }
    all_channels_ = false;
  } else if (op.size() >= 1 && op[0] == '+' &&
             (op.size() < 2 || op[1] != '@')) {
    const std::string_view name = op.substr(1);
    const size_t bar = name.rfind('|');
    if (bar == std::string_view::npos) {
      const int id = index_->Find(name);
      if (id < 0) return AclRuleError::kUnknownName;
      ChangePerm(id, true);
      return AclRuleError::kOk;
    }
    const std::string_view command = name.substr(0, bar);
    const std::string_view sub = name.substr(bar + 1);
    const int id = index_->Find(command);
    if (id < 0) return AclRuleError::kUnknownName;
    if (index_->at(id).parent >= 0) return AclRuleError::kFirstArgOfSubcommand;
    if (sub.empty()) return AclRuleError::kSyntax;
    if (!index_->at(id).children.empty()) {
      const int sub_id = index_->Find(name);
      if (sub_id < 0) return AclRuleError::kUnknownName;
      ChangePerm(sub_id, true);
    } else {
      // Redis' deprecated first-arg rules (+select|0), kept as given.
      std::vector<std::string>& args = first_args_[id];
      bool have = false;
      for (const std::string& a : args) {
        if (EqualsIgnoreCase(a, sub)) have = true;
      }
      if (!have) args.emplace_back(sub);
    }
  } else if (op.size() >= 1 && op[0] == '-' &&
             (op.size() < 2 || op[1] != '@')) {
    const int id = index_->Find(op.substr(1));
    if (id < 0) return AclRuleError::kUnknownName;
    ChangePerm(id, false);
  } else if (op.size() >= 2 && (op[0] == '+' || op[0] == '-') && op[1] == '@') {
    if (!ApplyCategory(op.substr(2), op[0] == '+')) {
      return AclRuleError::kUnknownName;
    }
  } else {
    return AclRuleError::kSyntax;
  }
  return AclRuleError::kOk;
}

bool AclSelector::KeyAllowed(std::string_view key, int need) const {
  if (all_keys_) return true;
  for (const auto& [pattern, flags] : patterns_) {
    if ((flags & need) != need) continue;
    if (GlobMatch(pattern, key)) return true;
  }
  return false;
}

bool AclSelector::CheckChannel(std::string_view channel,
                               bool is_pattern) const {
  if (all_channels_) return true;
  for (const std::string& pattern : channels_) {
    // A PSUBSCRIBE pattern must be one of the patterns literally.
    if (is_pattern ? pattern == channel : GlobMatch(pattern, channel)) {
      return true;
    }
  }
  return false;
}

AclDenied AclSelector::Check(int id, const CommandSpec& spec,
                             const std::vector<std::string>& args,
                             size_t* pos) const {
  if (!all_commands_ && !spec.has(kCmdNoAuth) && !allowed_.test(id)) {
    auto it = first_args_.find(id);
    const size_t arg = index_->at(id).parent >= 0 ? 2 : 1;
    if (it == first_args_.end() || args.size() <= arg) {
      return AclDenied::kCommand;
    }
    bool match = false;
    for (const std::string& a : it->second) {
      if (EqualsIgnoreCase(a, args[arg])) match = true;
    }
    if (!match) return AclDenied::kCommand;
  }
  if (!all_keys_ && !KeysAreNotKeys(spec)) {
    KeyPositionList keys = KeyPositions(spec, args);
    if (keys.empty()) {
      if (size_t sub = SubcommandKeyPosition(spec, args); sub > 0) {
        keys.push_back(sub);
      }
    }
    for (size_t p : keys) {
      const uint32_t kf = KeyFlagsAt(spec, args, p);
      int need = 0;
      if (kf & kKeyAccess) need |= kAclRead;
      if (kf & (kKeyInsert | kKeyDelete | kKeyUpdate)) need |= kAclWrite;
      if (!KeyAllowed(args[p], need)) {
        *pos = p;
        return AclDenied::kKey;
      }
    }
  }
  if (!all_channels_) {
    const std::string_view name = spec.name;
    size_t first = 0, last = 0;
    bool pattern = false;
    if (name == "publish" || name == "spublish") {
      first = last = 1;
    } else if (name == "subscribe" || name == "ssubscribe" ||
               name == "psubscribe") {
      first = 1;
      last = args.size() - 1;
      pattern = name == "psubscribe";
    }
    for (size_t p = first; first > 0 && p <= last && p < args.size(); ++p) {
      if (!CheckChannel(args[p], pattern)) {
        *pos = p;
        return AclDenied::kChannel;
      }
    }
  }
  return AclDenied::kNone;
}

// Redis 7.0's ACLDescribeSelectorCommandRules: start from +@all or -@all,
// apply the categories that fit best one by one, then fix single commands.
std::string AclSelector::DescribeCommands() const {
  const bool additive = !allowed_.test(AclCommandIndex::kFutureBit);
  std::string rules = additive ? "-@all " : "+@all ";
  Bits fake;
  if (!additive) fake.set();
  Bits temp = allowed_;
  const auto names = AclCategoryNames();
  std::vector<bool> applied(names.size(), false);
  while (true) {
    int best = -1;
    size_t min_diff = INT_MAX, max_same = 0;
    for (size_t j = 0; j < names.size(); ++j) {
      if (applied[j]) continue;
      size_t on = 0, off = 0;
      for (int id : index_->order()) {
        const AclCommandIndex::Command& c = index_->at(id);
        if (c.redis && (c.categories & (1u << j))) ++(temp.test(id) ? on : off);
      }
      const size_t diff = additive ? off : on;
      const size_t same = additive ? on : off;
      if (same > diff &&
          (diff < min_diff || (diff == min_diff && same > max_same))) {
        best = static_cast<int>(j);
        min_diff = diff;
        max_same = same;
      }
    }
    if (best < 0) break;
    CategoryBits(*index_, fake, 1u << best, additive);
    CategoryBits(*index_, temp, 1u << best, !additive);
    rules += additive ? "+@" : "-@";
    rules += names[best];
    rules += ' ';
    applied[best] = true;
  }
  for (int id : index_->order()) {
    const bool user_bit = allowed_.test(id);
    if (user_bit != fake.test(id)) {
      rules += user_bit ? '+' : '-';
      rules += index_->at(id).name;
      rules += ' ';
      ChangeBits(*index_, fake, id, user_bit);
    }
    if (!user_bit) {
      if (auto it = first_args_.find(id); it != first_args_.end()) {
        for (const std::string& a : it->second) {
          rules += '+';
          rules += index_->at(id).name;
          rules += '|';
          rules += a;
          rules += ' ';
        }
      }
    }
  }
  rules.pop_back();
  return rules;
}

std::string AclSelector::DescribeKeys() const {
  if (all_keys_) return "~*";
  std::string out;
  for (const auto& [pattern, flags] : patterns_) {
    if (!out.empty()) out += ' ';
    out += flags == (kAclRead | kAclWrite) ? "~"
           : flags == kAclRead             ? "%R~"
                                           : "%W~";
    out += pattern;
  }
  return out;
}

std::string AclSelector::DescribeChannels() const {
  if (all_channels_) return "&*";
  std::string out;
  for (const std::string& channel : channels_) {
    if (!out.empty()) out += ' ';
    out += '&';
    out += channel;
  }
  return out;
}

std::string AclSelector::Describe() const {
  std::string out;
  if (all_keys_) {
    out += "~* ";
  } else if (!patterns_.empty()) {
    out += DescribeKeys();
    out += ' ';
  }
  if (all_channels_) {
    out += "&* ";
  } else {
    out += "resetchannels ";
    for (const std::string& channel : channels_) {
      out += '&';
      out += channel;
      out += ' ';
    }
  }
  out += DescribeCommands();
  return out;
}

}  // namespace reborn::server
