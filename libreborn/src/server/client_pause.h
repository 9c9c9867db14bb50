#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "command/command_table.h"
#include "command/deferred_reply.h"
#include "command/session.h"

namespace reborn::server {

// CLIENT PAUSE timeout [WRITE|ALL] and CLIENT UNPAUSE with Redis 7.0's rules
// (docs/introspection.md). While a pause lasts, a command it covers is not
// run: the client is parked (a DeferredReply marked retry, counted in
// blocked_clients) and the connection runs the same command again when the
// pause ends - at UNPAUSE, or when the parked reply's timeout (the end of
// the pause) passes. WRITE covers writes, the commands that may replicate
// (EVAL, EVALSHA, FCALL, PUBLISH, SPUBLISH, PFCOUNT) and an EXEC holding
// any of those; ALL covers every command. Replicas are never paused.
// Commands queued in MULTI are held at EXEC.
//
// Thread safety: mu_ guards the state and the parked clients; `active_`
// lets the command path skip the lock when no pause was ever set.
class ClientPause {
 public:
  // CLIENT PAUSE / CLIENT UNPAUSE (args[1] is the subcommand).
  void PauseCommand(CommandContext& ctx) ABSL_LOCKS_EXCLUDED(mu_);
  void Unpause() ABSL_LOCKS_EXCLUDED(mu_);

  bool active() const { return active_.load(std::memory_order_relaxed); }
  // Parks `session` (sets session.deferred) when the pause covers the
  // command. `writes`: whether it counts as a write (MayReplicate, an EXEC
  // whose queue holds one, not a `no-writes` script).
  bool Postpone(Session& session, bool writes) ABSL_LOCKS_EXCLUDED(mu_);
  // Whether `spec` is a write as CLIENT PAUSE WRITE counts them.
  static bool MayReplicate(const CommandSpec& spec);

 private:
  enum Type { kNone = 0, kWrite = 1, kAll = 2 };
  // The pause in force now (an elapsed one ends here).
  Type CurrentLocked(int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  Type type_ ABSL_GUARDED_BY(mu_) = kNone;
  int64_t end_ms_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::weak_ptr<DeferredReply>> parked_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> active_{false};
};

}  // namespace reborn::server
