#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "command/command_table.h"
#include "command/deferred_reply.h"
#include "command/push_channel.h"
#include "repl/backlog.h"
#include "repl/effects.h"

namespace reborn::server {

class QdbServerImpl;
class ReplicaLink;

// Replication state of a qdb-server, both roles (docs/replication.md):
// the replication ids and offsets, the backlog, the replicas this server
// feeds (master side) and the link to its own master (replica side).
//
// Ordering: while the backlog exists ("active"), every write command runs
// inside a Scope, which holds mu_ across the command and the append of its
// effect, so the stream order is the commit order for every key. Effects
// are collected in a thread-local Collector (the command may run nested
// commands - EXEC, served blocking pops - and the engine's expiry listener
// fires inside it) and appended when the outermost Scope ends. The engine's
// expiry listener never takes mu_ (it runs under the engine's key lock, which
// writers take while holding mu_): it queues the DEL under the leaf mutex
// expired_mu_, and the queue is drained before any later effect (by the next
// writer, or by the cron thread), so a key's DEL precedes its next write.
//
// Locks, in order: the server's exec_mu_, then mu_, then expired_mu_.
// Threads: I/O threads (commands), one cron thread (timeouts, acks, drain),
// one thread per full sync being sent, and the ReplicaLink's thread.
class Replication {
 public:
  // DEBUG CHANGE-REPL-ID: a new replication id, the previous one dropped.
  void ChangeReplid();
  explicit Replication(QdbServerImpl& server);
  ~Replication();
  Replication(const Replication&) = delete;
  Replication& operator=(const Replication&) = delete;

  // Starts the cron thread, and the link when `replicaof` is configured.
  void Start();
  // Stops the link, the full syncs and the cron thread. Idempotent.
  void Stop();

  // --- Propagation (master).
  // RAII: the outermost Scope of a thread, while replication is active,
  // holds mu_ and appends what the commands inside recorded. `transaction`
  // wraps two or more effects in MULTI/EXEC.
  class Scope {
   public:
    Scope(Replication& repl, bool transaction);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

    struct Collector;

   private:
    Replication* repl_ = nullptr;
    std::unique_ptr<Collector> collector_;
  };
  // Records the effect of a write that succeeded with `reply` (nothing when
  // no Scope is open on this thread or this server is a replica).
  void Record(int db, const std::vector<std::string>& args,
              std::string_view reply);
  // The engine's expiry listener.
  void OnExpired(int db, std::string_view key);

  // --- Command gates (client commands only, not the master's stream).
  // "" when a write may run, else the error to answer.
  std::string_view WriteError() const;
  // "" unless this is a replica whose link is down with
  // replica-serve-stale-data no: then the error for commands not flagged
  // stale.
  std::string_view StaleError() const;
  // Synchronous replication (`repl-sync-replicas` N > 0, a master): parks
  // the successful reply a client's command just wrote at out[mark..] until
  // N replicas acknowledged the stream up to now; after `repl-sync-timeout`
  // ms the client gets kSyncTimeoutError instead. So a reply means the
  // command's effects (and everything before them) are on N replicas.
  void AwaitReplicas(Session& session, std::string* out, size_t mark);
  static constexpr std::string_view kSyncTimeoutError =
      "-NOREPLICAS Write not acknowledged by enough replicas within "
      "repl-sync-timeout (it may be applied)\r\n";
  bool is_replica() const { return role_replica_.load(); }

  // --- Commands.
  void Sync(CommandContext& ctx);  // SYNC and PSYNC
  void Replconf(CommandContext& ctx);
  void Wait(CommandContext& ctx);
  void ReplicaOf(CommandContext& ctx);
  // REPLICAOF / SLAVEOF queued in a transaction run as in Redis: EXEC calls
  // StopLink() before it takes exec_mu_ (so nothing of the old master lands
  // after the role changed), runs them with exec_mu_ held and no Scope open
  // (ReplicaOf only changes the role then), and calls ResumeLink() once it
  // released exec_mu_. What the transaction wrote before becoming a replica
  // is not propagated (the Scope drops it), as in Redis.
  void StopLink();
  // Starts the link to the configured master if this server is a replica
  // without one. Not under exec_mu_.
  void ResumeLink();
  void Role(CommandContext& ctx);
  void AppendInfo(std::string* out);
  // sync_full, sync_partial_ok, sync_partial_err (INFO stats).
  void AppendSyncStats(std::string* out);
  // A client went away (it may have been a replica).
  void OnDisconnect(uint64_t client_id);
  // CLIENT KILL TYPE master: drops the link to the master (it reconnects).
  bool KillMasterLink();

  // --- For the ReplicaLink (replica side).
  // What the link tracks of the master's stream.
  struct LinkSession {
    int db = 0;
    bool in_multi = false;
    std::vector<std::vector<std::string>> queued;
    std::string multi_raw;
  };
  // Replication id and offset to ask a master for ("?" / -1 when none).
  std::pair<std::string, int64_t> PsyncTarget();
  // A full sync was loaded and committed: adopt the master's id/offset.
  void OnFullSyncDone(const std::string& replid, int64_t offset);
  // +CONTINUE: the master may have a new id.
  void OnContinue(const std::string& new_replid);
  // Applies one command of the master's stream (`raw` its bytes); returns
  // true if the master asked for an ACK (REPLCONF GETACK).
  bool ApplyFromMaster(LinkSession& link, std::vector<std::string>& args,
                       std::string_view raw);
  void set_link_state(int state) { link_state_.store(state); }

 private:
  struct ReplicaInfo {
    enum class State { kWaitSnapshot, kSendingSnapshot, kOnline };
    uint64_t client_id = 0;
    std::shared_ptr<PushChannel> out;
    std::string ip;
    int listening_port = 0;
    State state = State::kWaitSnapshot;
    std::string buffered;  // the stream while the snapshot is sent
    // Dropped with a flush while its snapshot was being sent (this server
    // became a replica): it gets the snapshot and the stream fed until
    // then, then it is closed (see FinishSync).
    std::string drop_after_sync;
    int64_t ack_offset = 0;
    int64_t ack_ms = 0;
  };
  struct Handshake {  // REPLCONF before PSYNC
    int listening_port = 0;
    std::string ip;
    bool capa_eof = false;
    bool capa_psync2 = false;
  };
  struct Waiter {  // WAIT
    int64_t offset;
    int64_t needed;
    int64_t deadline_ms;  // 0 = forever
    std::shared_ptr<DeferredReply> reply;
    // repl-sync-replicas: the parked command's own reply, sent once acked
    // (empty for WAIT, which answers the count).
    std::string sync_reply;
  };

  // Creates the backlog and starts recording writes; waits until no
  // command is in flight. Not from an I/O thread.
  void Activate();
  // Appends commands to the stream (mu_ held).
  void EmitLocked(int db, const repl::Command& args, std::string* out);
  void DrainExpiredLocked(std::string* out);
  void FeedLocked(std::string_view bytes);
  void DropReplicaLocked(std::list<ReplicaInfo>::iterator it,
                         std::string_view why, bool flush = false);
  void DropAllReplicasLocked(std::string_view why, bool flush = false);
  // The end of a full sync that sent its snapshot: what was buffered meanwhile
  // follows, and a replica dropped meanwhile (drop_after_sync) is closed.
  void FinishSyncLocked(std::list<ReplicaInfo>::iterator it);
  void NewReplidLocked();

  void CheckWaitersLocked(int64_t now_ms);
  int64_t AckedReplicasLocked(int64_t offset) const;
  void FullSync(uint64_t client_id, bool diskless, bool psync);
  void Cron();
  void StartLink(const std::string& host, int port);
  // REPLICAOF's role change: exec_mu_ held exclusively, no link running.
  void ChangeRole(CommandContext& ctx);
  // Turns this server into a replica of host:port (exec_mu_ and mu_ held).
  void BecomeReplicaLocked(const std::string& host, int port);

  QdbServerImpl& server_;
  std::mutex mu_;
  std::atomic<bool> active_{false};
  std::atomic<bool> role_replica_{false};
  std::atomic<bool> read_only_{true};
  std::atomic<bool> serve_stale_{true};  // replica-serve-stale-data
  std::atomic<int64_t> good_replicas_{0};
  std::atomic<int64_t> min_replicas_{0};  // min-replicas-to-write
  std::atomic<int64_t> online_replicas_{0};
  std::atomic<int64_t> sync_replicas_{0};       // repl-sync-replicas
  std::atomic<int64_t> sync_timeout_ms_{1000};  // repl-sync-timeout
  // client-output-buffer-limit replica hard limit.
  std::atomic<int64_t> output_limit_{256LL << 20};
  std::atomic<int> link_state_{0};  // ReplicaLink::State
  // Guarded by mu_:
  std::string replid_;
  std::string replid2_;
  int64_t second_replid_offset_ = -1;
  std::unique_ptr<repl::Backlog> backlog_;
  int stream_db_ = -1;
  std::list<ReplicaInfo> replicas_;
  absl::flat_hash_map<uint64_t, Handshake> handshakes_;
  std::list<Waiter> waiters_;
  // The stream offset the last REPLCONF GETACK follows: replicas' answers to
  // it cover every write up to there.
  int64_t getack_covers_ = -1;
  std::vector<std::thread> sync_threads_;
  uint64_t sync_full_ = 0;
  uint64_t sync_partial_ok_ = 0;
  uint64_t sync_partial_err_ = 0;
  std::string master_host_;
  int master_port_ = 0;
  std::unique_ptr<ReplicaLink> link_;

  std::mutex expired_mu_;
  std::vector<std::pair<int, std::string>> expired_;  // guarded by it

  std::mutex cron_mu_;
  std::condition_variable cron_cv_;
  bool stopping_ = false;  // guarded by cron_mu_
  std::thread cron_;
};

}  // namespace reborn::server
