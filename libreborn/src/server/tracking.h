#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "command/command_table.h"
#include "command/session.h"
#include "net/client_registry.h"

namespace reborn::server {

// Client-side caching (docs/client_tracking.md): CLIENT TRACKING, CACHING,
// GETREDIR and TRACKINGINFO, and the invalidation messages Redis 7.0 sends.
//
// Default mode: every key a read-only command of a tracking client names is
// remembered in a table key -> client ids (global across databases, as in
// Redis); a write to the key sends one `invalidate` message to each of
// those clients and forgets the key. BCAST mode: clients subscribe to key
// prefixes; the keys written under a prefix are collected and sent as one
// message per prefix when the writing command ends.
//
// Messages go through the receiving connection's PushChannel (the one
// Pub/Sub uses), so they reach it from any thread, between its replies:
// RESP3 pushes `>2 invalidate [keys]`, or, for a RESP2 client that
// REDIRECTs to a subscribed RESP2 client, a Pub/Sub message on
// `__redis__:invalidate`. An invalidation a client causes for itself waits
// until the end of its command (after EXEC's reply, after the script), as
// in Redis.
//
// Thread safety: one mutex guards every table; it is taken before the client
// registry's and the channels' (never the other way). `busy_` lets the data
// path skip the lock while nobody tracks anything.
class Tracking {
 public:
  explicit Tracking(net::ClientRegistry& clients) : clients_(clients) {}

  // CLIENT TRACKING|CACHING|GETREDIR|TRACKINGINFO; `sub` is the lower-case
  // subcommand. Arity is checked by the caller.
  void ClientSubcommand(std::string_view sub, CommandContext& ctx)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Whether anything is tracked at all: when false, writes need not call
  // InvalidateKey and commands need not call AfterCommand.
  bool busy() const { return busy_.load(std::memory_order_relaxed) > 0; }

  // After a read-only command of a tracking session (Session::tracking):
  // remembers the keys it read, unless BCAST or OPTIN/OPTOUT say otherwise.
  void RememberKeys(const Session& session, const CommandSpec& spec,
                    const std::vector<std::string>& args)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A write changed `key` (in any db); `writer` is the client that wrote it
  // (0: expiry, the master's stream, a blocked client being served).
  void InvalidateKey(std::string_view key, uint64_t writer)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The keys a successful write changed: those its key specs mark as
  // written (RW, OW, RM), not the ones it only read.
  void InvalidateWrite(const CommandSpec& spec,
                       const std::vector<std::string>& args, uint64_t writer)
      ABSL_LOCKS_EXCLUDED(mu_);
  // FLUSHDB / FLUSHALL: a nil invalidation to every tracking client, and
  // the table is emptied.
  void InvalidateAll(uint64_t writer) ABSL_LOCKS_EXCLUDED(mu_);
  // After each top-level command of `session`: the invalidations it caused
  // for itself, the BCAST messages of what it wrote, and the end of a
  // CLIENT CACHING that applied to it (`keep_caching`: the command was
  // CLIENT or ran inside MULTI).
  void AfterCommand(Session& session, bool keep_caching)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Sends the invalidations client `id` caused for itself outside its own
  // command (a blocked client served by another's write), after its reply.
  void FlushPending(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  // Sends the BCAST messages collected so far (writes outside a client's
  // command: expiry, the master's stream).
  void FlushBroadcast() ABSL_LOCKS_EXCLUDED(mu_);
  // CLIENT TRACKING OFF, RESET, disconnect.
  void Disable(Session& session) ABSL_LOCKS_EXCLUDED(mu_);
  // tracking-table-max-keys (0 = no limit): over it, keys are dropped from
  // the table and their clients told as if the keys had changed.
  void SetMaxKeys(size_t max_keys) ABSL_LOCKS_EXCLUDED(mu_);

  // INFO: tracking_clients (clients), tracking_total_keys/items/prefixes.
  int64_t client_count() const ABSL_LOCKS_EXCLUDED(mu_);
  void AppendStats(std::string* out) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Client {
    uint64_t redirect = 0;
    bool bcast = false;
    bool optin = false;
    bool optout = false;
    bool noloop = false;
    bool caching = false;  // CLIENT CACHING YES/NO for the next command
    bool broken = false;   // the redirect target is gone
    std::set<std::string> prefixes;
    // Invalidation values this client caused for itself during its command.
    std::vector<std::string> pending;
  };
  struct Prefix {
    // Keys written since the last broadcast -> the last writer's id.
    std::map<std::string, uint64_t> keys;
    std::set<uint64_t> clients;
  };

  void Enable(CommandContext& ctx) ABSL_LOCKS_EXCLUDED(mu_);
  void Caching(CommandContext& ctx) ABSL_LOCKS_EXCLUDED(mu_);
  void Info(CommandContext& ctx) ABSL_LOCKS_EXCLUDED(mu_);
  void DisableLocked(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends `value` (the RESP of the key array, or a nil) to client `id`, or
  // to its redirect target, as Redis' sendTrackingMessage.
  void SendLocked(uint64_t id, Client& client, std::string_view value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void InvalidateLocked(std::string_view key, uint64_t writer, bool bcast)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FlushBroadcastLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendPendingLocked(uint64_t id, Client& client)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnforceLimitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // CLIENT LIST's flags (t, R, B) and redir= of client `id`.
  void PublishFlagsLocked(uint64_t id, const Client* client)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateBusyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  net::ClientRegistry& clients_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, Client> tracking_ ABSL_GUARDED_BY(mu_);
  // key -> ids of the clients that may cache it. Ids of clients that left
  // stay until the key is invalidated (as in Redis).
  absl::flat_hash_map<std::string, absl::flat_hash_set<uint64_t>> table_
      ABSL_GUARDED_BY(mu_);
  uint64_t total_items_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Prefix> prefixes_ ABSL_GUARDED_BY(mu_);
  bool bcast_pending_ ABSL_GUARDED_BY(mu_) = false;
  size_t max_keys_ ABSL_GUARDED_BY(mu_) = 1000000;
  // Tracking clients + table keys + prefixes.
  std::atomic<size_t> busy_{0};
};

}  // namespace reborn::server
