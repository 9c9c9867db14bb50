#include "server/acl_user.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "net/auth_failures.h"
#include "util/sha256.h"

namespace reborn::server {
namespace {

bool ValidHash(std::string_view hash) {
  if (hash.size() != 64) return false;
  for (char c : hash) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Redis' sdssplitargs for a selector's "(...)" body: space separated words,
// quotes not needed for ACL rules (a rule cannot contain spaces).
std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() &&
           absl::ascii_isspace(static_cast<unsigned char>(s[i])))
      ++i;
    size_t j = i;
    while (j < s.size() &&
           !absl::ascii_isspace(static_cast<unsigned char>(s[j])))
      ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

AclUser::AclUser(std::string name, const AclCommandIndex& index,
                 bool all_channels)
    : name_(std::move(name)),
      index_(&index),
      all_channels_default_(all_channels) {
  selectors_.emplace_back(index, /*root=*/true, all_channels);
}

AclRuleError AclUser::Apply(std::string_view op) {
  auto is = [op](std::string_view word) { return EqualsIgnoreCase(op, word); };
  if (op.empty()) return AclRuleError::kOk;
  if (is("on")) {
    enabled_ = true;
  } else if (is("off")) {
    enabled_ = false;
  } else if (is("skip-sanitize-payload")) {
    sanitize_ = 2;
  } else if (is("sanitize-payload")) {
    sanitize_ = 1;
  } else if (is("nopass")) {
    nopass_ = true;
    passwords_.clear();
  } else if (is("resetpass")) {
    nopass_ = false;
    passwords_.clear();
  } else if (op[0] == '>' || op[0] == '#') {
    std::string hash;
    if (op[0] == '>') {
      hash = Sha256Hex(op.substr(1));
    } else {
      if (!ValidHash(op.substr(1))) return AclRuleError::kBadHash;
      hash = std::string(op.substr(1));
    }
    if (std::find(passwords_.begin(), passwords_.end(), hash) ==
        passwords_.end()) {
      passwords_.push_back(std::move(hash));
    }
    nopass_ = false;
  } else if (op[0] == '<' || op[0] == '!') {
    std::string hash;
    if (op[0] == '<') {
      hash = Sha256Hex(op.substr(1));
    } else {
      if (!ValidHash(op.substr(1))) return AclRuleError::kBadHash;
      hash = std::string(op.substr(1));
    }
    auto it = std::find(passwords_.begin(), passwords_.end(), hash);
    if (it == passwords_.end()) return AclRuleError::kNoSuchPassword;
    passwords_.erase(it);
  } else if (op[0] == '(' && op.back() == ')') {
    AclSelector selector(*index_, /*root=*/false, all_channels_default_);
    for (std::string_view word : Words(op.substr(1, op.size() - 2))) {
      AclRuleError e = selector.Apply(word);
      if (e != AclRuleError::kOk) return e;
    }
    selectors_.push_back(std::move(selector));
  } else if (is("clearselectors")) {
    selectors_.erase(selectors_.begin() + 1, selectors_.end());
  } else if (is("reset")) {
    for (std::string_view rule : {"resetpass", "resetkeys", "resetchannels"}) {
      (void)Apply(rule);
    }
    if (all_channels_default_) (void)Apply("allchannels");
    for (std::string_view rule :
         {"off", "sanitize-payload", "clearselectors", "-@all"}) {
      (void)Apply(rule);
    }
  } else {
    return selectors_.front().Apply(op);
  }
  return AclRuleError::kOk;
}

bool AclUser::PasswordMatches(std::string_view password) const {
  const std::string hash = Sha256Hex(password);
  bool match = false;
  for (const std::string& p : passwords_) {
    match |= net::PasswordMatches(hash, p);
  }
  return match;
}

AclDenied AclUser::Check(int id, const CommandSpec& spec,
                         const std::vector<std::string>& args,
                         size_t* pos) const {
  AclDenied relevant = AclDenied::kCommand;
  size_t last = 0;
  for (const AclSelector& s : selectors_) {
    size_t p = 0;
    const AclDenied d = s.Check(id, spec, args, &p);
    if (d == AclDenied::kNone) return d;
    if (d > relevant || (d == relevant && p > last)) {
      relevant = d;
      last = p;
    }
  }
  *pos = last;
  return relevant;
}

bool AclUser::CheckChannel(std::string_view channel, bool is_pattern) const {
  for (const AclSelector& s : selectors_) {
    if (s.CheckChannel(channel, is_pattern)) return true;
  }
  return false;
}

bool AclUser::Unrestricted() const {
  for (const AclSelector& s : selectors_) {
    if (s.Unrestricted()) return true;
  }
  return false;
}

std::vector<std::string_view> AclUser::FlagNames() const {
  std::vector<std::string_view> out;
  out.push_back(enabled_ ? "on" : "off");
  if (nopass_) out.push_back("nopass");
  if (sanitize_ == 2) out.push_back("skip-sanitize-payload");
  if (sanitize_ == 1) out.push_back("sanitize-payload");
  return out;
}

std::string AclUser::Describe() const {
  std::string out;
  for (std::string_view flag : FlagNames()) {
    out += flag;
    out += ' ';
  }
  for (const std::string& hash : passwords_) {
    out += '#';
    out += hash;
    out += ' ';
  }
  for (const AclSelector& s : selectors_) {
    if (s.root()) {
      out += s.Describe();
    } else {
      out += " (";
      out += s.Describe();
      out += ')';
    }
  }
  return out;
}

}  // namespace reborn::server
