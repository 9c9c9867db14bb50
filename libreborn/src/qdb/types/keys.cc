#include "qdb/types/keys.h"

#include "absl/container/flat_hash_set.h"
#include "qdb/errors.h"

namespace reborn::qdb {

absl::StatusOr<int64_t> KeyOps::Del(uint8_t db,
                                    const std::vector<std::string>& keys) {
  absl::flat_hash_set<std::string_view> seen;
  std::vector<std::pair<uint8_t, std::string_view>> lock_keys;
  for (const std::string& k : keys) {
    if (seen.insert(k).second) lock_keys.emplace_back(db, k);
  }
  KeyLocks::Guard guard = ks_.locks().LockMany(lock_keys);
  Txn txn(&ks_);
  std::vector<std::string_view> unique;
  unique.reserve(lock_keys.size());
  for (const auto& [unused, key] : lock_keys) unique.push_back(key);
  absl::StatusOr<std::vector<std::optional<Metadata>>> olds =
      ks_.LookupManyForWrite(txn, db, unique);
  if (!olds.ok()) return olds.status();
  int64_t deleted = 0;
  for (size_t i = 0; i < unique.size(); ++i) {
    if ((*olds)[i]) {
      txn.DeleteKey(db, unique[i], *(*olds)[i]);
      ++deleted;
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return deleted;
}

absl::StatusOr<int64_t> KeyOps::Exists(uint8_t db,
                                       const std::vector<std::string>& keys,
                                       bool touch) {
  absl::StatusOr<std::vector<std::optional<Metadata>>> metas =
      ks_.MultiLookup(db, keys, touch);
  if (!metas.ok()) return metas.status();
  int64_t n = 0;
  for (const auto& m : *metas) n += m.has_value();
  return n;
}

absl::StatusOr<std::optional<DataType>> KeyOps::Type(uint8_t db,
                                                     std::string_view key) {
  absl::StatusOr<std::optional<Metadata>> meta = ks_.Lookup(db, key, false);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  return (*meta)->type;
}

absl::StatusOr<int> KeyOps::ExpireAt(uint8_t db, std::string_view key,
                                     int64_t when_ms, int flags) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  int result = 0;
  if (*old) {
    const Metadata& m = **old;
    const int64_t current = m.expire_ms == 0 ? -1 : m.expire_ms;
    bool apply = true;
    if ((flags & kExpireNx) && current != -1) apply = false;
    if ((flags & kExpireXx) && current == -1) apply = false;
    if ((flags & kExpireGt) && (when_ms <= current || current == -1)) {
      apply = false;
    }
    if ((flags & kExpireLt) && current != -1 && when_ms >= current) {
      apply = false;
    }
    if (apply) {
      result = 1;
      // A replica (active expiry off) keeps the time as given, like Redis:
      // the master's clock decided, and its DEL follows.
      if (ks_.active_expiry() && when_ms <= Keyspace::NowMs()) {
        txn.DeleteKey(db, key, m);
      } else {
        Metadata meta = m;
        meta.expire_ms = when_ms;
        txn.PutMeta(db, key, &m, meta);
      }
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return result;
}

absl::StatusOr<int64_t> KeyOps::ExpireTime(uint8_t db, std::string_view key) {
  absl::StatusOr<std::optional<Metadata>> meta = ks_.Lookup(db, key, false);
  if (!meta.ok()) return meta.status();
  if (!*meta) return -2;
  return (*meta)->expire_ms == 0 ? -1 : (*meta)->expire_ms;
}

absl::StatusOr<std::optional<int64_t>> KeyOps::MemoryUsage(uint8_t db,
                                                           std::string_view key,
                                                           int64_t samples) {
  absl::StatusOr<std::optional<Metadata>> meta = ks_.Lookup(db, key, false);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  const Metadata& m = **meta;
  int64_t bytes = static_cast<int64_t>(EncodeMetaKey(db, key).size() +
                                       EncodeMetadata(m).size());
  if (m.type == DataType::kString || m.size == 0) return bytes;
  const std::string prefix = MemberPrefix(db, key, m.version);
  storage::ReadOptions options;
  options.lower_bound = prefix;
  options.upper_bound = PrefixEnd(prefix);
  options.fill_cache = false;
  std::unique_ptr<storage::Iterator> it =
      ks_.store().NewIterator(options, storage::Column::kMembers);
  int64_t sampled = 0;
  int64_t sampled_bytes = 0;
  for (it->SeekToFirst(); it->Valid() && (samples == 0 || sampled < samples);
       it->Next()) {
    ++sampled;
    sampled_bytes +=
        static_cast<int64_t>(it->key().size() + it->value().size());
    // A sorted set member also has its score-index record: the same key
    // with the 8-byte score before the member, and no value.
    if (m.type == DataType::kZSet) {
      sampled_bytes += static_cast<int64_t>(it->key().size() + 8);
    }
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  if (sampled == 0) return bytes;
  return bytes + sampled_bytes * static_cast<int64_t>(m.size) / sampled;
}

absl::StatusOr<int> KeyOps::Persist(uint8_t db, std::string_view key) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  int result = 0;
  if (*old && (*old)->expire_ms != 0) {
    Metadata meta = **old;
    meta.expire_ms = 0;
    txn.PutMeta(db, key, &**old, meta);
    result = 1;
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return result;
}

absl::StatusOr<int> KeyOps::Rename(uint8_t db, std::string_view src,
                                   std::string_view dst, bool nx) {
  KeyLocks::Guard guard = ks_.locks().LockMany({{db, src}, {db, dst}});
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> from =
      ks_.LookupForWrite(txn, db, src);
  if (!from.ok()) return from.status();
  if (!*from) {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return RedisError("ERR no such key");
  }
  if (src == dst) return nx ? 0 : 1;
  absl::StatusOr<std::optional<Metadata>> to = ks_.LookupForWrite(txn, db, dst);
  if (!to.ok()) return to.status();
  int result = 1;
  if (*to && nx) {
    result = 0;
  } else {
    absl::StatusOr<Metadata> moved =
        ks_.CloneValue(txn, db, src, **from, db, dst);
    if (!moved.ok()) return moved.status();
    txn.DeleteKey(db, src, **from);
    txn.PutMeta(db, dst, *to ? &**to : nullptr, *moved);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return result;
}

absl::StatusOr<int> KeyOps::Copy(uint8_t src_db, std::string_view src,
                                 uint8_t dst_db, std::string_view dst,
                                 bool replace) {
  KeyLocks::Guard guard = ks_.locks().LockMany({{src_db, src}, {dst_db, dst}});
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> from =
      ks_.LookupForWrite(txn, src_db, src);
  if (!from.ok()) return from.status();
  int result = 0;
  if (*from) {
    absl::StatusOr<std::optional<Metadata>> to =
        ks_.LookupForWrite(txn, dst_db, dst);
    if (!to.ok()) return to.status();
    if (!*to || replace) {
      absl::StatusOr<Metadata> copy =
          ks_.CloneValue(txn, src_db, src, **from, dst_db, dst);
      if (!copy.ok()) return copy.status();
      // Redis' dupStringObject never hands out a shared integer.
      if (copy->form == StringForm::kAuto) copy->form = StringForm::kUnshared;
      txn.PutMeta(dst_db, dst, *to ? &**to : nullptr, *copy);
      result = 1;
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return result;
}

absl::StatusOr<int> KeyOps::Move(uint8_t src_db, uint8_t dst_db,
                                 std::string_view key) {
  KeyLocks::Guard guard = ks_.locks().LockMany({{src_db, key}, {dst_db, key}});
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> from =
      ks_.LookupForWrite(txn, src_db, key);
  if (!from.ok()) return from.status();
  int result = 0;
  if (*from) {
    absl::StatusOr<std::optional<Metadata>> to =
        ks_.LookupForWrite(txn, dst_db, key);
    if (!to.ok()) return to.status();
    if (!*to) {
      absl::StatusOr<Metadata> moved =
          ks_.CloneValue(txn, src_db, key, **from, dst_db, key);
      if (!moved.ok()) return moved.status();
      txn.DeleteKey(src_db, key, **from);
      txn.PutMeta(dst_db, key, nullptr, *moved);
      result = 1;
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return result;
}

}  // namespace reborn::qdb
