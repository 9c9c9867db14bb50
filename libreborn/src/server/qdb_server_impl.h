#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "command/command_table.h"
#include "net/auth_failures.h"
#include "net/server.h"
#include "reborn/qdb_engine.h"
#include "reborn/qdb_server.h"
#include "server/acl.h"
#include "server/blocking.h"
#include "server/client_pause.h"
#include "server/command_observer.h"
#include "server/command_stats.h"
#include "server/config.h"
#include "server/error_stats.h"
#include "server/memory_stats.h"
#include "server/monitor.h"
#include "server/notifications.h"
#include "server/pubsub.h"
#include "server/rdb_save.h"
#include "server/replication.h"
#include "server/scripting.h"
#include "server/tracking.h"
#include "server/transactions.h"

namespace reborn::server {

// Contributes lines to an INFO section ("keyspace", "rocksdb", ...).
using InfoProvider =
    std::function<void(std::string_view section, std::string* out)>;

// The qdb-server: config + network server + command table. Thread safety:
// the command table and providers are filled before Start() and read-only
// afterwards; config, limits and stats are internally synchronised.
class QdbServerImpl final : public QdbServer, public net::RequestHandler {
 public:
  explicit QdbServerImpl(std::unique_ptr<Config> config);
  ~QdbServerImpl() override;

  // QdbServer.
  absl::Status Start() override;
  int port() const override;
  void Wait() override;
  void RequestStop() override;
  void Stop() override;

  // net::RequestHandler.
  std::string Admit(const Session& session) override;
  void OnConnect(Session& session) override;
  void OnDisconnect(Session& session) override;
  void Handle(Session& session, std::vector<std::string>& args,
              resp::ReplyWriter& reply) override;
  bool HasUnflushedWrites() override { return engine_->HasUnflushedWrites(); }
  void FlushWrites() override;

  // For the server commands.
  Config& config() { return *config_; }
  net::Server& network() { return *network_; }
  const CommandTable& table() const { return table_; }
  CommandStats& command_stats() { return command_stats_; }
  ErrorStats& error_stats() { return error_stats_; }
  // Slow log, latency monitor and per-command histograms.
  CommandObserver& observer() { return observer_; }
  QdbEngine& engine() { return *engine_; }
  bool has_engine() const { return engine_ != nullptr; }
  Replication& replication() { return *repl_; }
  net::AuthFailures& auth_failures() { return auth_failures_; }
  Acl& acl() { return *acl_; }
  // AUTH / HELLO AUTH: authenticates `session` as `user` when the password
  // is right; a failure is logged in ACL LOG (server/acl_command.cc).
  bool Authenticate(Session& session, std::string_view command,
                    std::string_view user, std::string_view password);
  // EXEC's check of a queued command against ACL rules changed since it
  // was queued: Redis' NOPERM text, or "" when it may run.
  std::string AclExecError(Session& session, const CommandSpec& spec,
                           const std::vector<std::string>& args);
  PubSub& pubsub() { return pubsub_; }
  Notifications& notifications() { return notifications_; }
  Tracking& tracking() { return *tracking_; }
  Monitors& monitors() { return monitors_; }
  Scripting& scripting() { return *scripting_; }
  ClientPause& client_pause() { return pause_; }
  // Held shared by every command, exclusively by EXEC (see exec_mu_).
  std::shared_mutex& exec_mutex() { return exec_mu_; }
  const std::string& run_id() const { return run_id_; }
  int64_t start_ms() const { return start_ms_; }
  const std::vector<std::string>& info_sections() const;
  void AppendInfo(std::string_view section, std::string* out) const;
  // CONFIG RESETSTAT: command, network and engine counters.
  void ResetStats();
  // Files an error reply ("-PREFIX text\r\n...") under INFO errorstats.
  void CountErrorReply(Session& session, std::string_view reply);

  // MULTI/EXEC/WATCH (server/transactions.cc).
  void Multi(CommandContext& ctx);
  void Exec(CommandContext& ctx);
  void Discard(CommandContext& ctx);
  void Watch(CommandContext& ctx);
  void Unwatch(CommandContext& ctx);
  // BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP BZPOPMIN BZPOPMAX BZMPOP
  // (server/blocking_commands.cc).
  void Blocking(CommandContext& ctx);
  // XREAD / XREADGROUP, BLOCK included (server/blocking_streams.cc).
  void StreamRead(CommandContext& ctx, bool group);
  // Runs a command internally (no stats, no locks: the caller holds them)
  // and returns its encoded reply; touches WATCHed keys of a write.
  // `client`: the id of the client it runs for (a blocked one being
  // served), whose own tracked keys it then invalidates after its reply.
  // `exec_held`: the caller holds exec_mu_ exclusively, so commands that
  // take it themselves (FUNCTION) run as inside EXEC instead.
  std::string RunInternal(int db, int protocol, std::vector<std::string> args,
                          uint64_t client = 0, bool exec_held = false);
  // Drops a client's transaction state and watches (RESET, disconnect).
  void ResetTransaction(Session& session);

 private:
  absl::Status OpenEngine();
  // Handle() without what follows every top-level command.
  void Dispatch(Session& session, std::vector<std::string>& args,
                resp::ReplyWriter& reply);
  // Runs a command that passed the checks: stats, the handler, and WATCH
  // invalidation of the keys a write touched.
  void Run(Session& session, const CommandTable::Entry& entry,
           std::vector<std::string>& args, resp::ReplyWriter& reply);
  // `flushed`: for FLUSHDB/FLUSHALL, the watched keys that existed before;
  // `before`: what Notifications::Probe saw (SMOVE's destination).
  void TouchWatchedKeys(const Session& session, const CommandSpec& spec,
                        const std::vector<std::string>& args,
                        const std::vector<std::pair<int, std::string>>& flushed,
                        const Notifications::Before& before = {});
  // The keys a FLUSHALL (`db` < 0) or FLUSHDB of `db` is about to delete:
  // what Redis adds to server.dirty for it. 0 for other commands.
  int64_t KeysToFlush(const CommandSpec& spec,
                      const std::vector<std::string>& args, int db);
  // Adds what a command changed to the dirty counter (INFO persistence's
  // rdb_changes_since_last_save): `own` is what its handler counted
  // (Session::changes), else WriteChanges() of its reply; `flushed_keys`
  // is KeysToFlush() before it ran.
  void CountChanges(const CommandSpec& spec,
                    const std::vector<std::string>& args,
                    std::string_view reply, std::optional<int64_t> own,
                    int64_t flushed_keys);
  // The keys watched in `db` (every db when < 0) that exist now.
  std::vector<std::pair<int, std::string>> ExistingWatchedKeys(int db);
  // The (db, key) pairs a successful write may have filled for blocked
  // clients: its key positions, SORT's STORE target, MOVE's target db.
  static std::vector<std::pair<int, std::string>> KeysToSignal(
      const Session& session, const CommandSpec& spec,
      const std::vector<std::string>& args);

  // Feeds observer_; a command that parked (a blocking one) is observed
  // when its reply settles, without the time it waited (as Redis does).
  void ObserveCommand(const Session& session, const CommandSpec& spec,
                      const std::vector<std::string>& args, int64_t elapsed_us,
                      bool was_deferred);
  absl::Status RegisterCommands();
  // Refuses a command the session's ACL user may not run: NOPERM, ACL LOG,
  // rejected_calls (server/acl_command.cc). `queuing`: inside MULTI.
  // `log_denial` false: a question (redis.acl_check_cmd), not a refusal,
  // so nothing goes to ACL LOG.
  AclDenied CheckAcl(Session& session, const CommandSpec& spec,
                     const std::vector<std::string>& args,
                     std::string* full_name, size_t* pos,
                     bool log_denial = true);
  bool RefusedByAcl(Session& session, const CommandSpec& spec,
                    const std::vector<std::string>& args, bool queuing,
                    resp::ReplyWriter& reply);
  void ApplyConfigHooks();

  // Refuses commands over maxmemory: deny-oom ones (a script's by its
  // flags), anything queued in a MULTI and an EXEC that holds one (Redis'
  // processCommand rules).
  bool RefusedForMemory(Session& session, const CommandSpec& spec,
                        const std::vector<std::string>& args, bool queuing,
                        resp::ReplyWriter& reply);

  std::unique_ptr<Config> config_;
  std::unique_ptr<MaxmemoryGate> maxmemory_;
  std::unique_ptr<QdbEngine> engine_;  // opened by Start()
  std::unique_ptr<RdbSaver> saver_;    // SAVE/BGSAVE; made with engine_
  std::unique_ptr<net::Server> network_;
  CommandTable table_;
  CommandStats command_stats_;
  ErrorStats error_stats_;
  CommandObserver observer_;
  std::vector<std::pair<std::string, InfoProvider>> info_providers_;
  WatchRegistry watches_;
  BlockingRegistry blocking_;
  // Every command holds it shared; EXEC holds it exclusively, which makes a
  // transaction atomic with respect to all other clients.
  std::shared_mutex exec_mu_;
  std::unique_ptr<Replication> repl_;
  net::AuthFailures auth_failures_;
  std::unique_ptr<Acl> acl_;  // made by Start() once the table is full
  PubSub pubsub_;
  Notifications notifications_{pubsub_};
  std::unique_ptr<Tracking> tracking_;  // CLIENT TRACKING; made with network_
  Monitors monitors_;
  ClientPause pause_;
  std::string run_id_;
  int64_t start_ms_ = 0;
  std::atomic<bool> stopped_{false};
  // EVAL and SCRIPT (server/scripting.cc); made by Start().
  std::unique_ptr<Scripting> scripting_;
  friend class Scripting;  // runs a script's commands through Run()
};

// Registers PING ECHO HELLO AUTH QUIT RESET COMMAND CLIENT TIME CONFIG INFO
// SHUTDOWN on `table`.
absl::Status RegisterServerCommands(QdbServerImpl& server, CommandTable& table);

// Registers ACL (server/acl_command.cc).
absl::Status RegisterAclCommand(QdbServerImpl& server, CommandTable& table);

// Registers MEMORY (server/memory_command.cc).
absl::Status RegisterMemoryCommand(QdbServerImpl& server, CommandTable& table);
// DEBUG (server/debug_command.cc); enable-debug-command decides who may.
absl::Status RegisterDebugCommand(QdbServerImpl& server, CommandTable& table);
bool DebugCommandAllowed(QdbServerImpl& server, const Session& session);

// Registers SLOWLOG and LATENCY (server/observer_commands.cc).
absl::Status RegisterObserverCommands(QdbServerImpl& server,
                                      CommandTable& table);
// INFO latencystats (server/observer_commands.cc).
void AppendLatencyStats(QdbServerImpl& server, std::string_view section,
                        std::string* out);

// The built-in INFO sections (server, clients, memory, persistence, stats,
// replication, cpu, commandstats) for `server`.
void AppendServerInfo(QdbServerImpl& server, std::string_view section,
                      std::string* out);

}  // namespace reborn::server
