#include "qdb/types/hashes.h"

#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "qdb/errors.h"
#include "qdb/numbers.h"

namespace reborn::qdb {

using storage::Column;

absl::StatusOr<std::optional<Metadata>> LookupTyped(Keyspace& ks, uint8_t db,
                                                    std::string_view key,
                                                    DataType type) {
  absl::StatusOr<std::optional<Metadata>> meta = ks.Lookup(db, key);
  if (!meta.ok()) return meta.status();
  if (*meta && (*meta)->type != type) return WrongTypeError();
  return meta;
}

absl::StatusOr<int64_t> Hashes::Set(uint8_t db, std::string_view key,
                                    const std::vector<MemberPair>& pairs,
                                    bool nx) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (*old && (*old)->type != DataType::kHash) return WrongTypeError();
  Metadata meta;
  if (*old) {
    meta = **old;
  } else {
    meta.type = DataType::kHash;
    meta.version = ks_.NextVersion();
  }
  // field -> value to write (the last occurrence wins).
  absl::flat_hash_map<std::string_view, std::string_view> last;
  std::vector<std::string> order;
  for (const auto& [f, v] : pairs) {
    if (last.insert_or_assign(f, v).second) order.push_back(f);
  }
  std::vector<std::optional<std::string>> existing(order.size());
  if (*old) {
    absl::StatusOr<std::vector<std::optional<std::string>>> cur =
        MultiGetMembers(ks_, db, key, meta.version, order);
    if (!cur.ok()) return cur.status();
    existing = std::move(*cur);
  }
  int64_t added = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    if (existing[i] && nx) continue;
    if (!existing[i]) ++added;
    txn.batch().Put(Column::kMembers,
                    EncodeMemberKey(db, key, meta.version, order[i]),
                    last[order[i]]);
  }
  if (added > 0 || !*old) {
    meta.size += static_cast<uint64_t>(added);
    txn.PutMeta(db, key, *old ? &**old : nullptr, meta);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return added;
}

absl::StatusOr<std::optional<std::string>> Hashes::Get(uint8_t db,
                                                       std::string_view key,
                                                       std::string_view field) {
  auto meta = LookupTyped(ks_, db, key, DataType::kHash);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  return GetMember(ks_, db, key, (*meta)->version, field);
}

absl::StatusOr<std::vector<std::optional<std::string>>> Hashes::MGet(
    uint8_t db, std::string_view key, const std::vector<std::string>& fields) {
  auto meta = LookupTyped(ks_, db, key, DataType::kHash);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::vector<std::optional<std::string>>(fields.size());
  return MultiGetMembers(ks_, db, key, (*meta)->version, fields);
}

absl::StatusOr<int64_t> Hashes::Del(uint8_t db, std::string_view key,
                                    const std::vector<std::string>& fields) {
  return RemoveMembers(ks_, db, key, DataType::kHash, fields);
}

absl::StatusOr<int64_t> Hashes::Len(uint8_t db, std::string_view key) {
  auto meta = LookupTyped(ks_, db, key, DataType::kHash);
  if (!meta.ok()) return meta.status();
  return *meta ? static_cast<int64_t>((*meta)->size) : 0;
}

absl::StatusOr<std::vector<MemberPair>> Hashes::GetAll(uint8_t db,
                                                       std::string_view key) {
  auto meta = LookupTyped(ks_, db, key, DataType::kHash);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::vector<MemberPair>();
  return AllMembers(ks_, db, key, (*meta)->version);
}

absl::StatusOr<std::string> Hashes::Update(
    uint8_t db, std::string_view key, std::string_view field,
    const std::function<
        absl::StatusOr<std::string>(const std::optional<std::string>&)>& fn) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (*old && (*old)->type != DataType::kHash) return WrongTypeError();
  Metadata meta;
  std::optional<std::string> cur;
  if (*old) {
    meta = **old;
    auto v = GetMember(ks_, db, key, meta.version, field);
    if (!v.ok()) return v.status();
    cur = std::move(*v);
  } else {
    meta.type = DataType::kHash;
    meta.version = ks_.NextVersion();
  }
  absl::StatusOr<std::string> next = fn(cur);
  if (!next.ok()) {
    // Still commit the removal of an expired record found on the way.
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return next.status();
  }
  txn.batch().Put(Column::kMembers,
                  EncodeMemberKey(db, key, meta.version, field), *next);
  if (!cur) {
    ++meta.size;
    txn.PutMeta(db, key, *old ? &**old : nullptr, meta);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return next;
}

absl::StatusOr<int64_t> Hashes::IncrBy(uint8_t db, std::string_view key,
                                       std::string_view field, int64_t delta) {
  int64_t result = 0;
  absl::StatusOr<std::string> r =
      Update(db, key, field,
             [&](const std::optional<std::string>& cur)
                 -> absl::StatusOr<std::string> {
               int64_t value = 0;
               if (cur && !ParseInt64(*cur, &value)) {
                 return RedisError("ERR hash value is not an integer");
               }
               if ((delta < 0 && value < 0 &&
                    delta < std::numeric_limits<int64_t>::min() - value) ||
                   (delta > 0 && value > 0 &&
                    delta > std::numeric_limits<int64_t>::max() - value)) {
                 return RedisError("ERR increment or decrement would overflow");
               }
               result = value + delta;
               return std::to_string(result);
             });
  if (!r.ok()) return r.status();
  return result;
}

absl::StatusOr<std::string> Hashes::IncrByFloat(uint8_t db,
                                                std::string_view key,
                                                std::string_view field,
                                                long double delta) {
  return Update(
      db, key, field,
      [&](const std::optional<std::string>& cur)
          -> absl::StatusOr<std::string> {
        long double value = 0;
        if (cur && !ParseLongDouble(*cur, &value)) {
          return RedisError("ERR hash value is not a float");
        }
        value += delta;
        if (std::isnan(value) || std::isinf(value)) {
          return RedisError("ERR increment would produce NaN or Infinity");
        }
        return FormatLongDouble(value);
      });
}

absl::StatusOr<std::optional<MemberPair>> Hashes::RandomField(
    uint8_t db, std::string_view key) {
  auto meta = LookupTyped(ks_, db, key, DataType::kHash);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  return RandomMember(ks_, db, key, **meta);
}

absl::StatusOr<std::vector<MemberPair>> Hashes::Sample(uint8_t db,
                                                       std::string_view key,
                                                       int64_t count) {
  auto meta = LookupTyped(ks_, db, key, DataType::kHash);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::vector<MemberPair>();
  return SampleKey(ks_, db, key, **meta, count);
}

absl::StatusOr<MemberPage> Hashes::Scan(uint8_t db, std::string_view key,
                                        uint64_t cursor, size_t count) {
  auto meta = LookupTyped(ks_, db, key, DataType::kHash);
  if (!meta.ok()) return meta.status();
  if (!*meta) return MemberPage{};
  // Small hashes come back whole, as Redis does for listpack encodings.
  if ((*meta)->size <= 128) {
    cursor = 0;
    count = 128;
  }
  return ScanMembers(ks_, cursors_, db, key, (*meta)->version, cursor, count);
}

void Hashes::PutAll(Txn& txn, uint8_t db, std::string_view key,
                    const std::vector<MemberPair>& fields, Metadata* meta) {
  meta->type = DataType::kHash;
  if (meta->version == 0) meta->version = ks_.NextVersion();
  meta->size += fields.size();
  for (const auto& [f, v] : fields) {
    txn.batch().Put(Column::kMembers,
                    EncodeMemberKey(db, key, meta->version, f), v);
  }
}

}  // namespace reborn::qdb
