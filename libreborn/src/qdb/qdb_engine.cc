#include "reborn/qdb_engine.h"

#include <cmath>
#include <future>
#include <memory>

#include "absl/strings/ascii.h"
#include "command/command_table.h"
#include "command/deferred_reply.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/engine_commands.h"
#include "qdb/engine_core.h"
#include "qdb/function_record.h"
#include "qdb/slots/rdb_io.h"
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

// Runs fn(physical db) holding the database layout shared, as the RESP
// handlers do (qdb::WithDb); the type classes take the key locks they need.
template <typename Fn>
auto InDb(qdb::EngineCore& core, int db, Fn fn) -> decltype(fn(uint8_t{})) {
  if (absl::Status s = CheckDb(db); !s.ok()) return s;
  qdb::Keyspace& ks = core.keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  return fn(ks.Physical(db));
}

// The arity error of `command` when it got no fields, members or values.
absl::Status NoArgsError(std::string_view command) {
  return qdb::RedisError(WrongArityError(command));
}

// LPUSH/RPUSH and LPOP/RPOP of the typed API.
absl::StatusOr<int64_t> Push(qdb::EngineCore& core, std::string_view command,
                             qdb::Lists::End end, std::string_view key,
                             const std::vector<std::string>& values, int db) {
  if (values.empty()) return NoArgsError(command);
  return InDb(core, db, [&](uint8_t pdb) {
    return core.lists().Push(pdb, key, end, values, /*only_if_exists=*/false);
  });
}

absl::StatusOr<std::optional<std::string>> Pop(qdb::EngineCore& core,
                                               qdb::Lists::End end,
                                               std::string_view key, int db) {
  return InDb(core, db,
              [&](uint8_t pdb) -> absl::StatusOr<std::optional<std::string>> {
                absl::StatusOr<std::optional<std::vector<std::string>>> r =
                    core.lists().Pop(pdb, key, end, 1);
                if (!r.ok()) return r.status();
                if (!*r || (*r)->empty()) return std::nullopt;
                return std::move((*r)->front());
              });
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
  if (session.deferred) {
    // A slot move ran on a migration worker: wait for its reply here.
    auto done = std::make_shared<std::promise<std::string>>();
    std::future<std::string> result = done->get_future();
    session.deferred->AttachDelivery(
        [done](std::string r) { done->set_value(std::move(r)); });
    out += result.get();
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
  return InDb(*core_, db,
              [&](uint8_t pdb) { return core_->strings().Get(pdb, key); });
}

absl::StatusOr<bool> QdbEngine::Set(std::string_view key,
                                    std::string_view value,
                                    const SetOptions& options, int db) {
  qdb::StringSetOptions o;
  o.condition =
      static_cast<qdb::StringSetOptions::Condition>(options.condition);
  o.keep_ttl = options.keep_ttl;
  if (options.ttl < absl::ZeroDuration() ||
      (options.keep_ttl && options.ttl != absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        "SetOptions: a negative ttl, or ttl with keep_ttl");
  }
  if (options.ttl > absl::ZeroDuration()) {
    o.expire_at_ms =
        qdb::Keyspace::NowMs() + absl::ToInt64Milliseconds(options.ttl);
  }
  return InDb(*core_, db, [&](uint8_t pdb) -> absl::StatusOr<bool> {
    absl::StatusOr<qdb::StringSetResult> r =
        core_->strings().Set(pdb, key, value, o);
    if (!r.ok()) return r.status();
    return r->written;
  });
}

absl::StatusOr<int64_t> QdbEngine::IncrBy(std::string_view key, int64_t delta,
                                          int db) {
  return InDb(*core_, db, [&](uint8_t pdb) {
    return core_->strings().IncrBy(pdb, key, delta);
  });
}

absl::StatusOr<int64_t> QdbEngine::Append(std::string_view key,
                                          std::string_view value, int db) {
  return InDb(*core_, db, [&](uint8_t pdb) {
    return core_->strings().Append(pdb, key, value);
  });
}

absl::StatusOr<int64_t> QdbEngine::Del(const std::vector<std::string>& keys,
                                       int db) {
  return InDb(*core_, db,
              [&](uint8_t pdb) { return core_->keys().Del(pdb, keys); });
}

absl::StatusOr<int64_t> QdbEngine::Exists(const std::vector<std::string>& keys,
                                          int db) {
  return InDb(*core_, db,
              [&](uint8_t pdb) { return core_->keys().Exists(pdb, keys); });
}

absl::StatusOr<bool> QdbEngine::Expire(std::string_view key, absl::Duration ttl,
                                       int db) {
  const int64_t at = qdb::Keyspace::NowMs() + absl::ToInt64Milliseconds(ttl);
  return InDb(*core_, db, [&](uint8_t pdb) -> absl::StatusOr<bool> {
    absl::StatusOr<int> r = core_->keys().ExpireAt(pdb, key, at, 0);
    if (!r.ok()) return r.status();
    return *r == 1;
  });
}

absl::StatusOr<std::optional<absl::Duration>> QdbEngine::Ttl(
    std::string_view key, int db) {
  return InDb(
      *core_, db,
      [&](uint8_t pdb) -> absl::StatusOr<std::optional<absl::Duration>> {
        absl::StatusOr<int64_t> at = core_->keys().ExpireTime(pdb, key);
        if (!at.ok()) return at.status();
        if (*at == -2) return absl::NotFoundError("no such key");
        if (*at == -1) return std::nullopt;
        return absl::Milliseconds(
            std::max<int64_t>(0, *at - qdb::Keyspace::NowMs()));
      });
}

absl::StatusOr<std::optional<int64_t>> QdbEngine::MemoryUsage(
    std::string_view key, int64_t samples, int db) {
  return InDb(*core_, db,
              [&](uint8_t pdb) -> absl::StatusOr<std::optional<int64_t>> {
                return core_->keys().MemoryUsage(pdb, key, samples);
              });
}

absl::StatusOr<QdbEngine::ScanPage> QdbEngine::Scan(uint64_t cursor,
                                                    std::string_view match,
                                                    size_t count, int db) {
  return InDb(*core_, db, [&](uint8_t pdb) -> absl::StatusOr<ScanPage> {
    absl::StatusOr<qdb::Keyspace::ScanResult> r =
        core_->keyspace().Scan(pdb, cursor, match, count, std::nullopt);
    if (!r.ok()) return r.status();
    return ScanPage{r->cursor, std::move(r->keys)};
  });
}

absl::StatusOr<uint64_t> QdbEngine::DbSize(int db) {
  return InDb(*core_, db, [&](uint8_t pdb) -> absl::StatusOr<uint64_t> {
    return core_->keyspace().DbSize(pdb);
  });
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

absl::StatusOr<int64_t> QdbEngine::HSet(std::string_view key,
                                        const std::vector<FieldValue>& fields,
                                        int db) {
  if (fields.empty()) return NoArgsError("hset");
  return InDb(*core_, db, [&](uint8_t pdb) {
    return core_->hashes().Set(pdb, key, fields, /*nx=*/false);
  });
}

absl::StatusOr<std::optional<std::string>> QdbEngine::HGet(
    std::string_view key, std::string_view field, int db) {
  return InDb(*core_, db, [&](uint8_t pdb) {
    return core_->hashes().Get(pdb, key, field);
  });
}

absl::StatusOr<int64_t> QdbEngine::HDel(std::string_view key,
                                        const std::vector<std::string>& fields,
                                        int db) {
  if (fields.empty()) return NoArgsError("hdel");
  return InDb(*core_, db, [&](uint8_t pdb) {
    return core_->hashes().Del(pdb, key, fields);
  });
}

absl::StatusOr<std::vector<QdbEngine::FieldValue>> QdbEngine::HGetAll(
    std::string_view key, int db) {
  return InDb(*core_, db,
              [&](uint8_t pdb) { return core_->hashes().GetAll(pdb, key); });
}

absl::StatusOr<int64_t> QdbEngine::HLen(std::string_view key, int db) {
  return InDb(*core_, db,
              [&](uint8_t pdb) { return core_->hashes().Len(pdb, key); });
}

absl::StatusOr<int64_t> QdbEngine::SAdd(std::string_view key,
                                        const std::vector<std::string>& members,
                                        int db) {
  if (members.empty()) return NoArgsError("sadd");
  return InDb(*core_, db, [&](uint8_t pdb) {
    return core_->sets().Add(pdb, key, members);
  });
}

absl::StatusOr<int64_t> QdbEngine::SRem(std::string_view key,
                                        const std::vector<std::string>& members,
                                        int db) {
  if (members.empty()) return NoArgsError("srem");
  return InDb(*core_, db, [&](uint8_t pdb) {
    return core_->sets().Rem(pdb, key, members);
  });
}

absl::StatusOr<bool> QdbEngine::SIsMember(std::string_view key,
                                          std::string_view member, int db) {
  return InDb(*core_, db, [&](uint8_t pdb) -> absl::StatusOr<bool> {
    absl::StatusOr<std::vector<bool>> r =
        core_->sets().IsMember(pdb, key, {std::string(member)});
    if (!r.ok()) return r.status();
    return (*r)[0];
  });
}

absl::StatusOr<std::vector<std::string>> QdbEngine::SMembers(
    std::string_view key, int db) {
  return InDb(*core_, db,
              [&](uint8_t pdb) { return core_->sets().Members(pdb, key); });
}

absl::StatusOr<int64_t> QdbEngine::SCard(std::string_view key, int db) {
  return InDb(*core_, db,
              [&](uint8_t pdb) { return core_->sets().Card(pdb, key); });
}

absl::StatusOr<int64_t> QdbEngine::LPush(std::string_view key,
                                         const std::vector<std::string>& values,
                                         int db) {
  return Push(*core_, "lpush", qdb::Lists::End::kLeft, key, values, db);
}

absl::StatusOr<int64_t> QdbEngine::RPush(std::string_view key,
                                         const std::vector<std::string>& values,
                                         int db) {
  return Push(*core_, "rpush", qdb::Lists::End::kRight, key, values, db);
}

absl::StatusOr<std::optional<std::string>> QdbEngine::LPop(std::string_view key,
                                                           int db) {
  return Pop(*core_, qdb::Lists::End::kLeft, key, db);
}

absl::StatusOr<std::optional<std::string>> QdbEngine::RPop(std::string_view key,
                                                           int db) {
  return Pop(*core_, qdb::Lists::End::kRight, key, db);
}

absl::StatusOr<std::vector<std::string>> QdbEngine::LRange(std::string_view key,
                                                           int64_t start,
                                                           int64_t stop,
                                                           int db) {
  return InDb(*core_, db, [&](uint8_t pdb) {
    return core_->lists().Range(pdb, key, start, stop);
  });
}

absl::StatusOr<int64_t> QdbEngine::LLen(std::string_view key, int db) {
  return InDb(*core_, db,
              [&](uint8_t pdb) { return core_->lists().Len(pdb, key); });
}

absl::StatusOr<int64_t> QdbEngine::ZAdd(
    std::string_view key, const std::vector<ScoredMember>& members, int db) {
  if (members.empty()) return NoArgsError("zadd");
  std::vector<qdb::ScoredMember> scored;
  scored.reserve(members.size());
  for (const ScoredMember& m : members) {
    // ZADD's argument parser refuses NaN before anything is written.
    if (std::isnan(m.score)) {
      return qdb::RedisError("ERR value is not a valid float");
    }
    scored.push_back({m.member, m.score});
  }
  return InDb(*core_, db, [&](uint8_t pdb) -> absl::StatusOr<int64_t> {
    absl::StatusOr<qdb::ZAddResult> r =
        core_->zsets().Add(pdb, key, qdb::ZAddOptions{}, scored);
    if (!r.ok()) return r.status();
    return r->changed;
  });
}

absl::StatusOr<std::optional<double>> QdbEngine::ZScore(std::string_view key,
                                                        std::string_view member,
                                                        int db) {
  return InDb(*core_, db,
              [&](uint8_t pdb) -> absl::StatusOr<std::optional<double>> {
                absl::StatusOr<std::vector<std::optional<double>>> r =
                    core_->zsets().Scores(pdb, key, {std::string(member)});
                if (!r.ok()) return r.status();
                return (*r)[0];
              });
}

absl::StatusOr<int64_t> QdbEngine::ZRem(std::string_view key,
                                        const std::vector<std::string>& members,
                                        int db) {
  if (members.empty()) return NoArgsError("zrem");
  return InDb(*core_, db, [&](uint8_t pdb) {
    return core_->zsets().Rem(pdb, key, members);
  });
}

absl::StatusOr<std::vector<QdbEngine::ScoredMember>> QdbEngine::ZRange(
    std::string_view key, int64_t start, int64_t stop, int db) {
  qdb::ZRangeSpec spec;  // by rank, ascending
  spec.start = start;
  spec.stop = stop;
  return InDb(
      *core_, db,
      [&](uint8_t pdb) -> absl::StatusOr<std::vector<ScoredMember>> {
        absl::StatusOr<std::optional<std::vector<qdb::ScoredMember>>> r =
            core_->zsets().Range(pdb, key, spec);
        if (!r.ok()) return r.status();
        std::vector<ScoredMember> out;
        if (!*r) return out;
        out.reserve((*r)->size());
        for (qdb::ScoredMember& m : **r) {
          out.push_back({m.score, std::move(m.member)});
        }
        return out;
      });
}

absl::StatusOr<int64_t> QdbEngine::ZCard(std::string_view key, int db) {
  return InDb(*core_, db,
              [&](uint8_t pdb) { return core_->zsets().Card(pdb, key); });
}

absl::Status QdbEngine::Flush() { return core_->keyspace().store().Flush(); }

absl::Status QdbEngine::SetBlockCacheMb(size_t mb) {
  return core_->SetBlockCacheMb(mb);
}

bool QdbEngine::HasUnflushedWrites() const {
  return core_->keyspace().store().HasUnflushedWrites();
}

absl::Status QdbEngine::FlushWrites() {
  return core_->keyspace().store().FlushWrites();
}

absl::Status QdbEngine::SetHotCacheMb(size_t mb) {
  return core_->SetHotCacheMb(mb);
}

void QdbEngine::SetSyncWrites(bool sync) {
  core_->keyspace().store().SetSyncWrites(sync);
}

absl::Status QdbEngine::SetProtoMaxBulkLen(int64_t bytes) {
  if (bytes < 1) return absl::InvalidArgumentError("must be positive");
  core_->strings().set_max_bytes(bytes);
  return absl::OkStatus();
}

void QdbEngine::SetLfuTracking(bool enabled, int log_factor,
                               int decay_minutes) {
  core_->keyspace().clock().SetLfu(enabled, log_factor, decay_minutes);
}

void QdbEngine::SetHllSparseMaxBytes(int64_t bytes) {
  core_->hyperloglogs().set_sparse_max_bytes(bytes);
}

void QdbEngine::SetEncodingLimits(const EncodingLimits& limits) {
  core_->set_encoding_limits(limits);
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

absl::StatusOr<std::vector<std::string>> QdbEngine::FunctionLibraries() {
  return qdb::ReadFunctionsRecord(core_->keyspace().store());
}

absl::Status QdbEngine::SetFunctionLibraries(
    const std::vector<std::string>& codes) {
  storage::WriteBatch batch;
  qdb::PutFunctionsRecord(codes, &batch);
  return core_->keyspace().store().Write(batch);
}

void QdbEngine::SetExpiryListener(
    std::function<void(int db, std::string_view key)> listener) {
  core_->keyspace().SetExpiryListener(std::move(listener));
}

void QdbEngine::SetActiveExpiry(bool on) {
  core_->keyspace().SetActiveExpiry(on);
}

}  // namespace reborn
