#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "resp/reply_writer.h"
#include "server/acl_selector.h"

namespace reborn::server {

// ACL LOG: the refused commands, keys, channels and AUTHs, newest first,
// an entry repeated within 60 s counted instead of added (Redis' rules).
// Thread-safe: one mutex.
class AclLog {
 public:
  enum Context { kToplevel, kMulti, kLua };

  void Add(AclDenied reason, Context context, std::string object,
           std::string username, std::string client_info, size_t max_len)
      ABSL_LOCKS_EXCLUDED(mu_);
  // ACL LOG [count]: up to `count` entries as Redis' maps.
  void Write(int64_t count, resp::ReplyWriter& reply) const
      ABSL_LOCKS_EXCLUDED(mu_);
  void Reset() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    uint64_t count = 1;
    AclDenied reason;
    Context context;
    std::string object;
    std::string username;
    int64_t ctime_ms = 0;
    std::string client_info;
  };
  mutable absl::Mutex mu_;
  std::deque<Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reborn::server
