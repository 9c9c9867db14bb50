// Replication, master side and shared state: the backlog, propagation of
// write effects, SYNC/PSYNC (full sync from an RDB snapshot or +CONTINUE
// from the backlog), REPLCONF, WAIT, INFO replication and ROLE. The replica
// side's network loop is in replica_link.cc.
#include "server/replication.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/qdb_server_impl.h"
#include "server/replica_link.h"
#include "spdlog/spdlog.h"

namespace reborn::server {
namespace {

int64_t NowMs() { return absl::GetCurrentTimeNanos() / 1000000; }

std::string RandomHex40() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<uint64_t>(absl::GetCurrentTimeNanos()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(40, '0');
  for (auto& c : out) c = kHex[gen() % 16];
  return out;
}

// Chunks in flight to one replica before a full-sync sender waits.
constexpr size_t kSyncWindow = 8 * 1024 * 1024;
constexpr size_t kFileChunk = 256 * 1024;

}  // namespace

// The effects recorded by the commands of one outermost Scope.
struct Replication::Scope::Collector {
  bool transaction = false;
  std::vector<std::pair<int, repl::Command>> effects;
};

// The Collector of the outermost Scope open on this thread, if any. Scoped to
// one command's execution, never shared between threads.
thread_local Replication::Scope::Collector* tls_collector = nullptr;

Replication::Scope::Scope(Replication& repl, bool transaction) {
  if (tls_collector != nullptr || !repl.active_.load() ||
      repl.role_replica_.load()) {
    return;
  }
  repl.mu_.lock();
  repl_ = &repl;
  collector_ = std::make_unique<Collector>();
  collector_->transaction = transaction;
  tls_collector = collector_.get();
}

Replication::Scope::~Scope() {
  if (repl_ == nullptr) return;
  tls_collector = nullptr;
  if (repl_->role_replica_.load()) {
    // The server became a replica (REPLICAOF in a transaction): as in
    // Redis, what ran before is not propagated.
    std::string dropped;
    repl_->DrainExpiredLocked(&dropped);
    repl_->mu_.unlock();
    return;
  }
  std::string out;
  repl_->DrainExpiredLocked(&out);
  auto& effects = collector_->effects;
  const bool wrap = collector_->transaction && effects.size() > 1;
  if (wrap) repl_->EmitLocked(effects[0].first, {"MULTI"}, &out);
  for (const auto& [db, args] : effects) repl_->EmitLocked(db, args, &out);
  if (wrap) repl_->EmitLocked(effects.back().first, {"EXEC"}, &out);
  if (!out.empty()) repl_->FeedLocked(out);
  repl_->mu_.unlock();
}

Replication::Replication(QdbServerImpl& server)
    : server_(server), replid_(RandomHex40()) {}

Replication::~Replication() { Stop(); }

void Replication::Start() {
  Config& config = server_.config();
  read_only_ = config.GetBool("replica-read-only");
  config.OnChange("replica-read-only", [this](const std::string& v) {
    read_only_ = v == "yes";
    return absl::OkStatus();
  });
  serve_stale_ = config.GetBool("replica-serve-stale-data");
  config.OnChange("replica-serve-stale-data", [this](const std::string& v) {
    serve_stale_ = v == "yes";
    return absl::OkStatus();
  });
  min_replicas_ = config.GetInt("min-replicas-to-write");
  // The replica class of client-output-buffer-limit: its hard limit (0 =
  // none) drops a replica; the soft limit is not applied to replicas.
  auto replica_limit = [this] {
    const int64_t hard =
        OutputLimitOf(server_.config().GetString("client-output-buffer-limit"),
                      "replica")
            .hard_bytes;
    return hard > 0 ? hard : std::numeric_limits<int64_t>::max();
  };
  output_limit_ = replica_limit();
  config.OnChange("client-output-buffer-limit",
                  [this, replica_limit](const std::string&) {
                    output_limit_ = replica_limit();
                    return absl::OkStatus();
                  });
  config.OnChange("min-replicas-to-write", [this](const std::string&) {
    min_replicas_ = server_.config().GetInt("min-replicas-to-write");
    return absl::OkStatus();
  });
  sync_replicas_ = config.GetInt("repl-sync-replicas");
  sync_timeout_ms_ = config.GetInt("repl-sync-timeout");
  config.OnChange("repl-sync-replicas", [this](const std::string&) {
    sync_replicas_ = server_.config().GetInt("repl-sync-replicas");
    return absl::OkStatus();
  });
  config.OnChange("repl-sync-timeout", [this](const std::string&) {
    sync_timeout_ms_ = server_.config().GetInt("repl-sync-timeout");
    return absl::OkStatus();
  });
  config.OnChange("repl-backlog-size", [this](const std::string&) {
    std::lock_guard<std::mutex> lock(mu_);
    if (backlog_) {
      backlog_->Resize(
          static_cast<size_t>(server_.config().GetInt("repl-backlog-size")));
    }
    return absl::OkStatus();
  });
  // The engine's expiry listener (set by the server) calls OnExpired.
  cron_ = std::thread([this] { Cron(); });
  std::string target = config.GetString("replicaof");
  size_t space = target.find(' ');
  int port = 0;
  if (space != std::string::npos &&
      absl::SimpleAtoi(target.substr(space + 1), &port)) {
    StartLink(target.substr(0, space), port);
  }
}

void Replication::Stop() {
  {
    std::lock_guard<std::mutex> lock(cron_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cron_cv_.notify_all();
  if (cron_.joinable()) cron_.join();
  StopLink();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    DropAllReplicasLocked("server stopping");
    threads.swap(sync_threads_);
  }
  for (auto& t : threads) t.join();
}

void Replication::Activate() {
  if (active_.load()) return;
  std::unique_lock exec(server_.exec_mutex());
  std::lock_guard<std::mutex> lock(mu_);
  if (active_.load()) return;
  backlog_ = std::make_unique<repl::Backlog>(
      static_cast<size_t>(server_.config().GetInt("repl-backlog-size")), 0);
  if (!role_replica_.load()) {
    // Like Redis: a fresh history gets a fresh id.
    NewReplidLocked();
    replid2_ = std::string(40, '0');
    second_replid_offset_ = -1;
  }
  active_ = true;
}

void Replication::NewReplidLocked() { replid_ = RandomHex40(); }

void Replication::ChangeReplid() {
  std::lock_guard<std::mutex> lock(mu_);
  NewReplidLocked();
  replid2_ = std::string(40, '0');
  second_replid_offset_ = -1;
}

void Replication::Record(int db, const std::vector<std::string>& args,
                         std::string_view reply) {
  Scope::Collector* c = tls_collector;
  if (c == nullptr) return;
  for (auto& cmd : repl::EffectOf(args, reply, NowMs())) {
    c->effects.emplace_back(db, std::move(cmd));
  }
}

void Replication::OnExpired(int db, std::string_view key) {
  if (!active_.load() || role_replica_.load()) return;
  std::lock_guard<std::mutex> lock(expired_mu_);
  expired_.emplace_back(db, std::string(key));
}

void Replication::DrainExpiredLocked(std::string* out) {
  std::vector<std::pair<int, std::string>> expired;
  {
    std::lock_guard<std::mutex> lock(expired_mu_);
    expired.swap(expired_);
  }
  for (auto& [db, key] : expired) EmitLocked(db, {"DEL", key}, out);
}

void Replication::EmitLocked(int db, const repl::Command& args,
                             std::string* out) {
  if (db != stream_db_) {
    repl::AppendCommand({"SELECT", std::to_string(db)}, out);
    stream_db_ = db;
  }
  repl::AppendCommand(args, out);
}

void Replication::FeedLocked(std::string_view bytes) {
  if (!backlog_) return;
  backlog_->Append(bytes);
  const size_t limit = static_cast<size_t>(output_limit_.load());
  for (auto it = replicas_.begin(); it != replicas_.end();) {
    auto next = std::next(it);
    if (it->state == ReplicaInfo::State::kOnline) {
      if (!it->out->Push(bytes)) {
        DropReplicaLocked(it, "connection closed");
      } else if (it->out->pending() > limit) {
        DropReplicaLocked(
            it, "output buffer over client-output-buffer-limit replica");
      }
    } else if (it->drop_after_sync.empty()) {
      it->buffered.append(bytes);
      if (it->buffered.size() > limit) {
        DropReplicaLocked(it, "stream buffered during sync over the limit");
      }
    }
    it = next;
  }
}

void Replication::DropReplicaLocked(std::list<ReplicaInfo>::iterator it,
                                    std::string_view why, bool flush) {
  spdlog::warn("dropping replica {}:{} (client {}): {}", it->ip,
               it->listening_port, it->client_id, std::string(why));
  if (flush) {
    it->out->CloseAfterFlush();
  } else {
    it->out->Close();
  }
  replicas_.erase(it);
}

void Replication::DropAllReplicasLocked(std::string_view why, bool flush) {
  for (auto it = replicas_.begin(); it != replicas_.end();) {
    auto next = std::next(it);
    if (flush && it->state == ReplicaInfo::State::kSendingSnapshot) {
      // Its stream so far (what the snapshot does not have) is in
      // `buffered`, behind the snapshot still being sent: the sync's end
      // sends it, then closes (as redis-server has written it before).
      it->drop_after_sync = std::string(why);
    } else {
      DropReplicaLocked(it, why, flush);
    }
    it = next;
  }
}

void Replication::FinishSyncLocked(std::list<ReplicaInfo>::iterator it) {
  it->out->Push(it->buffered);
  it->buffered.clear();
  if (!it->drop_after_sync.empty()) {
    DropReplicaLocked(it, it->drop_after_sync, /*flush=*/true);
    return;
  }
  it->state = ReplicaInfo::State::kOnline;
  it->ack_ms = NowMs();
}

std::string_view Replication::WriteError() const {
  if (role_replica_.load()) {
    if (read_only_.load()) {
      return "READONLY You can't write against a read only replica.";
    }
    return {};
  }
  // As in Redis, min-replicas-max-lag 0 turns the check off. The atomics
  // first: a config lookup per write (and per write a script calls) costs.
  if (min_replicas_.load() > good_replicas_.load() &&
      server_.config().GetInt("min-replicas-max-lag") > 0) {
    return "NOREPLICAS Not enough good replicas to write.";
  }
  // Synchronous replication: a write that could not be acknowledged is not
  // run at all (rather than run and answered with kSyncTimeoutError).
  if (sync_replicas_.load() > online_replicas_.load()) {
    return "NOREPLICAS Not enough good replicas to write.";
  }
  return {};
}

std::string_view Replication::StaleError() const {
  if (!role_replica_.load() || serve_stale_.load() ||
      link_state_.load() == ReplicaLink::kConnected) {
    return {};
  }
  return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is "
         "set to 'no'.";
}

void Replication::AwaitReplicas(Session& session, std::string* out,
                                size_t mark) {
  const int64_t needed = sync_replicas_.load();
  if (needed <= 0 || role_replica_.load() || out->size() <= mark ||
      (*out)[mark] == '-' || session.deferred != nullptr ||
      session.push != nullptr || session.reply_off || session.reply_skip) {
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t offset = backlog_ ? backlog_->master_offset() : 0;
  if (AckedReplicasLocked(offset) >= needed) return;
  if (backlog_ && getack_covers_ < offset) {
    // One GETACK answers every write parked before it.
    std::string getack;
    EmitLocked(stream_db_ < 0 ? 0 : stream_db_, {"REPLCONF", "GETACK", "*"},
               &getack);
    getack_covers_ = offset;
    FeedLocked(getack);
  }
  auto reply = std::make_shared<DeferredReply>(sync_timeout_ms_.load(),
                                               std::string(kSyncTimeoutError));
  waiters_.push_back({offset, needed, 0, reply, out->substr(mark)});
  out->resize(mark);
  session.deferred = reply;
}

// ---------------------------------------------------------------- commands

void Replication::Sync(CommandContext& ctx) {
  const bool psync = EqualsIgnoreCase(ctx.args[0], "psync");
  Session& session = ctx.session;
  if (session.push) return;  // already a replica: ignore
  if (role_replica_.load() && link_state_.load() != ReplicaLink::kConnected) {
    ctx.reply.Error(
        "NOMASTERLINK Can't SYNC while not connected with my master");
    return;
  }
  Handshake hs;
  std::string ip = session.peer.substr(0, session.peer.rfind(':'));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = handshakes_.find(session.id); it != handshakes_.end()) {
      hs = it->second;
    }
    if (!hs.ip.empty()) ip = hs.ip;
    ReplicaInfo info;
    info.client_id = session.id;
    info.out = std::make_shared<PushChannel>();
    info.ip = ip;
    info.listening_port = hs.listening_port;
    session.push = info.out;
    if (psync && backlog_) {
      const std::string& id = ctx.args[1];
      int64_t offset = 0;
      bool known =
          absl::SimpleAtoi(ctx.args[2], &offset) &&
          (id == replid_ || (id == replid2_ && id != std::string(40, '0') &&
                             offset <= second_replid_offset_));
      if (known && backlog_->Covers(offset)) {
        ctx.reply.Raw(hs.capa_psync2
                          ? absl::StrCat("+CONTINUE ", replid_, "\r\n")
                          : std::string("+CONTINUE\r\n"));
        info.out->Push(backlog_->CopyFrom(offset));
        info.state = ReplicaInfo::State::kOnline;
        info.ack_ms = NowMs();
        info.ack_offset = offset - 1;
        replicas_.push_back(std::move(info));
        ++sync_partial_ok_;
        spdlog::info("replica {}:{} continues at offset {} (partial resync)",
                     ip, hs.listening_port, offset);
        return;
      }
    }
    if (psync && ctx.args[1] != "?") ++sync_partial_err_;
    ++sync_full_;
    replicas_.push_back(std::move(info));
    sync_threads_.emplace_back(
        [this, id = session.id,
         diskless =
             hs.capa_eof && server_.config().GetBool("repl-diskless-sync"),
         psync] { FullSync(id, diskless, psync); });
  }
  spdlog::info("replica {}:{} asks for a full sync", ip, hs.listening_port);
}

void Replication::FullSync(uint64_t client_id, bool diskless, bool psync) {
  Activate();
  std::shared_ptr<PushChannel> out;
  std::unique_ptr<RdbSnapshot> snapshot;
  std::string replid;
  int64_t offset = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it =
        std::find_if(replicas_.begin(), replicas_.end(),
                     [&](const auto& r) { return r.client_id == client_id; });
    if (it == replicas_.end()) return;
    auto snap = server_.engine().TakeRdbSnapshot();
    if (!snap.ok()) {
      DropReplicaLocked(it, snap.status().ToString());
      return;
    }
    snapshot = std::move(*snap);
    out = it->out;
    replid = replid_;
    offset = backlog_->master_offset();
    stream_db_ = -1;  // the replica's stream starts with a SELECT
    it->state = ReplicaInfo::State::kSendingSnapshot;
    // What was recorded between PSYNC and now is in the snapshot: the
    // replica's stream starts here.
    it->buffered.clear();
    it->ack_offset = offset;
    if (psync)
      out->Push(absl::StrCat("+FULLRESYNC ", replid, " ", offset, "\r\n"));
  }
  auto send = [&out](std::string_view chunk) -> absl::Status {
    for (int i = 0; i < 600000 && out->pending() > kSyncWindow; ++i) {
      if (out->closed()) break;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (!out->Push(chunk)) return absl::AbortedError("replica went away");
    return absl::OkStatus();
  };
  const std::vector<std::pair<std::string, std::string>> aux = {
      {"repl-stream-db", "0"},
      {"repl-id", replid},
      {"repl-offset", std::to_string(offset)}};
  const int64_t begin = NowMs();
  absl::Status s;
  uint64_t bytes = 0;
  if (diskless) {
    std::string mark = RandomHex40();
    s = send(absl::StrCat("$EOF:", mark, "\r\n"));
    if (s.ok()) {
      s = snapshot->Write(
          [&](std::string_view chunk) {
            bytes += chunk.size();
            return send(chunk);
          },
          aux);
    }
    if (s.ok()) s = send(mark);
  } else {
    std::string path =
        absl::StrCat(server_.config().GetString("dir"), "/temp-repl-",
                     ::getpid(), "-", client_id, ".rdb");
    {
      std::error_code ignored;  // the memory engine may have no dir yet
      std::filesystem::create_directories(server_.config().GetString("dir"),
                                          ignored);
      std::ofstream file(path, std::ios::binary | std::ios::trunc);
      if (!file) {
        s = absl::InternalError(absl::StrCat("cannot create ", path));
      } else {
        s = snapshot->Write(
            [&](std::string_view chunk) {
              file.write(chunk.data(),
                         static_cast<std::streamsize>(chunk.size()));
              bytes += chunk.size();
              return file ? absl::OkStatus()
                          : absl::InternalError("writing the sync file");
            },
            aux);
      }
    }
    if (s.ok()) {
      std::ifstream file(path, std::ios::binary);
      s = send(absl::StrCat("$", bytes, "\r\n"));
      std::string chunk(kFileChunk, '\0');
      while (s.ok() && file) {
        file.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        std::streamsize n = file.gcount();
        if (n <= 0) break;
        s = send(std::string_view(chunk.data(), static_cast<size_t>(n)));
      }
    }
    std::remove(path.c_str());
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it =
      std::find_if(replicas_.begin(), replicas_.end(),
                   [&](const auto& r) { return r.client_id == client_id; });
  if (it == replicas_.end()) return;
  if (!s.ok()) {
    DropReplicaLocked(it, absl::StrCat("full sync failed: ", s.ToString()));
    return;
  }
  spdlog::info("full sync of {} keys ({} bytes, {}) to replica {}:{} in {} ms",
               snapshot->keys_written(), bytes, diskless ? "diskless" : "disk",
               it->ip, it->listening_port, NowMs() - begin);
  if (diskless && it->drop_after_sync.empty()) {
    return;  // online with its first ACK, as in Redis
  }
  FinishSyncLocked(it);
}

void Replication::Replconf(CommandContext& ctx) {
  auto& args = ctx.args;
  if (args.size() % 2 == 0) {
    ctx.reply.Error("ERR syntax error");
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 1; i + 1 < args.size(); i += 2) {
    const std::string opt = ToLower(args[i]);
    const std::string& value = args[i + 1];
    if (opt == "ack") {
      int64_t offset = 0;
      if (!absl::SimpleAtoi(value, &offset)) return;
      for (auto it = replicas_.begin(); it != replicas_.end(); ++it) {
        if (it->client_id != ctx.session.id) continue;
        it->ack_offset = std::max(it->ack_offset, offset);
        it->ack_ms = NowMs();
        if (it->state == ReplicaInfo::State::kSendingSnapshot &&
            it->out->pending() == 0) {
          // A diskless sync is over once the replica acks the load.
          FinishSyncLocked(it);
        }
        break;
      }
      CheckWaitersLocked(NowMs());
      return;  // no reply, as in Redis
    }
    if (opt == "getack") return;
    Handshake& hs = handshakes_[ctx.session.id];
    if (opt == "listening-port") {
      int port = 0;
      if (!absl::SimpleAtoi(value, &port)) {
        ctx.reply.Error("ERR value is not an integer or out of range");
        return;
      }
      hs.listening_port = port;
    } else if (opt == "ip-address") {
      hs.ip = value;
    } else if (opt == "capa") {
      if (EqualsIgnoreCase(value, "eof")) hs.capa_eof = true;
      if (EqualsIgnoreCase(value, "psync2")) hs.capa_psync2 = true;
    } else if (opt != "rdb-only" && opt != "rdb-filter-only") {
      ctx.reply.Error(
          absl::StrCat("ERR Unrecognized REPLCONF option: ", args[i]));
      return;
    }
  }
  ctx.reply.Ok();
}

int64_t Replication::AckedReplicasLocked(int64_t offset) const {
  int64_t n = 0;
  for (const auto& r : replicas_) {
    if (r.state == ReplicaInfo::State::kOnline && r.ack_offset >= offset) ++n;
  }
  return n;
}

void Replication::CheckWaitersLocked(int64_t now_ms) {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    int64_t acked = AckedReplicasLocked(it->offset);
    bool timed_out = it->deadline_ms > 0 && now_ms >= it->deadline_ms;
    if (acked >= it->needed || timed_out || it->reply->settled()) {
      // A parked write answers its own reply once acked; on its timeout
      // the connection answers kSyncTimeoutError (deadline_ms is 0 here).
      it->reply->Complete(it->sync_reply.empty()
                              ? absl::StrCat(":", acked, "\r\n")
                              : std::move(it->sync_reply));
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

void Replication::Wait(CommandContext& ctx) {
  int64_t needed = 0, timeout = 0;
  if (!absl::SimpleAtoi(ctx.args[1], &needed) ||
      !absl::SimpleAtoi(ctx.args[2], &timeout)) {
    ctx.reply.Error("ERR value is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    ctx.reply.Error("ERR timeout is negative");
    return;
  }
  if (role_replica_.load()) {
    ctx.reply.Error(
        "ERR WAIT cannot be used with replica instances. Please also note that "
        "since Redis 4.0 if a replica is configured to be writable (which is "
        "not the default) writes to replicas are just local and are not "
        "propagated.");
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t offset = backlog_ ? backlog_->master_offset() : 0;
  int64_t acked = AckedReplicasLocked(offset);
  if (acked >= needed || (ctx.session.txn && ctx.session.txn->executing)) {
    ctx.reply.Integer(acked);
    return;
  }
  // Ask every replica for its offset now rather than at its next ACK.
  std::string getack;
  EmitLocked(stream_db_ < 0 ? 0 : stream_db_, {"REPLCONF", "GETACK", "*"},
             &getack);
  FeedLocked(getack);
  auto reply = std::make_shared<DeferredReply>(0, ":0\r\n");
  waiters_.push_back(
      {offset, needed, timeout > 0 ? NowMs() + timeout : 0, reply, {}});
  ctx.session.deferred = reply;
}

void Replication::OnDisconnect(uint64_t client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  handshakes_.erase(client_id);
  for (auto it = replicas_.begin(); it != replicas_.end(); ++it) {
    if (it->client_id == client_id) {
      spdlog::info("replica {}:{} disconnected", it->ip, it->listening_port);
      replicas_.erase(it);
      break;
    }
  }
}

void Replication::Cron() {
  int64_t last_ping = NowMs();
  std::unique_lock<std::mutex> cron_lock(cron_mu_);
  while (!stopping_) {
    cron_cv_.wait_for(cron_lock, std::chrono::milliseconds(10));
    if (stopping_) break;
    cron_lock.unlock();
    const int64_t now = NowMs();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (active_.load() && !role_replica_.load()) {
        std::string out;
        DrainExpiredLocked(&out);
        const int64_t period =
            server_.config().GetInt("repl-ping-replica-period") * 1000;
        if (!replicas_.empty() && now - last_ping >= period) {
          EmitLocked(stream_db_ < 0 ? 0 : stream_db_, {"PING"}, &out);
          last_ping = now;
        }
        if (!out.empty()) FeedLocked(out);
      }
      const int64_t max_lag = server_.config().GetInt("min-replicas-max-lag");
      const int64_t timeout = server_.config().GetInt("repl-timeout") * 1000;
      int64_t good = 0, online = 0;
      for (auto it = replicas_.begin(); it != replicas_.end();) {
        auto next = std::next(it);
        if (it->state == ReplicaInfo::State::kOnline) {
          ++online;
          if ((now - it->ack_ms) / 1000 <= max_lag) ++good;
          if (now - it->ack_ms > timeout) {
            DropReplicaLocked(it, "timeout: no ACK within repl-timeout");
          }
        }
        it = next;
      }
      good_replicas_ = good;
      online_replicas_ = online;
      if (!waiters_.empty()) CheckWaitersLocked(now);
    }
    cron_lock.lock();
  }
}

// --------------------------------------------------------------- replica

std::pair<std::string, int64_t> Replication::PsyncTarget() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!backlog_) return {"?", -1};
  return {replid_, backlog_->master_offset() + 1};
}

void Replication::OnFullSyncDone(const std::string& replid, int64_t offset) {
  std::unique_lock exec(server_.exec_mutex());
  std::lock_guard<std::mutex> lock(mu_);
  if (!backlog_) {
    backlog_ = std::make_unique<repl::Backlog>(
        static_cast<size_t>(server_.config().GetInt("repl-backlog-size")),
        offset);
  }
  backlog_->Reset(offset);
  getack_covers_ = -1;
  replid_ = replid;
  replid2_ = std::string(40, '0');
  second_replid_offset_ = -1;
  active_ = true;
  DropAllReplicasLocked("my master sent a new dataset");
}

void Replication::OnContinue(const std::string& new_replid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (new_replid.empty() || new_replid == replid_ || !backlog_) return;
  replid2_ = replid_;
  second_replid_offset_ = backlog_->master_offset() + 1;
  replid_ = new_replid;
  // Sub-replicas reconnect and continue by the new id (psync2).
  DropAllReplicasLocked("my master's replication id changed");
}

bool Replication::ApplyFromMaster(LinkSession& link,
                                  std::vector<std::string>& args,
                                  std::string_view raw) {
  const std::string name = ToLower(args[0]);
  auto append = [this](std::string_view bytes) {
    if (backlog_) FeedLocked(bytes);
  };
  if (name == "replconf") {
    std::lock_guard<std::mutex> lock(mu_);
    append(raw);
    return args.size() >= 2 && EqualsIgnoreCase(args[1], "getack");
  }
  if (name == "multi") {
    link.in_multi = true;
    link.queued.clear();
    link.multi_raw.assign(raw);
    return false;
  }
  if (link.in_multi && name != "exec") {
    link.queued.push_back(args);
    link.multi_raw.append(raw);
    return false;
  }
  // FUNCTION takes exec_mu_ exclusively (it changes the Lua engine): it
  // runs under the exclusive lock taken here, as inside EXEC.
  auto run = [&](std::vector<std::string>& cmd, bool exec_held) {
    const std::string n = ToLower(cmd[0]);
    if (n == "select") {
      int db = 0;
      if (cmd.size() == 2 && absl::SimpleAtoi(cmd[1], &db) && db >= 0 &&
          db < 16) {
        link.db = db;
      }
      return;
    }
    if (n == "ping" || n == "replconf") return;
    std::string reply = server_.RunInternal(
        link.db, 2, cmd, 0, exec_held && ToLower(cmd[0]) == "function");
    if (!reply.empty() && reply[0] == '-') {
      spdlog::warn("command from master failed: {} -> {}", cmd[0],
                   reply.substr(0, reply.size() - 2));
    }
  };
  if (name == "exec") {
    link.in_multi = false;
    link.multi_raw.append(raw);
    std::unique_lock exec(server_.exec_mutex());
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& cmd : link.queued) run(cmd, true);
    link.queued.clear();
    append(link.multi_raw);
    link.multi_raw.clear();
    return false;
  }
  if (name == "function") {
    std::unique_lock exec(server_.exec_mutex());
    std::lock_guard<std::mutex> lock(mu_);
    run(args, true);
    append(raw);
    return false;
  }
  std::shared_lock exec(server_.exec_mutex());
  std::lock_guard<std::mutex> lock(mu_);
  run(args, false);
  append(raw);
  return false;
}

void Replication::StartLink(const std::string& host, int port) {
  StopLink();
  {
    std::unique_lock exec(server_.exec_mutex());
    std::lock_guard<std::mutex> lock(mu_);
    BecomeReplicaLocked(host, port);
  }
  ResumeLink();
}

void Replication::BecomeReplicaLocked(const std::string& host, int port) {
  role_replica_ = true;
  master_host_ = host;
  master_port_ = port;
  DropAllReplicasLocked("becoming a replica", /*flush=*/true);
}

void Replication::ResumeLink() {
  std::string host;
  int port = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!role_replica_.load() || link_) return;
    host = master_host_;
    port = master_port_;
  }
  server_.engine().SetActiveExpiry(false);
  auto link = std::make_unique<ReplicaLink>(*this, server_, host, port);
  link->Start();
  std::lock_guard<std::mutex> lock(mu_);
  link_ = std::move(link);
}

void Replication::StopLink() {
  std::unique_ptr<ReplicaLink> link;
  {
    std::lock_guard<std::mutex> lock(mu_);
    link.swap(link_);
  }
  if (link) link->Stop();
}

bool Replication::KillMasterLink() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!link_) return false;
  link_->Kill();
  return true;
}

void Replication::ReplicaOf(CommandContext& ctx) {
  if (ctx.session.txn && ctx.session.txn->executing) {
    ChangeRole(ctx);  // EXEC holds exec_mu_ and stopped the link
    return;
  }
  const bool no_one = EqualsIgnoreCase(ctx.args[1], "no") &&
                      EqualsIgnoreCase(ctx.args[2], "one");
  if (!no_one) {
    // Checked before the link is touched: an error or the same master
    // leaves it running.
    int port = 0;
    if (!absl::SimpleAtoi(ctx.args[2], &port) || port < 0 || port > 65535) {
      ctx.reply.Error("ERR Invalid master port");
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (role_replica_.load() && master_host_ == ctx.args[1] &&
        master_port_ == port) {
      ctx.reply.SimpleString("OK Already connected to specified master");
      return;
    }
  }
  // REPLICAOF runs without exec_mu_ (see QdbServerImpl::Handle): the link
  // thread, which takes it to apply the master's stream, is joined first.
  if (no_one && !role_replica_.load()) {
    ctx.reply.Ok();
    return;
  }
  StopLink();
  {
    std::unique_lock exec(server_.exec_mutex());
    ChangeRole(ctx);
  }
  ResumeLink();
}

void Replication::ChangeRole(CommandContext& ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  if (EqualsIgnoreCase(ctx.args[1], "no") &&
      EqualsIgnoreCase(ctx.args[2], "one")) {
    if (role_replica_.load()) {
      if (backlog_) {
        // psync2: replicas of the old master may continue with us.
        replid2_ = replid_;
        second_replid_offset_ = backlog_->master_offset() + 1;
      }
      NewReplidLocked();
      role_replica_ = false;
      stream_db_ = -1;
      master_host_.clear();
      DropAllReplicasLocked("promoted to master");
      server_.engine().SetActiveExpiry(true);
      spdlog::info("MASTER MODE enabled (replid {}, replid2 {} up to {})",
                   replid_, replid2_, second_replid_offset_);
    }
    ctx.reply.Ok();
    return;
  }
  int port = 0;
  if (!absl::SimpleAtoi(ctx.args[2], &port) || port < 0 || port > 65535) {
    ctx.reply.Error("ERR Invalid master port");
    return;
  }
  if (role_replica_.load() && master_host_ == ctx.args[1] &&
      master_port_ == port) {
    // In a transaction the link was stopped: ResumeLink reconnects it.
    ctx.reply.SimpleString("OK Already connected to specified master");
    return;
  }
  BecomeReplicaLocked(ctx.args[1], port);
  ctx.reply.Ok();
}

void Replication::Role(CommandContext& ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  if (role_replica_.load()) {
    ctx.reply.ArrayHeader(5);
    ctx.reply.Bulk("slave");
    ctx.reply.Bulk(master_host_);
    ctx.reply.Integer(master_port_);
    static constexpr const char* kStates[] = {"connect", "connecting", "sync",
                                              "connected"};
    int st = link_state_.load();
    ctx.reply.Bulk(kStates[st < 0 || st > 3 ? 0 : st]);
    ctx.reply.Integer(link_ ? link_->processed_offset() : -1);
    return;
  }
  ctx.reply.ArrayHeader(3);
  ctx.reply.Bulk("master");
  ctx.reply.Integer(backlog_ ? backlog_->master_offset() : 0);
  ctx.reply.ArrayHeader(replicas_.size());
  for (const auto& r : replicas_) {
    ctx.reply.ArrayHeader(3);
    ctx.reply.Bulk(r.ip);
    ctx.reply.Bulk(std::to_string(r.listening_port));
    ctx.reply.Bulk(std::to_string(r.ack_offset));
  }
}

void Replication::AppendInfo(std::string* out) {
  const int64_t now = NowMs();
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t offset = backlog_ ? backlog_->master_offset() : 0;
  absl::StrAppend(out, "# Replication\r\n");
  if (role_replica_.load()) {
    absl::StrAppend(out, "role:slave\r\nmaster_host:", master_host_,
                    "\r\nmaster_port:", master_port_, "\r\n");
    if (link_) link_->AppendInfo(out);
    absl::StrAppend(out, "slave_read_only:", read_only_.load() ? 1 : 0,
                    "\r\nreplica_announced:1\r\n");
  } else {
    absl::StrAppend(out, "role:master\r\n");
  }
  absl::StrAppend(out, "connected_slaves:", replicas_.size(), "\r\n");
  if (!role_replica_.load()) {
    absl::StrAppend(out, "min_slaves_good_slaves:", good_replicas_.load(),
                    "\r\n");
  }
  int i = 0;
  for (const auto& r : replicas_) {
    const char* state = r.state == ReplicaInfo::State::kOnline ? "online"
                        : r.state == ReplicaInfo::State::kWaitSnapshot
                            ? "wait_bgsave"
                            : "send_bulk";
    absl::StrAppend(out, "slave", i++, ":ip=", r.ip, ",port=", r.listening_port,
                    ",state=", state, ",offset=", r.ack_offset,
                    ",lag=", (now - r.ack_ms) / 1000, "\r\n");
  }
  absl::StrAppend(
      out, "master_failover_state:no-failover\r\n", "master_replid:", replid_,
      "\r\n",
      "master_replid2:", replid2_.empty() ? std::string(40, '0') : replid2_,
      "\r\n", "master_repl_offset:", offset, "\r\n",
      "second_repl_offset:", second_replid_offset_, "\r\n",
      "repl_backlog_active:", backlog_ ? 1 : 0, "\r\n",
      "repl_backlog_size:", server_.config().GetInt("repl-backlog-size"),
      "\r\n", "repl_backlog_first_byte_offset:",
      backlog_ ? backlog_->first_offset() : 0, "\r\n",
      "repl_backlog_histlen:", backlog_ ? backlog_->histlen() : 0, "\r\n");
}

void Replication::AppendSyncStats(std::string* out) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StrAppend(out, "sync_full:", sync_full_, "\r\n",
                  "sync_partial_ok:", sync_partial_ok_, "\r\n",
                  "sync_partial_err:", sync_partial_err_, "\r\n");
}

}  // namespace reborn::server
