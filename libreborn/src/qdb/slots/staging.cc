#include "qdb/slots/staging.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "qdb/engine_core.h"
#include "qdb/errors.h"
#include "qdb/slots/dump_restore.h"
#include "rdb/dump.h"

namespace reborn::qdb {
namespace {

using storage::Column;

absl::Status StagingError(std::string_view what) {
  return RedisError(absl::StrCat("ERR slotsrestore-chunk: ", ToAbsl(what)));
}

rdb::ValueType RdbType(DataType type) {
  switch (type) {
    case DataType::kString:
      return rdb::ValueType::kString;
    case DataType::kHash:
      return rdb::ValueType::kHash;
    case DataType::kList:
      return rdb::ValueType::kList;
    case DataType::kSet:
      return rdb::ValueType::kSet;
    case DataType::kZSet:
      return rdb::ValueType::kZset;
    case DataType::kStream:  // streams are never staged in chunks
      break;
  }
  return rdb::ValueType::kString;
}

}  // namespace

absl::StatusOr<StagingRecord> Staging::Find(uint8_t db, std::string_view key,
                                            std::string_view token) {
  std::string raw;
  absl::Status s = core_.keyspace().store().Get(
      storage::ReadOptions{}, Column::kMeta, StagingKey(db, key), &raw);
  if (absl::IsNotFound(s)) return StagingError("no transfer of this key");
  if (!s.ok()) return s;
  StagingRecord record;
  if (absl::Status d = DecodeStagingRecord(raw, &record); !d.ok()) return d;
  if (record.token != token) {
    return StagingError("the key is staged by another transfer");
  }
  return record;
}

absl::Status Staging::Begin(uint8_t db, std::string_view key,
                            std::string_view token, DataType type) {
  absl::MutexLock lock(&mu_);
  StagingRecord record;
  record.type = type;
  record.token = std::string(token);
  if (type == DataType::kList || type == DataType::kString) {
    // An empty list of a new version (a string is staged as the list of its
    // chunks, in order); PutAll of nothing writes nothing.
    Txn none(&core_.keyspace());
    core_.lists().PutAll(none, db, key, {}, &record.meta);
  } else {
    record.meta.type = type;
    record.meta.version = core_.keyspace().NextVersion();
  }
  // Replaces any earlier staging of the key: its members become garbage.
  storage::WriteBatch batch;
  batch.Put(Column::kMeta, StagingKey(db, key), EncodeStagingRecord(record));
  return core_.keyspace().store().Write(batch);
}

absl::StatusOr<uint64_t> Staging::Add(uint8_t db, std::string_view key,
                                      std::string_view token,
                                      std::string_view payload) {
  absl::StatusOr<rdb::Value> part = rdb::DecodeDump(payload);
  if (!part.ok()) return part.status();
  absl::MutexLock lock(&mu_);
  absl::StatusOr<StagingRecord> record = Find(db, key, token);
  if (!record.ok()) return record.status();
  if (part->type != RdbType(record->type)) {
    return StagingError("part of another type");
  }
  if (part->type == rdb::ValueType::kString) {
    rdb::Value chunk = rdb::Value::List({std::move(part->str)});
    record->meta.value.clear();
    part = std::move(chunk);
  }
  Txn txn(&core_.keyspace());
  if (absl::Status s = AppendValue(core_, txn, db, key, *part, &record->meta);
      !s.ok()) {
    return s;
  }
  txn.batch().Put(Column::kMeta, StagingKey(db, key),
                  EncodeStagingRecord(*record));
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return record->meta.size;
}

absl::Status Staging::Commit(uint8_t db, std::string_view key,
                             std::string_view token, int64_t ttl_ms,
                             uint64_t expect) {
  Keyspace& ks = core_.keyspace();
  KeyLocks::Guard guard = ks.locks().Lock(db, key);
  absl::MutexLock lock(&mu_);
  absl::StatusOr<StagingRecord> record = Find(db, key, token);
  if (!record.ok()) return record.status();
  Metadata meta = record->meta;
  if (record->type == DataType::kString) {
    absl::StatusOr<std::vector<std::string>> chunks =
        core_.lists().All(db, key, record->meta);
    if (!chunks.ok()) return chunks.status();
    meta = Metadata{};
    meta.type = DataType::kString;
    for (const std::string& c : *chunks) meta.value += c;
    meta.size = meta.value.size();
  }
  if (expect > 0 && meta.size != expect) {
    return StagingError(absl::StrCat("staged ", meta.size, " of ", expect));
  }
  if (record->type == DataType::kString) meta.size = 0;
  Txn txn(&ks);
  auto old = ks.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  txn.batch().Delete(Column::kMeta, StagingKey(db, key));
  if (meta.type != DataType::kString && meta.size == 0) {
    // Nothing staged: Redis has no empty collections.
    if (*old) txn.DeleteKey(db, key, **old);
    return txn.Commit();
  }
  meta.expire_ms = ttl_ms > 0 ? Keyspace::NowMs() + ttl_ms : 0;
  txn.PutMeta(db, key, *old ? &**old : nullptr, meta);
  return txn.Commit();
}

absl::Status Staging::Abort(uint8_t db, std::string_view key,
                            std::string_view token) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<StagingRecord> record = Find(db, key, token);
  if (!record.ok()) return absl::OkStatus();  // nothing (left) to drop
  storage::WriteBatch batch;
  batch.Delete(Column::kMeta, StagingKey(db, key));
  return core_.keyspace().store().Write(batch);
}

absl::StatusOr<uint64_t> Staging::DropAll() {
  absl::MutexLock lock(&mu_);
  storage::ReadOptions ro;
  ro.lower_bound = DbBegin(kStagingDb);
  ro.upper_bound = DbEnd(kStagingDb);
  std::unique_ptr<storage::Iterator> it =
      core_.keyspace().store().NewIterator(ro, Column::kMeta);
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  if (absl::Status s = it->status(); !s.ok()) return s;
  if (n == 0) return 0;
  storage::WriteBatch batch;
  batch.DeleteRange(Column::kMeta, DbBegin(kStagingDb), DbEnd(kStagingDb));
  if (absl::Status s = core_.keyspace().store().Write(batch); !s.ok()) {
    return s;
  }
  return n;
}

}  // namespace reborn::qdb
