#include "reborn/qdb_engine.h"

#include "absl/strings/ascii.h"
#include "qdb/cmd_util.h"
#include "qdb/engine_commands.h"
#include "qdb/engine_core.h"
#include "qdb/rdb_io.h"
#include "resp/reply_parser.h"
#include "resp/reply_writer.h"

namespace reborn {
namespace {

absl::Status CheckDb(int db) {
  if (db < 0 || db >= qdb::kNumDbs) {
    return absl::InvalidArgumentError("ERR DB index is out of range");
  }
  return absl::OkStatus();
}

}  // namespace

QdbEngine::QdbEngine(std::unique_ptr<qdb::EngineCore> core)
    : core_(std::move(core)) {}

QdbEngine::~QdbEngine() = default;

absl::StatusOr<std::unique_ptr<QdbEngine>> QdbEngine::Open(
    const QdbOptions& options) {
  absl::StatusOr<std::unique_ptr<qdb::EngineCore>> core =
      qdb::EngineCore::Open(options);
  if (!core.ok()) return core.status();
  return std::unique_ptr<QdbEngine>(new QdbEngine(std::move(*core)));
}

const QdbOptions& QdbEngine::options() const { return core_->options(); }

Reply QdbEngine::Execute(const std::vector<std::string>& args) {
  Context context;
  return Execute(context, args);
}

Reply QdbEngine::Execute(Context& context,
                         const std::vector<std::string>& args) {
  Session session;
  session.db = context.db;
  session.protocol = context.protocol;
  std::string out;
  resp::ReplyWriter writer(&out, context.protocol);
  std::vector<std::string> argv = args;
  // PING and INFO are the server's commands; embedders get a local version.
  if (!argv.empty() && EqualsIgnoreCase(argv[0], "ping")) {
    writer.SimpleString(argv.size() > 1 ? argv[1] : "PONG");
  } else if (!argv.empty() && EqualsIgnoreCase(argv[0], "info")) {
    writer.Bulk(Info(argv.size() > 1 ? argv[1] : ""));
  } else {
    core_->table().Dispatch(session, argv, writer);
  }
  context.db = session.db;
  Reply reply;
  size_t consumed = 0;
  resp::ReplyParser parser;
  if (parser.Parse(out, &consumed, &reply) !=
      resp::ReplyParser::Result::kReply) {
    return Reply::Error("ERR internal error: malformed reply");
  }
  return reply;
}

absl::StatusOr<std::optional<std::string>> QdbEngine::Get(std::string_view key,
                                                          int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core_->keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  return core_->strings().Get(ks.Physical(db), key);
}

absl::StatusOr<bool> QdbEngine::Set(std::string_view key,
                                    std::string_view value,
                                    const SetOptions& options, int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::StringSetOptions o;
  o.condition =
      static_cast<qdb::StringSetOptions::Condition>(options.condition);
  o.keep_ttl = options.keep_ttl;
  if (options.ttl_ms > 0)
    o.expire_at_ms = qdb::Keyspace::NowMs() + options.ttl_ms;
  qdb::Keyspace& ks = core_->keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  absl::StatusOr<qdb::StringSetResult> r =
      core_->strings().Set(ks.Physical(db), key, value, o);
  if (!r.ok()) return r.status();
  return r->written;
}

absl::StatusOr<int64_t> QdbEngine::IncrBy(std::string_view key, int64_t delta,
                                          int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core_->keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  return core_->strings().IncrBy(ks.Physical(db), key, delta);
}

absl::StatusOr<int64_t> QdbEngine::Append(std::string_view key,
                                          std::string_view value, int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core_->keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  return core_->strings().Append(ks.Physical(db), key, value);
}

absl::StatusOr<int64_t> QdbEngine::Del(const std::vector<std::string>& keys,
                                       int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core_->keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  return core_->keys().Del(ks.Physical(db), keys);
}

absl::StatusOr<int64_t> QdbEngine::Exists(const std::vector<std::string>& keys,
                                          int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core_->keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  return core_->keys().Exists(ks.Physical(db), keys);
}

absl::StatusOr<bool> QdbEngine::Expire(std::string_view key, int64_t ttl_ms,
                                       int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core_->keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  absl::StatusOr<int> r = core_->keys().ExpireAt(
      ks.Physical(db), key, qdb::Keyspace::NowMs() + ttl_ms, 0);
  if (!r.ok()) return r.status();
  return *r == 1;
}

absl::StatusOr<int64_t> QdbEngine::Ttl(std::string_view key, int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core_->keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  absl::StatusOr<int64_t> at = core_->keys().ExpireTime(ks.Physical(db), key);
  if (!at.ok() || *at < 0) return at;
  return std::max<int64_t>(0, *at - qdb::Keyspace::NowMs());
}

absl::StatusOr<QdbEngine::ScanPage> QdbEngine::Scan(uint64_t cursor,
                                                    std::string_view match,
                                                    size_t count, int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core_->keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  absl::StatusOr<qdb::Keyspace::ScanResult> r =
      ks.Scan(ks.Physical(db), cursor, match, count, std::nullopt);
  if (!r.ok()) return r.status();
  return ScanPage{r->cursor, std::move(r->keys)};
}

absl::StatusOr<uint64_t> QdbEngine::DbSize(int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core_->keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  return ks.DbSize(ks.Physical(db));
}

absl::Status QdbEngine::FlushDb(int db) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core_->keyspace();
  absl::MutexLock lock(&ks.layout_mu());
  return ks.FlushDb(ks.Physical(db));
}

absl::Status QdbEngine::FlushAll() {
  qdb::Keyspace& ks = core_->keyspace();
  absl::MutexLock lock(&ks.layout_mu());
  return ks.FlushAll();
}

absl::Status QdbEngine::Flush() { return core_->keyspace().store().Flush(); }

absl::Status QdbEngine::SetBlockCacheMb(size_t mb) {
  return core_->SetBlockCacheMb(mb);
}

absl::Status QdbEngine::SetProtoMaxBulkLen(int64_t bytes) {
  if (bytes < 1) return absl::InvalidArgumentError("must be positive");
  core_->strings().set_max_bytes(bytes);
  return absl::OkStatus();
}

void QdbEngine::ResetStats() { core_->keyspace().ResetStats(); }

std::string QdbEngine::Info(std::string_view section) {
  static constexpr std::pair<std::string_view, std::string_view> kSections[] = {
      {"memory", "Memory"},
      {"persistence", "Persistence"},
      {"stats", "Stats"},
      {"keyspace", "Keyspace"},
      {"rocksdb", "RocksDB"}};
  const std::string want = absl::AsciiStrToLower(std::string(section));
  std::string out;
  for (const auto& [name, title] : kSections) {
    if (!want.empty() && want != "all" && want != "everything" &&
        want != "default" && want != name) {
      continue;
    }
    if (!out.empty()) out.append("\r\n");
    if (name != "rocksdb") out.append("# ").append(title).append("\r\n");
    if (name == "memory") {
      const uint64_t used = core_->keyspace().store().ApproximateMemoryBytes();
      out.append("used_memory:").append(std::to_string(used)).append("\r\n");
    }
    AppendEngineInfo(*this, name, &out);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<RdbLoad>> QdbEngine::BeginRdbLoad(
    const RdbLoadOptions& options) {
  return qdb::BeginRdbLoad(*core_, options);
}

absl::StatusOr<std::unique_ptr<RdbSnapshot>> QdbEngine::TakeRdbSnapshot() {
  return qdb::TakeRdbSnapshot(*core_);
}

void QdbEngine::SetExpiryListener(
    std::function<void(int db, std::string_view key)> listener) {
  core_->keyspace().SetExpiryListener(std::move(listener));
}

void QdbEngine::SetActiveExpiry(bool on) {
  core_->keyspace().SetActiveExpiry(on);
}

}  // namespace reborn
