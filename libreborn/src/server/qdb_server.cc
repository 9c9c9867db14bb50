#include <algorithm>
#include <new>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "qdb/engine_access.h"
#include "qdb/engine_commands.h"
#include "qdb/engine_core.h"
#include "server/qdb_server_impl.h"
#include "server/write_effect.h"
#include "spdlog/spdlog.h"

namespace reborn {

absl::StatusOr<std::unique_ptr<QdbServer>> QdbServer::Create(
    const std::vector<std::string>& args) {
  auto config = std::make_unique<server::Config>();
  absl::Status s = config->LoadArgs(args);
  if (!s.ok()) return s;
  return std::unique_ptr<QdbServer>(
      std::make_unique<server::QdbServerImpl>(std::move(config)));
}

namespace server {
namespace {

std::string RandomHex(size_t n) {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n, '0');
  for (auto& c : out) c = kHex[gen() % 16];
  return out;
}

// The bind directive's addresses (stored normalised: one space apart).
std::vector<std::string> BindAddresses(const Config& config) {
  return absl::StrSplit(config.GetString("bind"), ' ', absl::SkipEmpty());
}

}  // namespace

QdbServerImpl::QdbServerImpl(std::unique_ptr<Config> config)
    : config_(std::move(config)), run_id_(RandomHex(40)) {
  repl_ = std::make_unique<Replication>(*this);
  maxmemory_ = std::make_unique<MaxmemoryGate>(*config_);
  net::ServerOptions options;
  options.bind = BindAddresses(*config_);
  options.port = static_cast<int>(config_->GetInt("port"));
  options.threads = static_cast<int>(config_->GetInt("io-threads"));
  options.backlog = static_cast<int>(config_->GetInt("tcp-backlog"));
  network_ = std::make_unique<net::Server>(options, this);
  tracking_ = std::make_unique<Tracking>(network_->clients());
}

QdbServerImpl::~QdbServerImpl() { Stop(); }

void QdbServerImpl::ApplyConfigHooks() {
  net::ServerLimits& limits = network_->limits();
  auto bind_size = [this](const char* name, std::atomic<size_t>* target) {
    *target = static_cast<size_t>(config_->GetInt(name));
    config_->OnChange(name, [this, name, target](const std::string&) {
      *target = static_cast<size_t>(config_->GetInt(name));
      return absl::OkStatus();
    });
  };
  auto bind_int = [this](const char* name, std::atomic<int64_t>* target) {
    *target = config_->GetInt(name);
    config_->OnChange(name, [this, name, target](const std::string&) {
      *target = config_->GetInt(name);
      return absl::OkStatus();
    });
  };
  bind_size("maxclients", &limits.max_clients);
  bind_size("client-query-buffer-limit", &limits.query_buffer_limit);
  auto bind_output_limit = [this, &limits] {
    const OutputBufferLimit normal = OutputLimitOf(
        config_->GetString("client-output-buffer-limit"), "normal");
    limits.output_hard_limit = static_cast<size_t>(normal.hard_bytes);
    limits.output_soft_limit = static_cast<size_t>(normal.soft_bytes);
    limits.output_soft_seconds = normal.soft_seconds;
    const OutputBufferLimit pubsub = OutputLimitOf(
        config_->GetString("client-output-buffer-limit"), "pubsub");
    limits.pubsub_hard_limit = static_cast<size_t>(pubsub.hard_bytes);
    limits.pubsub_soft_limit = static_cast<size_t>(pubsub.soft_bytes);
    limits.pubsub_soft_seconds = pubsub.soft_seconds;
  };
  bind_output_limit();
  config_->OnChange("client-output-buffer-limit",
                    [bind_output_limit](const std::string&) {
                      bind_output_limit();
                      return absl::OkStatus();
                    });
  auto bind_events = [this] {
    auto flags =
        ParseKeyspaceEvents(config_->GetString("notify-keyspace-events"));
    notifications_.set_flags(flags.ok() ? *flags : 0);
  };
  bind_events();
  config_->OnChange("notify-keyspace-events",
                    [bind_events](const std::string&) {
                      bind_events();
                      return absl::OkStatus();
                    });
  observer_.Bind(*config_);
  auto bind_tracking = [this] {
    tracking_->SetMaxKeys(
        static_cast<size_t>(config_->GetInt("tracking-table-max-keys")));
  };
  bind_tracking();
  config_->OnChange("tracking-table-max-keys",
                    [bind_tracking](const std::string&) {
                      bind_tracking();
                      return absl::OkStatus();
                    });
  info_providers_.emplace_back(
      "latencystats", [this](std::string_view section, std::string* out) {
        AppendLatencyStats(*this, section, out);
      });
  // maxmemory-clients in bytes: a percentage is of maxmemory (none
  // without one), as Redis' getClientEvictionLimit.
  auto bind_client_eviction = [this, &limits] {
    const std::string v = config_->GetString("maxmemory-clients");
    int64_t bytes = 0;
    if (absl::EndsWith(v, "%")) {
      int64_t percent = 0;
      if (absl::SimpleAtoi(absl::StripSuffix(v, "%"), &percent)) {
        bytes = config_->GetInt("maxmemory") / 100 * percent;
      }
    } else {
      bytes = config_->GetInt("maxmemory-clients");
    }
    limits.clients_memory_limit.store(bytes);
  };
  bind_client_eviction();
  for (const char* name : {"maxmemory", "maxmemory-clients"}) {
    config_->OnChange(name, [bind_client_eviction](const std::string&) {
      bind_client_eviction();
      return absl::OkStatus();
    });
  }
  bind_int("timeout", &limits.idle_timeout_s);
  bind_int("proto-max-bulk-len", &limits.max_bulk_len);
  bind_int("proto-max-multibulk-len", &limits.max_multibulk_len);
  // bind and port listen anew at once, as in Redis 7: the connections stay,
  // a listener whose address and port stay is kept, and a failure keeps the
  // old listeners (Config::SetMany puts the old values back) and answers
  // Redis' text; the log says why.
  auto relisten = [this](const char* redis_error) {
    return [this, redis_error](const std::string&) {
      absl::Status s = network_->Listen(
          BindAddresses(*config_), static_cast<int>(config_->GetInt("port")));
      if (s.ok()) return s;
      spdlog::warn("Failed applying new listen configuration: {}",
                   std::string(s.message()));
      return absl::UnavailableError(redis_error);
    };
  };
  config_->OnChange("bind", relisten("Failed to bind to specified addresses."));
  config_->OnChange(
      "port", relisten("Unable to listen on this port. Check server logs."));
  config_->OnChange("loglevel", [](const std::string& level) {
    spdlog::set_level(level == "debug"     ? spdlog::level::debug
                      : level == "verbose" ? spdlog::level::debug
                      : level == "warning" ? spdlog::level::warn
                                           : spdlog::level::info);
    return absl::OkStatus();
  });
}

absl::Status QdbServerImpl::OpenEngine() {
  constexpr int64_t kMiB = 1024 * 1024;
  QdbOptions options;
  absl::StatusOr<StorageEngine> kind =
      ParseStorageEngine(config_->GetString("engine"));
  if (!kind.ok()) return kind.status();
  options.engine = *kind;
  options.dir = config_->GetString("dir");
  options.block_cache_mb =
      static_cast<size_t>(config_->GetInt("block-cache-size") / kMiB);
  options.row_cache_mb =
      static_cast<size_t>(config_->GetInt("row-cache-size") / kMiB);
  options.hot_cache_mb =
      static_cast<size_t>(config_->GetInt("hot-cache-size") / kMiB);
  options.write_buffer_mb = static_cast<size_t>(
      std::max<int64_t>(1, config_->GetInt("write-buffer-size") / kMiB));
  options.sync_writes = config_->GetBool("sync-writes");
  options.group_commit = true;  // replies wait for FlushWrites (net::Server)
  options.bloom_bits = static_cast<int>(config_->GetInt("bloom-bits-per-key"));
  options.proto_max_bulk_len = config_->GetInt("proto-max-bulk-len");
  options.hll_sparse_max_bytes = config_->GetInt("hll-sparse-max-bytes");
  options.expiry_hz = static_cast<int>(config_->GetInt("hz"));
  options.migrate_target_password =
      config_->GetString("migrate-target-password");
  options.migrate_chunk_members =
      static_cast<size_t>(config_->GetInt("migrate-chunk-members"));
  options.migrate_chunk_bytes =
      static_cast<size_t>(config_->GetInt("migrate-chunk-bytes"));
  auto engine = QdbEngine::Open(options);
  if (!engine.ok()) return engine.status();
  engine_ = std::move(*engine);
  // What opening wrote (the db map, dropped staging) needs no client's
  // flush to be durable.
  if (absl::Status s = engine_->FlushWrites(); !s.ok()) return s;
  if (const std::string path = config_->GetString("rdb-import");
      !path.empty()) {
    if (absl::Status s = RdbSaver::Import(
            *engine_, path,
            static_cast<int>(config_->GetInt("key-load-delay")));
        !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("rdb-import ", path, ": ", s.message()));
    }
  }
  saver_ = std::make_unique<RdbSaver>(*engine_, *config_);
  info_providers_.emplace_back(
      "rdb", [this](std::string_view section, std::string* out) {
        if (section == "persistence") saver_->AppendInfo(out);
      });
  config_->OnChange("sync-writes", [this](const std::string&) {
    engine_->SetSyncWrites(config_->GetBool("sync-writes"));
    return absl::OkStatus();
  });
  config_->OnChange("block-cache-size", [this](const std::string&) {
    return engine_->SetBlockCacheMb(
        static_cast<size_t>(config_->GetInt("block-cache-size") / kMiB));
  });
  config_->OnChange("hot-cache-size", [this](const std::string&) {
    return engine_->SetHotCacheMb(
        static_cast<size_t>(config_->GetInt("hot-cache-size") / kMiB));
  });
  auto apply_lfu = [this](const std::string&) {
    engine_->SetLfuTracking(
        absl::StrContains(config_->GetString("maxmemory-policy"), "lfu"),
        static_cast<int>(config_->GetInt("lfu-log-factor")),
        static_cast<int>(config_->GetInt("lfu-decay-time")));
    return absl::OkStatus();
  };
  for (const char* name :
       {"maxmemory-policy", "lfu-log-factor", "lfu-decay-time"}) {
    config_->OnChange(name, apply_lfu);
  }
  apply_lfu("").IgnoreError();  // cannot fail
  // The listpack node sizes redis-server would use, for streams' `~` trims.
  auto stream_nodes = [this](const std::string&) {
    qdb::CoreOf(*engine_).streams().SetNodeLimits(
        config_->GetInt("stream-node-max-entries"),
        config_->GetInt("stream-node-max-bytes"));
    return absl::OkStatus();
  };
  (void)stream_nodes("");
  config_->OnChange("stream-node-max-entries", stream_nodes);
  config_->OnChange("stream-node-max-bytes", stream_nodes);
  // Beside the network limit's hook (ApplyConfigHooks).
  config_->OnChange("proto-max-bulk-len", [this](const std::string&) {
    return engine_->SetProtoMaxBulkLen(config_->GetInt("proto-max-bulk-len"));
  });
  config_->OnChange("hll-sparse-max-bytes", [this](const std::string&) {
    engine_->SetHllSparseMaxBytes(config_->GetInt("hll-sparse-max-bytes"));
    return absl::OkStatus();
  });
  auto encoding_limits = [this](const std::string&) {
    EncodingLimits limits;
    limits.hash_max_listpack_entries =
        config_->GetInt("hash-max-listpack-entries");
    limits.hash_max_listpack_value = config_->GetInt("hash-max-listpack-value");
    limits.set_max_intset_entries = config_->GetInt("set-max-intset-entries");
    limits.zset_max_listpack_entries =
        config_->GetInt("zset-max-listpack-entries");
    limits.zset_max_listpack_value = config_->GetInt("zset-max-listpack-value");
    engine_->SetEncodingLimits(limits);
    return absl::OkStatus();
  };
  (void)encoding_limits("");
  for (const char* name :
       {"hash-max-listpack-entries", "hash-max-listpack-value",
        "set-max-intset-entries", "zset-max-listpack-entries",
        "zset-max-listpack-value"}) {
    config_->OnChange(name, encoding_limits);
  }
  info_providers_.emplace_back(
      "engine", [this](std::string_view section, std::string* out) {
        AppendEngineInfo(*engine_, section, out);
      });
  return absl::OkStatus();
}

absl::Status QdbServerImpl::RegisterCommands() {
  absl::Status s = RegisterServerCommands(*this, table_);
  if (!s.ok()) return s;
  s = RegisterMemoryCommand(*this, table_);
  if (!s.ok()) return s;
  s = RegisterDebugCommand(*this, table_);
  if (!s.ok()) return s;
  s = RegisterObserverCommands(*this, table_);
  if (!s.ok()) return s;
  s = RegisterAclCommand(*this, table_);
  if (!s.ok()) return s;
  s = RegisterSaveCommands(*saver_, table_);
  if (!s.ok()) return s;
  s = RegisterPubSubCommands(pubsub_, table_);
  if (!s.ok()) return s;
  scripting_ = std::make_unique<Scripting>(*this);
  s = scripting_->Register(table_);
  if (!s.ok()) return s;
  return RegisterEngineCommands(*engine_, table_);
}

absl::Status QdbServerImpl::Start() {
  start_ms_ = absl::GetCurrentTimeNanos() / 1000000;
  ApplyConfigHooks();
  absl::Status s = OpenEngine();
  if (!s.ok()) return s;
  s = RegisterCommands();
  if (!s.ok()) return s;
  acl_ = std::make_unique<Acl>(table_, *config_, network_->clients());
  config_->OnChange("requirepass", [this](const std::string& password) {
    acl_->SetDefaultPassword(password);
    return absl::OkStatus();
  });
  if (acl_->HasFile()) {
    if (auto error = acl_->LoadFile()) {
      return absl::FailedPreconditionError(absl::StrCat("aclfile: ", *error));
    }
  }
  s = network_->Start();
  if (!s.ok()) return s;
  repl_->Start();
  // Expired keys feed the replication stream and keyspace notifications.
  engine_->SetExpiryListener([this](int db, std::string_view key) {
    repl_->OnExpired(db, key);
    notifications_.OnExpired(db, key);
    tracking_->InvalidateKey(key, 0);
    tracking_->FlushBroadcast();
  });
  spdlog::info("qdb-server ready on {}:{} ({} I/O threads)",
               config_->GetString("bind"), network_->port(),
               network_->thread_count());
  return absl::OkStatus();
}

int QdbServerImpl::port() const { return network_->port(); }
void QdbServerImpl::Wait() { network_->Wait(); }
void QdbServerImpl::RequestStop() { network_->RequestStop(); }

void QdbServerImpl::Stop() {
  if (stopped_.exchange(true)) return;
  if (engine_) engine_->SetExpiryListener(nullptr);
  repl_->Stop();
  network_->Stop();
  saver_.reset();  // waits for a running BGSAVE
  if (engine_) {
    absl::Status s = engine_->Flush();
    if (!s.ok())
      spdlog::error("flushing storage on shutdown: {}", s.ToString());
    engine_.reset();
  }
  spdlog::info("qdb-server stopped");
}

// Redis' protected mode: with no password, only loopback clients get in.
std::string QdbServerImpl::Admit(const Session& session) {
  if (!config_->GetBool("protected-mode") || !acl_->DefaultNeedsNoAuth() ||
      net::IsLocalPeer(session.peer)) {
    return "";
  }
  network_->clients().CountRejected();
  return "-DENIED Redis is running in protected mode because protected "
         "mode is enabled and no password is set for the default user. "
         "In this mode connections are only accepted from the loopback "
         "interface. If you want to connect from external computers to "
         "Redis you may adopt one of the following solutions: 1) Just "
         "disable protected mode sending the command 'CONFIG SET "
         "protected-mode no' from the loopback interface by connecting to "
         "Redis from the same host the server is running, however MAKE SURE "
         "Redis is not publicly accessible from internet if you do so. Use "
         "CONFIG REWRITE to make this change permanent. 2) Alternatively you "
         "can just disable the protected mode by editing the Redis "
         "configuration file, and setting the protected mode option to 'no', "
         "and then restarting the server. 3) If you started the server "
         "manually just for testing, restart it with the '--protected-mode "
         "no' option. 4) Setup a an authentication password for the default "
         "user. NOTE: You only need to do one of the above things in order "
         "for the server to start accepting connections from the "
         "outside.\r\n";
}

void QdbServerImpl::OnConnect(Session& session) {
  session.authenticated = acl_->DefaultNeedsNoAuth();
}

void QdbServerImpl::OnDisconnect(Session& session) {
  if (session.txn) ResetTransaction(session);
  if (session.push) repl_->OnDisconnect(session.id);
  pubsub_.UnsubscribeAll(session);
  tracking_->Disable(session);
  monitors_.Stop(session);
}

namespace {

// Commands that MULTI runs at once instead of queuing them.
bool RunsInsideMulti(const CommandSpec& spec) {
  return spec.name == "exec" || spec.name == "discard" ||
         spec.name == "multi" || spec.name == "watch" || spec.name == "quit" ||
         spec.name == "reset";
}

}  // namespace

void QdbServerImpl::FlushWrites() {
  // The replies go out regardless: the writes are applied and visible, and
  // a store that cannot write its log refuses the next writes itself.
  if (absl::Status s = engine_->FlushWrites(); !s.ok()) {
    spdlog::error("log flush before replies failed: {}", s.ToString());
  }
}

void QdbServerImpl::Handle(Session& session, std::vector<std::string>& args,
                           resp::ReplyWriter& reply) {
  // CLIENT CACHING applies to the next command, or to the transaction it
  // is given in (Redis clears it after any other command outside MULTI).
  const bool client_command = EqualsIgnoreCase(args[0], "client");
  const size_t mark = reply.buffer()->size();
  const uint64_t errors = session.error_replies;
  Dispatch(session, args, reply);
  // An error Run did not see: the command was refused before it ran.
  if (session.error_replies == errors && reply.buffer()->size() > mark &&
      (*reply.buffer())[mark] == '-') {
    CountErrorReply(session, std::string_view(*reply.buffer()).substr(mark));
  }
  if (tracking_->busy()) {
    tracking_->AfterCommand(
        session, client_command || (session.txn && session.txn->in_multi));
  }
}

void QdbServerImpl::Dispatch(Session& session, std::vector<std::string>& args,
                             resp::ReplyWriter& reply) {
  TransactionState* txn = session.txn.get();
  const bool queuing = txn != nullptr && txn->in_multi;
  const CommandTable::Entry* entry = table_.Find(args[0]);
  if (entry == nullptr) {
    if (queuing) txn->aborted = true;
    reply.Error(UnknownCommandError(args));
    return;
  }
  const CommandSpec& spec = *entry->spec;
  if (!session.authenticated && !spec.has(kCmdNoAuth)) {
    if (queuing) txn->aborted = true;
    command_stats_.For(spec).rejected.fetch_add(1, std::memory_order_relaxed);
    reply.Error("NOAUTH Authentication required.");
    return;
  }
  if (!spec.ArityOk(args.size())) {
    if (queuing) txn->aborted = true;
    command_stats_.For(spec).rejected.fetch_add(1, std::memory_order_relaxed);
    reply.Error(WrongArityError(spec.name));
    return;
  }
  if (!SubcommandSpecs(spec.name).empty()) {
    // A container with a subcommand table (CLUSTER): as Redis' lookup, an
    // unknown subcommand or its wrong arity is refused before anything
    // else, and aborts the transaction it would be queued in.
    const CommandSpec* sub = FindSubcommandSpec(spec, args);
    if (sub == nullptr || !sub->ArityOk(args.size())) {
      if (queuing) txn->aborted = true;
      if (sub != nullptr) {
        command_stats_.For(spec).rejected.fetch_add(1,
                                                    std::memory_order_relaxed);
      }
      reply.Error(sub == nullptr ? UnknownSubcommandError(spec.name, args[1])
                                 : WrongArityError(sub->name));
      return;
    }
  }
  if (spec.name == "debug" && !DebugCommandAllowed(*this, session)) {
    if (queuing) txn->aborted = true;
    command_stats_.For(spec).rejected.fetch_add(1, std::memory_order_relaxed);
    reply.Error(
        "ERR DEBUG command not allowed. If the enable-debug-command option is "
        "set to \"local\", you can run it from a local connection, otherwise "
        "you need to set this option in the configuration file, and then "
        "restart the server.");
    return;
  }
  if (RefusedByAcl(session, spec, args, queuing, reply)) return;
  if (session.protocol == 2 && session.subscribed() &&
      !PubSub::AllowedInSubscribedMode(spec.name)) {
    if (queuing) txn->aborted = true;
    command_stats_.For(spec).rejected.fetch_add(1, std::memory_order_relaxed);
    reply.Error(
        absl::StrCat("ERR Can't execute '", std::string(spec.name),
                     "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
                     "PING / QUIT / RESET are allowed in this context"));
    return;
  }
  if (RefusedForMemory(session, spec, args, queuing, reply)) return;
  {
    // EXEC is judged by what it would run, as Redis does with the flags of
    // the queue: a write in it meets the write gates, a command not flagged
    // stale the stale-replica gate; refused, the transaction is discarded.
    const bool exec_queue =
        spec.name == "exec" && txn != nullptr && txn->in_multi;
    const uint32_t flags = scripting_->CommandFlags(spec, args);
    bool writes = (flags & kCmdWrite) != 0;
    bool denies_stale = (flags & kCmdStale) == 0;
    if (exec_queue) {
      for (const std::vector<std::string>& queued : txn->queued) {
        const CommandTable::Entry* e = table_.Find(queued[0]);
        if (e == nullptr) continue;
        const uint32_t f = scripting_->CommandFlags(*e->spec, queued);
        writes |= (f & kCmdWrite) != 0;
        denies_stale |= (f & kCmdStale) == 0;
      }
    }
    std::string_view error;
    if (writes) error = repl_->WriteError();
    if (error.empty() && denies_stale) error = repl_->StaleError();
    if (!error.empty()) {
      command_stats_.For(spec).rejected.fetch_add(1, std::memory_order_relaxed);
      if (exec_queue) {
        ResetTransaction(session);
        reply.Error(absl::StrCat("EXECABORT Transaction discarded because of: ",
                                 std::string(error)));
        return;
      }
      if (queuing) txn->aborted = true;
      reply.Error(error);
      return;
    }
  }
  if (pause_.active()) {
    // What CLIENT PAUSE WRITE holds: writes and what may replicate, unless
    // a script declares no-writes; an EXEC whose queue holds one of those.
    auto writes = [this](const CommandSpec& s,
                         const std::vector<std::string>& a) {
      return ClientPause::MayReplicate(s) &&
             !((s.name == "eval" || s.name == "evalsha" || s.name == "fcall") &&
               scripting_->DeclaresNoWrites(s, a));
    };
    bool held = writes(spec, args);
    if (spec.name == "exec" && txn != nullptr && txn->in_multi) {
      for (const std::vector<std::string>& queued : txn->queued) {
        const CommandTable::Entry* e = table_.Find(queued[0]);
        held |= e != nullptr && writes(*e->spec, queued);
      }
    }
    if (pause_.Postpone(session, held)) return;
  }
  if (queuing && spec.has(kCmdNoMulti)) {
    // Redis' no-multi commands (SYNC, PSYNC, SAVE, SHUTDOWN).
    txn->aborted = true;
    reply.Error("ERR Command not allowed inside a transaction");
    return;
  }
  if (queuing && !RunsInsideMulti(spec)) {
    // As Redis during a busy script: a command that is not allow-busy is
    // refused, and the transaction with it (so that EXEC never runs the
    // half of it that arrived after the script).
    if (scripting_->RefuseBusy(reply)) {
      txn->aborted = true;
      return;
    }
    txn->queued.push_back(args);
    reply.SimpleString("QUEUED");
    return;
  }
  if (spec.name == "multi" || spec.name == "discard") {
    Run(session, *entry, args, reply);  // allow-busy: session state only
    return;
  }
  // repl-sync-replicas: the reply of a write (or of what may write: EXEC, a
  // script) waits for the replicas' acknowledgement.
  const size_t mark = reply.buffer()->size();
  if (spec.name == "exec" || spec.name == "replicaof" ||
      spec.name == "slaveof" || Scripting::LocksItself(spec.name)) {
    if (!Scripting::LocksItself(spec.name)) {
      std::string busy;
      resp::ReplyWriter busy_reply(&busy, session.protocol);
      if (scripting_->RefuseBusy(busy_reply)) {
        const std::string error(
            absl::StripSuffix(absl::StripPrefix(busy, "-"), "\r\n"));
        if (spec.name == "exec" && txn != nullptr && txn->in_multi) {
          // Redis' rejectCommand of EXEC: the transaction is discarded.
          ResetTransaction(session);
          reply.Error(absl::StrCat(
              "EXECABORT Transaction discarded because of: ", error));
        } else {
          reply.Error(error);
        }
        return;
      }
    }
    Run(session, *entry, args, reply);  // take exec_mu_ exclusively themselves
    if (spec.name == "exec" || Scripting::LocksItself(spec.name)) {
      repl_->AwaitReplicas(session, reply.buffer(), mark);
    }
    return;
  }
  std::shared_lock lock(exec_mu_, std::defer_lock);
  if (!scripting_->LockShared(lock, reply)) return;  // -BUSY
  // PUBLISH/SPUBLISH are replicated like writes (as by redis-server).
  if (spec.has(kCmdWrite) || spec.name == "publish" ||
      spec.name == "spublish") {
    {
      Replication::Scope scope(*repl_, /*transaction=*/false);
      Run(session, *entry, args, reply);
    }  // the effects are in the stream: now they can be acknowledged
    if (spec.has(kCmdWrite)) {
      repl_->AwaitReplicas(session, reply.buffer(), mark);
    }
    return;
  }
  Run(session, *entry, args, reply);
}

bool QdbServerImpl::RefusedForMemory(Session& session, const CommandSpec& spec,
                                     const std::vector<std::string>& args,
                                     bool queuing, resp::ReplyWriter& reply) {
  const bool is_exec = spec.name == "exec";
  // A script's flags may make EVAL/FCALL deny-oom (Scripting::CommandFlags).
  bool deny = (scripting_->CommandFlags(spec, args) & kCmdDenyOom) != 0 ||
              (queuing && !RunsInsideMulti(spec));
  if (is_exec && session.txn && session.txn->in_multi) {
    for (const std::vector<std::string>& queued : session.txn->queued) {
      const CommandTable::Entry* e = table_.Find(queued[0]);
      if (e != nullptr &&
          (scripting_->CommandFlags(*e->spec, queued) & kCmdDenyOom) != 0) {
        deny = true;
      }
    }
  }
  if (!deny || !maxmemory_->Exceeded()) return false;
  command_stats_.For(spec).rejected.fetch_add(1, std::memory_order_relaxed);
  if (is_exec && session.txn && session.txn->in_multi) {
    ResetTransaction(session);
    reply.Error(absl::StrCat("EXECABORT Transaction discarded because of: ",
                             kOomError));
    return true;
  }
  if (queuing) session.txn->aborted = true;
  reply.Error(kOomError);
  return true;
}

void QdbServerImpl::Run(Session& session, const CommandTable::Entry& entry,
                        std::vector<std::string>& args,
                        resp::ReplyWriter& reply) {
  const CommandSpec& spec = *entry.spec;
  CommandStats::Counters& counters = command_stats_.For(spec);
  session.last_command = QualifiedCommandName(spec, args);
  std::string* out = reply.buffer();
  size_t mark = out->size();
  const bool was_deferred = session.deferred != nullptr;
  int64_t begin = absl::GetCurrentTimeNanos();
  CommandContext ctx{session, spec, args, reply};
  const bool notify = spec.has(kCmdWrite) && notifications_.enabled();
  auto run_internal = [this](int db, std::vector<std::string> a) {
    return RunInternal(db, 2, std::move(a));
  };
  // The watched keys a flush is about to delete, while they still exist.
  std::vector<std::pair<int, std::string>> flushed;
  if (!watches_.empty() &&
      (spec.name == "flushall" || spec.name == "flushdb")) {
    flushed = ExistingWatchedKeys(spec.name == "flushall" ? -1 : session.db);
  }
  Notifications::Before before;
  // SMOVE's probe also tells WATCH whether its destination changes.
  if (notify || (spec.name == "smove" && !watches_.empty())) {
    before = notifications_.Probe(session.db, spec, args, run_internal);
  }
  // MONITOR shows a script before the commands it runs, the rest after.
  if (monitors_.active() && Monitors::ShownBefore(spec)) {
    monitors_.Feed(session, session.db, spec, args);
  }
  const int64_t flushed_keys = KeysToFlush(spec, args, session.db);
  session.changes.reset();
  try {
    entry.handler(ctx);
  } catch (const std::bad_alloc&) {
    // The last line of defence for an allocation no check foresaw: the
    // command fails (its batch was not written), the server lives on.
    out->resize(mark);
    spdlog::error("out of memory running {} for client {}", spec.name,
                  session.peer);
    reply.Error("OOM command not allowed: out of memory");
  }
  int64_t elapsed_us = (absl::GetCurrentTimeNanos() - begin) / 1000;
  if (monitors_.active() && Monitors::ShownAfter(spec, args)) {
    monitors_.Feed(session, session.db, spec, args);
  }
  counters.calls.fetch_add(1, std::memory_order_relaxed);
  counters.usec.fetch_add(static_cast<uint64_t>(elapsed_us),
                          std::memory_order_relaxed);
  ObserveCommand(session, spec, args, elapsed_us, was_deferred);
  bool failed = out->size() > mark && (*out)[mark] == '-';
  // A write that counted no change of its own (SETBIT of an equal bit) is
  // neither notified nor propagated, as in Redis; nor is a blocking command
  // that parked (it changes its keys when served, through RunInternal: a
  // tracked destination of BLMOVE is invalidated after the waiter's reply;
  // XREADGROUP may have created its consumer before it parked).
  const std::optional<int64_t> own_changes =
      std::exchange(session.changes, std::nullopt);
  const bool parked =
      !was_deferred && session.deferred != nullptr && spec.name != "xreadgroup";
  const bool unchanged = (own_changes && *own_changes == 0) || parked;
  if (!failed) {
    CountChanges(spec, args, std::string_view(*out).substr(mark), own_changes,
                 flushed_keys);
  }
  if (failed) {
    counters.failed.fetch_add(1, std::memory_order_relaxed);
    if (std::exchange(session.error_counted, false)) {
      ++session.error_replies;  // a script's error, counted with its call
    } else {
      CountErrorReply(session, std::string_view(*out).substr(mark));
    }
  }
  // Client-side caching: what a tracking client reads (a script's reads
  // count for the keys of the EVAL that runs it: Scripting does that).
  if (session.tracking && spec.has(kCmdReadOnly) && spec.name != "eval_ro" &&
      spec.name != "evalsha_ro" && spec.name != "fcall_ro") {
    tracking_->RememberKeys(session, spec, args);
  }
  if (!failed && (spec.name == "publish" || spec.name == "spublish")) {
    repl_->Record(session.db, args, ":0\r\n");
  }
  if (notify && !failed && !unchanged) {
    notifications_.AfterWrite(session.db, spec, args,
                              std::string_view(*out).substr(mark), before,
                              run_internal);
  } else if (notify && !failed && !parked) {
    notifications_.AfterUnchangedWrite(session.db, before, run_internal);
  }
  if (session.pubsub) {
    PubSub::AfterCommand(session);
    // What the command published to this client itself comes before its
    // reply, as from redis-server (not inside an EXEC's reply array).
    if (!(session.txn && session.txn->executing) && !session.reply_off &&
        !session.reply_skip) {
      out->insert(mark, session.messages->Take());
    }
  }
  std::optional<std::vector<std::vector<std::string>>> effects;
  effects.swap(session.effects);
  // A command that wrote some effects and then failed (MIGRATE: keys moved
  // before the target's error) still propagates what it did.
  const bool partial = failed && effects && !effects->empty();
  if ((!failed || partial) && spec.has(kCmdWrite) && !unchanged &&
      !WriteChangedNothing(spec.name, std::string_view(*out).substr(mark))) {
    if (effects) {
      for (const auto& effect : *effects)
        repl_->Record(session.db, effect, "+OK\r\n");
    } else {
      repl_->Record(session.db, args, std::string_view(*out).substr(mark));
    }
    if (!watches_.empty()) {
      TouchWatchedKeys(session, spec, args, flushed, before);
    }
    if (tracking_->busy()) {
      if (spec.name == "flushall" || spec.name == "flushdb") {
        tracking_->InvalidateAll(session.id);
      } else {
        tracking_->InvalidateWrite(spec, args, session.id);
      }
    }
    if (!blocking_.empty()) {
      auto keys = KeysToSignal(session, spec, args);
      if (session.txn && session.txn->executing) {
        auto& later = session.txn->to_signal;
        later.insert(later.end(), keys.begin(), keys.end());
      } else {
        for (const auto& [db, key] : keys) blocking_.Signal(db, key);
      }
      if (spec.name == "swapdb") {
        blocking_.SignalDb(std::atoi(args[1].c_str()));
        blocking_.SignalDb(std::atoi(args[2].c_str()));
      } else if (spec.name == "flushdb" || spec.name == "flushall") {
        // XREADGROUP waiters on a flushed stream get their error.
        for (int db = 0; db < 16; ++db) {
          if (spec.name == "flushall" || db == session.db) {
            blocking_.SignalDb(db);
          }
        }
      }
    }
  }
}

void QdbServerImpl::ObserveCommand(const Session& session,
                                   const CommandSpec& spec,
                                   const std::vector<std::string>& args,
                                   int64_t elapsed_us, bool was_deferred) {
  if (was_deferred || session.deferred == nullptr) {
    observer_.Observe(session, spec, args, elapsed_us);
    return;
  }
  // Parked: the session may be gone when the reply settles, so the hook
  // keeps what the entry needs. An error it is finally answered (XREADGROUP
  // whose group was destroyed meanwhile) counts as the command's failure,
  // as Redis counts it when it unblocks the client.
  session.deferred->OnSettled([this, &spec, args, elapsed_us,
                               peer = session.peer,
                               name = session.name](std::string_view reply) {
    observer_.Observe(peer, name, spec, args, elapsed_us);
    if (!reply.empty() && reply[0] == '-') {
      command_stats_.For(spec).failed.fetch_add(1, std::memory_order_relaxed);
      reply.remove_prefix(1);
      error_stats_.Count(reply.substr(0, reply.find('\r')));
    }
  });
}

std::vector<std::pair<int, std::string>> QdbServerImpl::KeysToSignal(
    const Session& session, const CommandSpec& spec,
    const std::vector<std::string>& args) {
  std::vector<std::pair<int, std::string>> keys;
  for (size_t pos : KeyPositions(spec, args)) {
    keys.emplace_back(session.db, args[pos]);
  }
  if (spec.name == "move" && args.size() > 2) {
    keys.emplace_back(std::atoi(args[2].c_str()), args[1]);
  }  // SORT's STORE destination is among KeyPositions
  return keys;
}

int64_t QdbServerImpl::KeysToFlush(const CommandSpec& spec,
                                   const std::vector<std::string>& args,
                                   int db) {
  const bool all = spec.name == "flushall";
  if (!all && spec.name != "flushdb") return 0;
  // FLUSHALL/FLUSHDB [ASYNC|SYNC]: anything else is refused.
  if (args.size() > 2 ||
      (args.size() == 2 && !EqualsIgnoreCase(args[1], "async") &&
       !EqualsIgnoreCase(args[1], "sync"))) {
    return 0;
  }
  int64_t keys = 0;
  for (int d = all ? 0 : db; d <= (all ? 15 : db); ++d) {
    absl::StatusOr<uint64_t> n = engine_->DbSize(d);
    if (n.ok()) keys += static_cast<int64_t>(*n);
  }
  return keys;
}

void QdbServerImpl::CountChanges(const CommandSpec& spec,
                                 const std::vector<std::string>& args,
                                 std::string_view reply,
                                 std::optional<int64_t> own,
                                 int64_t flushed_keys) {
  if (saver_ == nullptr) return;
  // The blocking pops run their inner command through RunInternal, which
  // counts it.
  if (spec.has(kCmdBlocking) && spec.name != "xreadgroup") return;
  if (!spec.has(kCmdWrite) && spec.name != "function") return;
  int64_t n;
  if (own) {
    n = *own;
  } else if (spec.name == "flushall" || spec.name == "flushdb") {
    n = flushed_keys;
  } else {
    n = WriteChanges(spec.name, args, reply);
  }
  if (n > 0) saver_->AddChanges(static_cast<uint64_t>(n));
}

std::vector<std::pair<int, std::string>> QdbServerImpl::ExistingWatchedKeys(
    int db) {
  std::vector<std::pair<int, std::string>> existing;
  for (auto& [key_db, key] : watches_.WatchedKeys(db)) {
    absl::StatusOr<int64_t> n = engine_->Exists({key}, key_db);
    if (!n.ok() || *n > 0) existing.emplace_back(key_db, std::move(key));
  }
  return existing;
}

void QdbServerImpl::TouchWatchedKeys(
    const Session& session, const CommandSpec& spec,
    const std::vector<std::string>& args,
    const std::vector<std::pair<int, std::string>>& flushed,
    const Notifications::Before& before) {
  if (spec.name == "flushall" || spec.name == "flushdb") {
    // Like Redis, a flush touches only the watched keys it deleted.
    for (const auto& [db, key] : flushed) watches_.Touch(db, key);
  } else if (spec.name == "swapdb") {
    watches_.TouchDb(std::atoi(args[1].c_str()));
    watches_.TouchDb(std::atoi(args[2].c_str()));
  } else if (spec.name == "smove" && args.size() == 4) {
    // As smoveCommand: nothing when source and destination are one key,
    // the destination only when the member was added to it.
    if (args[1] != args[2]) {
      watches_.Touch(session.db, args[1]);
      if (before.existed.empty() || !before.existed[0]) {
        watches_.Touch(session.db, args[2]);
      }
    }
  } else {
    for (const auto& [db, key] : KeysToSignal(session, spec, args)) {
      watches_.Touch(db, key);
    }
  }
}

void QdbServerImpl::CountErrorReply(Session& session, std::string_view reply) {
  ++session.error_replies;
  reply.remove_prefix(1);  // '-'
  error_stats_.Count(reply.substr(0, reply.find('\r')));
}

void QdbServerImpl::ResetStats() {
  command_stats_.Reset();
  error_stats_.Reset();
  observer_.histograms().Reset();
  auto& stats = network_->stats();
  stats.commands = 0;
  stats.input_bytes = 0;
  stats.output_bytes = 0;
  stats.protocol_errors = 0;
  stats.output_limit_disconnections = 0;
  stats.query_limit_disconnections = 0;
  stats.evicted_clients = 0;
  auth_failures_.Reset();
  if (engine_) engine_->ResetStats();
}

const std::vector<std::string>& QdbServerImpl::info_sections() const {
  static const std::vector<std::string> kDefault = {
      "server",      "clients", "memory",     "persistence", "stats",
      "replication", "cpu",     "errorstats", "keyspace"};
  return kDefault;
}

void QdbServerImpl::AppendInfo(std::string_view section,
                               std::string* out) const {
  AppendServerInfo(const_cast<QdbServerImpl&>(*this), section, out);
  for (const auto& [name, provider] : info_providers_) provider(section, out);
}

}  // namespace server
}  // namespace reborn
