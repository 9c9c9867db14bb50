#include "server/acl_log.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace reborn::server {
namespace {

constexpr int64_t kGroupingMs = 60000;  // ACL_LOG_GROUPING_MAX_TIME_DELTA
constexpr int kScanned = 10;            // entries compared for grouping

}  // namespace

void AclLog::Add(AclDenied reason, Context context, std::string object,
                 std::string username, std::string client_info,
                 size_t max_len) {
  const int64_t now = absl::GetCurrentTimeNanos() / 1000000;
  absl::MutexLock lock(&mu_);
  int scanned = 0;
  for (auto it = entries_.begin(); it != entries_.end() && scanned < kScanned;
       ++it, ++scanned) {
    if (it->reason == reason && it->context == context &&
        std::abs(it->ctime_ms - now) <= kGroupingMs && it->object == object &&
        it->username == username) {
      Entry match = std::move(*it);
      entries_.erase(it);
      match.count++;
      match.ctime_ms = now;
      match.client_info = std::move(client_info);
      entries_.push_front(std::move(match));
      return;
    }
  }
  entries_.push_front(Entry{1, reason, context, std::move(object),
                            std::move(username), now, std::move(client_info)});
  while (entries_.size() > max_len) entries_.pop_back();
}

void AclLog::Write(int64_t count, resp::ReplyWriter& reply) const {
  const int64_t now = absl::GetCurrentTimeNanos() / 1000000;
  absl::MutexLock lock(&mu_);
  const size_t n = std::min(entries_.size(),
                            static_cast<size_t>(std::max<int64_t>(0, count)));
  reply.ArrayHeader(n);
  for (size_t i = 0; i < n; ++i) {
    const Entry& e = entries_[i];
    reply.MapHeader(7);
    reply.Bulk("count");
    reply.Integer(static_cast<int64_t>(e.count));
    reply.Bulk("reason");
    reply.Bulk(e.reason == AclDenied::kCommand   ? "command"
               : e.reason == AclDenied::kKey     ? "key"
               : e.reason == AclDenied::kChannel ? "channel"
               : e.reason == AclDenied::kAuth    ? "auth"
                                                 : "unknown");
    reply.Bulk("context");
    reply.Bulk(e.context == kToplevel ? "toplevel"
               : e.context == kMulti  ? "multi"
                                      : "lua");
    reply.Bulk("object");
    reply.Bulk(e.object);
    reply.Bulk("username");
    reply.Bulk(e.username);
    reply.Bulk("age-seconds");
    reply.Double(static_cast<double>(now - e.ctime_ms) / 1000);
    reply.Bulk("client-info");
    reply.Bulk(e.client_info);
  }
}

void AclLog::Reset() {
  absl::MutexLock lock(&mu_);
  entries_.clear();
}

}  // namespace reborn::server
