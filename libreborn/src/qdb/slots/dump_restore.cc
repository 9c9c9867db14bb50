#include "qdb/slots/dump_restore.h"

#include "absl/strings/str_cat.h"
#include "qdb/engine_core.h"
#include "qdb/errors.h"
#include "qdb/numbers.h"
#include "qdb/slots/stream_dump.h"
#include "qdb/types/lists.h"
#include "qdb/types/members.h"
#include "qdb/types/zsets.h"
#include "rdb/dump.h"
#include "spdlog/spdlog.h"

namespace reborn::qdb {
namespace {

// Redis 7.0 defaults of the *-max-* encoding thresholds.

absl::Status Unsupported(std::string_view what, DataType type) {
  return RedisError(absl::StrCat("ERR ", std::string(what), " of a ",
                                 std::string(TypeName(type)),
                                 " is not supported yet"));
}

}  // namespace

absl::StatusOr<rdb::Value> ReadValue(EngineCore& core, uint8_t db,
                                     std::string_view key, const Metadata& meta,
                                     const storage::Snapshot* snapshot) {
  Keyspace& ks = core.keyspace();
  // Members of an overwritten version may be dropped by compaction even
  // under a snapshot: a short read is reported, never written out.
  auto check = [&](size_t n) {
    return n == meta.size ? absl::OkStatus()
                          : absl::DataLossError(absl::StrCat(
                                "key '", std::string(key), "' has ", n,
                                " members, its metadata says ", meta.size));
  };
  switch (meta.type) {
    case DataType::kString:
      return rdb::Value::String(meta.value);
    case DataType::kHash: {
      auto all = AllMembers(ks, db, key, meta.version, snapshot);
      if (!all.ok()) return all.status();
      if (absl::Status s = check(all->size()); !s.ok()) return s;
      return rdb::Value::Hash(std::move(*all));
    }
    case DataType::kSet: {
      auto all = AllMembers(ks, db, key, meta.version, snapshot);
      if (!all.ok()) return all.status();
      if (absl::Status s = check(all->size()); !s.ok()) return s;
      std::vector<std::string> members;
      members.reserve(all->size());
      for (auto& p : *all) members.push_back(std::move(p.first));
      return rdb::Value::Set(std::move(members));
    }
    case DataType::kList: {
      auto items = core.lists().All(db, key, meta, snapshot);
      if (!items.ok()) return items.status();
      return rdb::Value::List(std::move(*items));
    }
    case DataType::kZSet: {
      auto all = core.zsets().AllOf(db, key, meta, snapshot);
      if (!all.ok()) return all.status();
      if (absl::Status s = check(all->size()); !s.ok()) return s;
      std::vector<std::pair<std::string, double>> scores;
      scores.reserve(all->size());
      for (ScoredMember& m : *all) {
        scores.emplace_back(std::move(m.member), m.score);
      }
      return rdb::Value::Zset(std::move(scores));
    }
    case DataType::kStream: {
      auto stream = ExportStream(core.streams(), db, key, meta, snapshot);
      if (!stream.ok()) return stream.status();
      rdb::Value v;
      v.type = rdb::ValueType::kStream;
      v.stream = std::move(*stream);
      return v;
    }
  }
  return Unsupported("DUMP", meta.type);
}

absl::StatusOr<Metadata> WriteValue(EngineCore& core, Txn& txn, uint8_t db,
                                    std::string_view key,
                                    const rdb::Value& value) {
  Metadata meta;
  if (absl::Status s = AppendValue(core, txn, db, key, value, &meta); !s.ok()) {
    return s;
  }
  return meta;
}

absl::Status AppendValue(EngineCore& core, Txn& txn, uint8_t db,
                         std::string_view key, const rdb::Value& value,
                         Metadata* meta) {
  switch (value.type) {
    case rdb::ValueType::kString:
      meta->type = DataType::kString;
      meta->value = value.str;
      return absl::OkStatus();
    case rdb::ValueType::kHash:
      core.hashes().PutAll(txn, db, key, value.fields, meta);
      return absl::OkStatus();
    case rdb::ValueType::kSet:
      core.sets().PutAll(txn, db, key, value.items, meta);
      return absl::OkStatus();
    case rdb::ValueType::kList:
      core.lists().PutAll(txn, db, key, value.items, meta);
      return absl::OkStatus();
    case rdb::ValueType::kZset: {
      std::vector<ScoredMember> members;
      members.reserve(value.scores.size());
      for (const auto& [member, score] : value.scores) {
        members.push_back({member, score});
      }
      core.zsets().PutAll(txn, db, key, members, meta);
      return absl::OkStatus();
    }
    case rdb::ValueType::kStream:
      return ImportStream(core.streams(), txn, db, key, value.stream, meta);
  }
  return RedisError(rdb::kDumpBadFormatError);
}

absl::StatusOr<std::string> EncodingName(EngineCore& core, uint8_t db,
                                         std::string_view key,
                                         const Metadata& meta) {
  Keyspace& ks = core.keyspace();
  const EncodingLimits limits = core.encoding_limits();
  // Compared as Redis does: a size_t count or length against the setting.
  auto over = [](uint64_t n, int64_t max) {
    return max < 0 || n > static_cast<uint64_t>(max);
  };
  switch (meta.type) {
    case DataType::kString: {
      // Redis' tryObjectEncoding and OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
      int64_t v;
      if ((meta.form == StringForm::kAuto ||
           meta.form == StringForm::kUnshared) &&
          meta.value.size() <= 20 && ParseInt64(meta.value, &v)) {
        return "int";
      }
      return meta.form != StringForm::kRaw && meta.value.size() <= 44 ? "embstr"
                                                                      : "raw";
    }
    case DataType::kHash: {
      if (over(meta.size, limits.hash_max_listpack_entries)) {
        return "hashtable";
      }
      auto all = AllMembers(ks, db, key, meta.version);
      if (!all.ok()) return all.status();
      for (const auto& [f, v] : *all) {
        if (over(f.size(), limits.hash_max_listpack_value) ||
            over(v.size(), limits.hash_max_listpack_value)) {
          return "hashtable";
        }
      }
      return "listpack";
    }
    case DataType::kSet: {
      if (meta.converted || over(meta.size, limits.set_max_intset_entries)) {
        return "hashtable";
      }
      auto all = AllMembers(ks, db, key, meta.version);
      if (!all.ok()) return all.status();
      for (const auto& p : *all) {
        int64_t v;
        if (!ParseInt64(p.first, &v)) return "hashtable";
      }
      return "intset";
    }
    case DataType::kList:
      // Redis 7.0 stores every list as a quicklist (of listpack nodes);
      // OBJECT ENCODING answers "listpack" for small lists only from 7.2.
      return "quicklist";
    case DataType::kZSet: {
      if (over(meta.size, limits.zset_max_listpack_entries)) {
        return "skiplist";
      }
      auto all = core.zsets().AllOf(db, key, meta);
      if (!all.ok()) return all.status();
      for (const ScoredMember& m : *all) {
        if (over(m.member.size(), limits.zset_max_listpack_value)) {
          return "skiplist";
        }
      }
      return "listpack";
    }
    case DataType::kStream:
      return "stream";
  }
  return "unknown";
}

absl::StatusOr<std::optional<std::string>> Dump(EngineCore& core, uint8_t db,
                                                std::string_view key) {
  auto meta = core.keyspace().Lookup(db, key);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  absl::StatusOr<rdb::Value> value = ReadValue(core, db, key, **meta);
  if (!value.ok()) return value.status();
  return rdb::EncodeDump(*value);
}

absl::Status Restore(EngineCore& core, uint8_t db, const RestoreArgs& args) {
  Keyspace& ks = core.keyspace();
  KeyLocks::Guard guard = ks.locks().Lock(db, args.key);
  Txn txn(&ks);
  auto old = ks.LookupForWrite(txn, db, args.key);
  if (!old.ok()) return old.status();
  auto fail = [&](absl::Status error) {
    // Still commit the removal of an expired record found on the way.
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return error;
  };
  if (!args.replace && *old) {
    return fail(RedisError("BUSYKEY Target key name already exists."));
  }
  int64_t ttl;
  if (!ParseInt64(args.ttl, &ttl)) return fail(RedisError(kNotIntegerText));
  if (ttl < 0) return fail(RedisError("ERR Invalid TTL value, must be >= 0"));
  std::string detail;
  absl::StatusOr<rdb::Value> value =
      rdb::DecodeDump(args.payload, rdb::Limits{}, &detail);
  if (!value.ok()) {
    if (!detail.empty()) spdlog::debug("RESTORE rejected: {}", detail);
    return fail(value.status());
  }
  const Metadata* old_meta = *old ? &**old : nullptr;
  if (ttl != 0 && !args.absttl) ttl += Keyspace::NowMs();
  if (ttl != 0 && ttl <= Keyspace::NowMs()) {
    // Already expired: Redis replies OK and only removes the old key.
    if (old_meta) txn.DeleteKey(db, args.key, *old_meta);
    return txn.Commit();
  }
  absl::StatusOr<Metadata> meta = WriteValue(core, txn, db, args.key, *value);
  if (!meta.ok()) return fail(meta.status());
  meta->expire_ms = ttl;
  txn.PutMeta(db, args.key, old_meta, *meta);
  return txn.Commit();
}

}  // namespace reborn::qdb
