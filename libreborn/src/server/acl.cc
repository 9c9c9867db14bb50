#include "server/acl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace reborn::server {
namespace {

bool HasSpaces(std::string_view s) {
  return s.find_first_of(std::string_view(" \0", 2)) != std::string_view::npos;
}

// Redis' ACLMergeSelectorArguments: a selector spread over several
// arguments ("(+get", "~key)") becomes one. Null on an open parenthesis,
// with `*bad` its argument.
std::optional<std::vector<std::string>> MergeSelectors(
    const std::vector<std::string>& rules, std::string* bad) {
  std::vector<std::string> out;
  std::string selector;
  bool open = false;
  for (const std::string& op : rules) {
    if (!open && !op.empty() && op[0] == '(' && op.back() != ')') {
      selector = op;
      *bad = op;
      open = true;
      continue;
    }
    if (open) {
      absl::StrAppend(&selector, " ", op);
      if (!op.empty() && op.back() == ')') {
        open = false;
        out.push_back(std::move(selector));
      }
      continue;
    }
    out.push_back(op);
  }
  if (open) return std::nullopt;
  return out;
}

std::vector<std::string> SplitOn(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string Trim(std::string_view s, std::string_view chars) {
  const size_t begin = s.find_first_not_of(chars);
  if (begin == std::string_view::npos) return "";
  return std::string(s.substr(begin, s.find_last_not_of(chars) - begin + 1));
}

}  // namespace

Acl::Acl(const CommandTable& table, Config& config,
         net::ClientRegistry& clients)
    : index_(table), config_(config), clients_(clients) {
  auto user = std::make_shared<AclUser>(MakeDefaultUser());
  absl::MutexLock lock(&mu_);
  users_["default"] = std::move(user);
}

bool Acl::AllChannelsDefault() const {
  return config_.GetString("acl-pubsub-default") == "allchannels";
}

AclUser Acl::MakeDefaultUser() const {
  AclUser user("default", index_, AllChannelsDefault());
  for (std::string_view rule : {"+@all", "~*", "&*", "on", "nopass"}) {
    (void)user.Apply(rule);
  }
  const std::string pass = config_.GetString("requirepass");
  if (!pass.empty()) (void)user.Apply(absl::StrCat(">", pass));
  return user;
}

std::shared_ptr<const AclUser> Acl::Find(std::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = users_.find(std::string(name));
  return it == users_.end() ? nullptr : it->second;
}

std::shared_ptr<const AclUser> Acl::Authenticate(
    std::string_view name, std::string_view password) const {
  std::shared_ptr<const AclUser> user = Find(name);
  if (user == nullptr || !user->enabled()) return nullptr;
  if (user->nopass() || user->PasswordMatches(password)) return user;
  return nullptr;
}

bool Acl::DefaultNeedsNoAuth() const {
  std::shared_ptr<const AclUser> user = Find("default");
  return user != nullptr && user->nopass() && user->enabled();
}

std::optional<std::string> Acl::SetUser(std::string_view name,
                                        const std::vector<std::string>& rules) {
  std::string bad;
  std::optional<std::vector<std::string>> merged = MergeSelectors(rules, &bad);
  if (!merged) {
    return absl::StrCat("Unmatched parenthesis in acl selector starting at '",
                        bad, "'.");
  }
  // One lock over read, change and write: two SETUSERs of one user at once
  // apply one after the other, as in Redis, and neither is lost.
  std::shared_ptr<const AclUser> before;
  std::shared_ptr<const AclUser> after;
  const bool all_channels = AllChannelsDefault();
  {
    absl::MutexLock lock(&mu_);
    auto it = users_.find(std::string(name));
    if (it != users_.end()) before = it->second;
    AclUser user =
        before ? *before : AclUser(std::string(name), index_, all_channels);
    for (const std::string& op : *merged) {
      AclRuleError e = user.Apply(op);
      if (e != AclRuleError::kOk) {
        return absl::StrCat("Error in ACL SETUSER modifier '", op,
                            "': ", std::string(AclRuleErrorText(e)));
      }
    }
    after = std::make_shared<const AclUser>(std::move(user));
    users_[std::string(name)] = after;
  }
  generation_.fetch_add(1);
  if (before) KillPubsubClientsIfNeeded(*before, *after);
  return std::nullopt;
}

int Acl::DeleteUsers(const std::vector<std::string>& names) {
  int deleted = 0;
  for (const std::string& name : names) {
    bool erased;
    {
      absl::MutexLock lock(&mu_);
      erased = users_.erase(name) > 0;
    }
    if (!erased) continue;
    ++deleted;
    generation_.fetch_add(1);
    KillClientsOf(name);
  }
  return deleted;
}

std::vector<std::shared_ptr<const AclUser>> Acl::Users() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<const AclUser>> out;
  for (const auto& [name, user] : users_) out.push_back(user);
  return out;
}

void Acl::SetDefaultPassword(std::string_view password) {
  {
    absl::MutexLock lock(&mu_);
    auto user = std::make_shared<AclUser>(*users_["default"]);
    (void)user->Apply("resetpass");
    (void)user->Apply(password.empty()
                          ? std::string("nopass")
                          : absl::StrCat(">", std::string(password)));
    users_["default"] = std::move(user);
  }
  generation_.fetch_add(1);
}

void Acl::KillClientsOf(const std::string& name) {
  for (const auto& entry : clients_.Snapshot()) {
    if (entry->user() == name && entry->kill) entry->kill();
  }
}

void Acl::KillPubsubClientsIfNeeded(const AclUser& before,
                                    const AclUser& after) {
  std::vector<std::string> upcoming;
  for (const AclSelector& s : after.selectors()) {
    if (s.AllChannels()) return;
    upcoming.insert(upcoming.end(), s.channels().begin(), s.channels().end());
  }
  bool superset = true;
  for (const AclSelector& s : before.selectors()) {
    if (s.AllChannels()) superset = false;
    for (const std::string& c : s.channels()) {
      if (std::find(upcoming.begin(), upcoming.end(), c) == upcoming.end()) {
        superset = false;
      }
    }
  }
  if (superset) return;
  // Which channels each connection listens on is its own thread's: the
  // subscribed connections of the user are closed, as Redis closes those
  // that lost one of theirs.
  for (const auto& entry : clients_.Snapshot()) {
    if (entry->user() == before.name() &&
        entry->sub.load() + entry->psub.load() + entry->ssub.load() > 0 &&
        entry->kill) {
      entry->kill();
    }
  }
}

bool Acl::HasFile() const { return !config_.GetString("aclfile").empty(); }

std::string Acl::FilePath() const {
  // `aclfile` is a file name (checked when set): the file is in `dir`.
  return absl::StrCat(config_.GetString("dir"), "/",
                      config_.GetString("aclfile"));
}

std::optional<std::string> Acl::Parse(
    std::string_view text,
    std::map<std::string, std::shared_ptr<const AclUser>>* users) const {
  const std::string file = config_.GetString("aclfile");
  std::string errors;
  int linenum = 0;
  for (const std::string& raw : SplitOn(text, '\n')) {
    ++linenum;
    const std::string line = Trim(raw, " \t\r\n");
    if (line.empty()) continue;
    std::vector<std::string> argv = SplitOn(line, ' ');
    if (argv[0] != "user" || argv.size() < 2) {
      absl::StrAppend(&errors, file, ":", linenum,
                      " should start with user keyword followed by the "
                      "username. ");
      continue;
    }
    if (HasSpaces(argv[1])) {
      absl::StrAppend(&errors, "'", file, ":", linenum, ": username '", argv[1],
                      "' contains invalid characters. ");
      continue;
    }
    if (users->count(argv[1])) {
      absl::StrAppend(&errors, "WARNING: Duplicate user '", argv[1],
                      "' found on line ", linenum, ". ");
      continue;
    }
    AclUser user(argv[1], index_, AllChannelsDefault());
    std::string bad;
    std::optional<std::vector<std::string>> merged = MergeSelectors(
        std::vector<std::string>(argv.begin() + 2, argv.end()), &bad);
    if (!merged) {
      absl::StrAppend(&errors, file, ":", linenum,
                      ": Unmatched parenthesis in selector definition.");
      merged.emplace();
    }
    bool syntax_error = false;
    for (std::string& op : *merged) {
      op = Trim(op, "\t\r\n");
      AclRuleError e = user.Apply(op);
      if (e == AclRuleError::kOk) continue;
      if (e == AclRuleError::kUnknownName) {
        absl::StrAppend(&errors, file, ":", linenum,
                        ": Error in applying operation '", op,
                        "': ", std::string(AclRuleErrorText(e)), ". ");
      } else if (!syntax_error) {
        absl::StrAppend(&errors, file, ":", linenum, ": ",
                        std::string(AclRuleErrorText(e)), ". ");
        syntax_error = true;
      }
    }
    (*users)[argv[1]] = std::make_shared<const AclUser>(std::move(user));
  }
  if (errors.empty()) return std::nullopt;
  absl::StrAppend(&errors,
                  "WARNING: ACL errors detected, no change to the previously "
                  "active ACL rules was performed");
  return errors;
}

std::optional<std::string> Acl::LoadFile() {
  const std::string path = FilePath();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::StrCat("Error loading ACLs, opening file '", path,
                        "': ", std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::map<std::string, std::shared_ptr<const AclUser>> users;
  if (auto error = Parse(text.str(), &users)) return error;
  if (!users.count("default")) {
    users["default"] = std::make_shared<const AclUser>(MakeDefaultUser());
  }
  std::vector<std::string> old;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, user] : users_) {
      if (name != "default") old.push_back(name);
    }
    users_ = std::move(users);
  }
  generation_.fetch_add(1);
  // Like Redis, every user but `default` is new: their connections close.
  for (const std::string& name : old) KillClientsOf(name);
  return std::nullopt;
}

absl::Status Acl::SaveFile() const {
  std::string text;
  for (const auto& user : Users()) {
    absl::StrAppend(&text, "user ", user->name(), " ", user->Describe(), "\n");
  }
  const std::string path = FilePath();
  const std::string tmp = absl::StrCat(path, ".tmp-", getpid(), "-",
                                       absl::GetCurrentTimeNanos() / 1000000);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("opening ", tmp, ": ", std::strerror(errno)));
  }
  const ssize_t n = ::write(fd, text.data(), text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()) || !synced ||
      std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("writing ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace reborn::server
