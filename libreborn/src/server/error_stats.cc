#include "server/error_stats.h"

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace reborn::server {

std::string_view ErrorStats::Prefix(std::string_view message) {
  // Redis looks for the space in the first 32 bytes of "-<message>".
  std::string_view head = message.substr(0, 31);
  size_t space = head.find(' ');
  if (space == std::string_view::npos) return "ERR";
  return message.substr(0, space);
}

void ErrorStats::Count(std::string_view message) {
  std::string_view prefix = Prefix(message);
  std::lock_guard lock(mu_);
  ++total_;
  auto it = counts_.find(prefix);
  if (it != counts_.end()) {
    ++it->second;
    return;
  }
  if (!enabled_) return;
  if (counts_.size() >= kMaxPrefixes) {
    // As redis-server 7.2: forget the table, leave one marker entry, stop
    // adding prefixes until CONFIG RESETSTAT.
    spdlog::warn(
        "errorstats stopped adding new errors: {} different errors reached; "
        "CONFIG RESETSTAT enables the tracking again",
        kMaxPrefixes);
    counts_.clear();
    counts_.emplace("ERRORSTATS_DISABLED", 1);
    enabled_ = false;
    return;
  }
  counts_.emplace(std::string(prefix), 1);
}

uint64_t ErrorStats::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

void ErrorStats::AppendInfo(std::string* out) const {
  std::lock_guard lock(mu_);
  for (const auto& [prefix, count] : counts_) {
    absl::StrAppend(out, "errorstat_", prefix, ":count=", count, "\r\n");
  }
}

void ErrorStats::Reset() {
  std::lock_guard lock(mu_);
  total_ = 0;
  enabled_ = true;
  counts_.clear();
}

}  // namespace reborn::server
