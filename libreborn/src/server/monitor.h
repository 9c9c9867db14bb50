#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "command/command_table.h"
#include "command/push_channel.h"
#include "command/session.h"

namespace reborn::server {

// MONITOR (docs/introspection.md): clients that asked for it receive one line
// per command the server runs, in redis-server 7.0's format:
//   +1339518083.107412 [0 127.0.0.1:60866] "keys" "*"
// `[db lua]` for the commands a script runs; passwords and sensitive config
// values shown as "(redacted)" (the slow log's rules); admin commands never
// shown. A line goes through the monitor's PushChannel, so commands on any
// thread reach it between its own replies.
//
// Thread safety: the list of monitors is guarded by mu_; `count_` lets the
// command path skip everything while nobody monitors.
class Monitors {
 public:
  // MONITOR: turns the session into a monitor (+OK), or refuses it inside
  // MULTI/EXEC and scripts, as Redis does.
  void Start(CommandContext& ctx) ABSL_LOCKS_EXCLUDED(mu_);
  // RESET, disconnect.
  void Stop(Session& session) ABSL_LOCKS_EXCLUDED(mu_);

  bool active() const { return count_.load(std::memory_order_relaxed) > 0; }
  // Whether `spec` is shown after it ran (not admin commands, and not the
  // scripts, which FeedBefore shows before their own commands).
  // Not admin commands (judged by the subcommand where the container has a
  // subcommand table: CLUSTER INFO is shown, CLUSTER RESET is not).
  static bool ShownAfter(const CommandSpec& spec,
                         const std::vector<std::string>& args);
  static bool ShownBefore(const CommandSpec& spec);
  // Sends the line of one command run by `session` in `db` to every monitor.
  void Feed(const Session& session, int db, const CommandSpec& spec,
            const std::vector<std::string>& args) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Monitor {
    uint64_t id;
    std::shared_ptr<PushChannel> out;
  };

  mutable absl::Mutex mu_;
  std::vector<Monitor> monitors_ ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> count_{0};
};

}  // namespace reborn::server
