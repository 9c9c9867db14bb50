#include "server/slowlog.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace reborn::server {
namespace {

constexpr std::string_view kRedacted = "(redacted)";

bool IsSensitiveConfig(std::string_view name) {
  return EqualsIgnoreCase(name, "masterauth") ||
         EqualsIgnoreCase(name, "masteruser") ||
         EqualsIgnoreCase(name, "requirepass");
}

}  // namespace

void SlowLog::set_max_len(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  max_len_ = n;
  while (entries_.size() > max_len_) entries_.pop_back();
}

void SlowLog::Push(const std::vector<std::string>& args,
                   const std::vector<size_t>& redacted, int64_t duration_us,
                   std::string_view peer, std::string_view name,
                   int64_t unix_time) {
  const bool wanted = Wants(duration_us);
  Entry entry;
  if (wanted) {
    entry.args = Trim(args, redacted);
    entry.unix_time = unix_time;
    entry.duration_us = duration_us;
    entry.peer = std::string(peer);
    entry.name = std::string(name);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (wanted) {
    entry.id = next_id_++;
    entries_.push_front(std::move(entry));
  }
  while (entries_.size() > max_len_) entries_.pop_back();
}

std::vector<SlowLog::Entry> SlowLog::Get(int64_t count) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = entries_.size();
  if (count >= 0) n = std::min(n, static_cast<size_t>(count));
  return std::vector<Entry>(entries_.begin(), entries_.begin() + n);
}

size_t SlowLog::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void SlowLog::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
}

std::vector<std::string> SlowLog::Trim(const std::vector<std::string>& args,
                                       const std::vector<size_t>& redacted) {
  const size_t kept = std::min(args.size(), kMaxArgs);
  std::vector<std::string> out;
  out.reserve(kept);
  for (size_t i = 0; i < kept; ++i) {
    if (kept != args.size() && i == kept - 1) {
      out.push_back(
          absl::StrCat("... (", args.size() - kept + 1, " more arguments)"));
    } else if (std::find(redacted.begin(), redacted.end(), i) !=
               redacted.end()) {
      out.emplace_back(kRedacted);
    } else if (args[i].size() > kMaxArgBytes) {
      out.push_back(absl::StrCat(args[i].substr(0, kMaxArgBytes), "... (",
                                 args[i].size() - kMaxArgBytes,
                                 " more bytes)"));
    } else {
      out.push_back(args[i]);
    }
  }
  return out;
}

bool RedactedArgs(const CommandSpec& spec, const std::vector<std::string>& a,
                  std::vector<size_t>* positions) {
  auto redact = [positions](size_t i) { positions->push_back(i); };
  if (spec.name == "exec") return false;  // Redis' no-slowlog flag
  if (spec.name == "auth") {
    // Redis redacts before it looks further, but not a syntax error.
    if (a.size() > 3) return true;
    redact(1);
    if (a.size() == 3) redact(2);
  } else if (spec.name == "hello") {
    // Only past a valid protocol version, option by option as parsed.
    int64_t version = 0;
    if (a.size() < 2 || !absl::SimpleAtoi(a[1], &version) || version < 2 ||
        version > 3) {
      return true;
    }
    for (size_t j = 2; j < a.size(); ++j) {
      const size_t more = a.size() - 1 - j;
      if (EqualsIgnoreCase(a[j], "auth") && more >= 2) {
        redact(j + 1);
        redact(j + 2);
        j += 2;
      } else if (EqualsIgnoreCase(a[j], "setname") && more >= 1) {
        ++j;
      } else {
        break;
      }
    }
  } else if (spec.name == "acl") {
    // ACL SETUSER: the user name and every rule (passwords among them).
    if (a.size() >= 3 && EqualsIgnoreCase(a[1], "setuser")) {
      for (size_t i = 2; i < a.size(); ++i) redact(i);
    }
  } else if (spec.name == "config") {
    if (a.size() >= 4 && a.size() % 2 == 0 && EqualsIgnoreCase(a[1], "set")) {
      for (size_t i = 2; i + 1 < a.size(); i += 2) {
        if (IsSensitiveConfig(a[i])) redact(i + 1);
      }
    }
  } else if (spec.name == "migrate") {
    for (size_t j = 6; j < a.size(); ++j) {
      const size_t more = a.size() - 1 - j;
      if (EqualsIgnoreCase(a[j], "copy") || EqualsIgnoreCase(a[j], "replace")) {
        continue;
      } else if (EqualsIgnoreCase(a[j], "auth") && more >= 1) {
        redact(++j);
      } else if (EqualsIgnoreCase(a[j], "auth2") && more >= 2) {
        redact(++j);
        redact(++j);
      } else {
        break;  // KEYS (the rest are keys) or a syntax error
      }
    }
  }
  return true;
}

}  // namespace reborn::server
