#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "command/command_spec.h"

namespace reborn::server {

// Redis' slow log: the newest commands that ran at least
// `slowlog-log-slower-than` microseconds, at most `slowlog-max-len` of them.
// Thread-safe: commands finish on every I/O thread. The threshold is an
// atomic so that the hot path (a fast command) takes no lock; memory is
// bounded by max_len entries of at most kMaxArgs arguments of at most
// kMaxArgBytes bytes each (plus their "... (N more ...)" suffixes).
class SlowLog {
 public:
  static constexpr size_t kMaxArgs = 32;       // SLOWLOG_ENTRY_MAX_ARGC
  static constexpr size_t kMaxArgBytes = 128;  // SLOWLOG_ENTRY_MAX_STRING

  struct Entry {
    int64_t id = 0;
    int64_t unix_time = 0;  // seconds
    int64_t duration_us = 0;
    std::vector<std::string> args;  // trimmed and redacted
    std::string peer;               // "ip:port"
    std::string name;               // client name, "" if none
  };

  // -1 disables the log, 0 logs every command.
  void set_threshold_us(int64_t us) {
    threshold_us_.store(us, std::memory_order_relaxed);
  }
  // Drops the oldest entries over the new length at once, as Redis does on
  // the next push (an observable difference only in SLOWLOG LEN).
  void set_max_len(size_t n);

  // True when a command that took `duration_us` belongs in the log.
  bool Wants(int64_t duration_us) const {
    int64_t t = threshold_us_.load(std::memory_order_relaxed);
    return t >= 0 && duration_us >= t;
  }

  // Adds an entry for `args` when Wants(duration_us), the arguments at
  // `redacted` positions (see RedactedArgs) shown as "(redacted)".
  void Push(const std::vector<std::string>& args,
            const std::vector<size_t>& redacted, int64_t duration_us,
            std::string_view peer, std::string_view name, int64_t unix_time);

  // The newest `count` entries, newest first (count < 0: all).
  std::vector<Entry> Get(int64_t count) const;
  size_t Len() const;
  void Reset();

  // What an entry keeps of `args`: the first 31 and a "... (N more
  // arguments)" marker when there are more than 32, each cut at 128 bytes
  // with "... (N more bytes)".
  static std::vector<std::string> Trim(const std::vector<std::string>& args,
                                       const std::vector<size_t>& redacted);

 private:
  std::atomic<int64_t> threshold_us_{10000};
  mutable std::mutex mu_;
  std::deque<Entry> entries_ ABSL_GUARDED_BY(mu_);  // newest at the front
  size_t max_len_ ABSL_GUARDED_BY(mu_) = 128;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
};

// The positions of the arguments a log must not show (slow log), as Redis
// redacts them: AUTH's password (and user), HELLO's AUTH user and password,
// MIGRATE's AUTH/AUTH2 credentials and the values CONFIG SET gives to
// masterauth, masteruser and requirepass. Returns false when the command is
// not logged at all (EXEC: the commands it ran are).
bool RedactedArgs(const CommandSpec& spec, const std::vector<std::string>& args,
                  std::vector<size_t>* positions);

}  // namespace reborn::server
