#include "qdb/types/hyperloglog.h"

#include <utility>

#include "qdb/errors.h"

namespace reborn::qdb {
namespace {

// Redis' isHLLObjectOrReply: the type first, then the HLL header.
absl::Status CheckHll(const Metadata& meta) {
  if (meta.type != DataType::kString) return WrongTypeError();
  if (!hll::LooksValid(meta.value)) return hll::NotHllError();
  return absl::OkStatus();
}

// Stores `value` as the new HLL at (db, key), keeping the TTL of `old`. A
// changed HLL is a raw string, as Redis unshares it before writing.
void PutHll(Txn& txn, uint8_t db, std::string_view key, const Metadata* old,
            std::string value) {
  Metadata meta;
  meta.type = DataType::kString;
  meta.expire_ms = old ? old->expire_ms : 0;
  meta.value = std::move(value);
  meta.form = StringForm::kRaw;
  txn.PutMeta(db, key, old, meta);
}

}  // namespace

absl::StatusOr<bool> HyperLogLogs::Add(uint8_t db, std::string_view key,
                                       const std::vector<std::string>& elements,
                                       int64_t* updates) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  const Metadata* old_meta = old->has_value() ? &**old : nullptr;
  std::string value;
  bool updated = false;
  int64_t changes = 0;
  if (old_meta) {
    if (absl::Status s = CheckHll(*old_meta); !s.ok()) return s;
    value = old_meta->value;
  } else {
    value = hll::NewSparse();
    updated = true;
    ++changes;
  }
  const int64_t max_bytes = sparse_max_bytes();
  absl::Status error;
  for (const std::string& element : elements) {
    absl::StatusOr<bool> changed = hll::Add(value, element, max_bytes);
    if (!changed.ok()) {
      error = changed.status();
      break;
    }
    updated |= *changed;
    if (*changed) ++changes;
  }
  if (error.ok() && updated) hll::InvalidateCache(value);
  if (updated || (!error.ok() && old_meta && value != old_meta->value)) {
    PutHll(txn, db, key, old_meta, std::move(value));
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  if (!error.ok()) return error;
  if (updates != nullptr) *updates = changes;
  return updated;
}

absl::StatusOr<uint64_t> HyperLogLogs::Count(uint8_t db, std::string_view key) {
  {
    // The common case, a valid cache, needs no lock.
    absl::StatusOr<std::optional<Metadata>> meta = ks_.Lookup(db, key);
    if (!meta.ok()) return meta.status();
    if (!*meta) return 0;
    if (absl::Status s = CheckHll(**meta); !s.ok()) return s;
    if (std::optional<uint64_t> card = hll::CachedCardinality((*meta)->value)) {
      return *card;
    }
  }
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (!*old) {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return 0;
  }
  if (absl::Status s = CheckHll(**old); !s.ok()) return s;
  std::string value = (*old)->value;
  std::optional<uint64_t> card = hll::CachedCardinality(value);
  if (!card) {
    absl::StatusOr<uint64_t> counted = hll::Count(value);
    if (!counted.ok()) return counted.status();
    card = *counted;
    hll::SetCachedCardinality(value, *card);
    PutHll(txn, db, key, &**old, std::move(value));
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return *card;
}

absl::StatusOr<uint64_t> HyperLogLogs::CountUnion(
    uint8_t db, const std::vector<std::string>& keys) {
  hll::RawRegisters max{};
  for (const std::string& key : keys) {
    absl::StatusOr<std::optional<Metadata>> meta = ks_.Lookup(db, key);
    if (!meta.ok()) return meta.status();
    if (!*meta) continue;
    if (absl::Status s = CheckHll(**meta); !s.ok()) return s;
    if (absl::Status s = hll::MergeInto((*meta)->value, max); !s.ok()) {
      return s;
    }
  }
  return hll::CountRaw(max);
}

absl::Status HyperLogLogs::Merge(uint8_t db, std::string_view dest,
                                 const std::vector<std::string>& sources) {
  std::vector<std::pair<uint8_t, std::string_view>> lock_keys;
  lock_keys.emplace_back(db, dest);
  for (const std::string& k : sources) lock_keys.emplace_back(db, k);
  KeyLocks::Guard guard = ks_.locks().LockMany(lock_keys);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, dest);
  if (!old.ok()) return old.status();
  const Metadata* old_meta = old->has_value() ? &**old : nullptr;
  // The destination is an input too, and is checked first, as in Redis.
  hll::RawRegisters max{};
  bool use_dense = false;
  auto merge = [&](const Metadata& meta) -> absl::Status {
    if (absl::Status s = CheckHll(meta); !s.ok()) return s;
    if (hll::EncodingOf(meta.value) == hll::kDense) use_dense = true;
    return hll::MergeInto(meta.value, max);
  };
  if (old_meta) {
    if (absl::Status s = merge(*old_meta); !s.ok()) return s;
  }
  for (const std::string& k : sources) {
    absl::StatusOr<std::optional<Metadata>> meta = ks_.Lookup(db, k);
    if (!meta.ok()) return meta.status();
    if (!*meta) continue;
    if (absl::Status s = merge(**meta); !s.ok()) return s;
  }
  std::string value = old_meta ? old_meta->value : hll::NewSparse();
  if (use_dense) {
    if (absl::Status s = hll::ToDense(value); !s.ok()) return s;
  }
  // Register by register, so a sparse result is the very opcodes Redis
  // builds (and is promoted at the same point).
  const int64_t max_bytes = sparse_max_bytes();
  for (int i = 0; i < hll::kRegisters; ++i) {
    if (max[i] == 0) continue;
    // The inputs merged cleanly, so the destination's opcodes cover every
    // register and this cannot fail.
    (void)hll::SetRegister(value, i, max[i], max_bytes);
  }
  hll::InvalidateCache(value);
  PutHll(txn, db, dest, old_meta, std::move(value));
  return txn.Commit();
}

absl::StatusOr<std::optional<std::string>> HyperLogLogs::ForDebug(
    uint8_t db, std::string_view key, bool to_dense, bool* converted) {
  *converted = false;
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  std::optional<std::string> value;
  if (*old) {
    if (absl::Status s = CheckHll(**old); !s.ok()) return s;
    value = (*old)->value;
    if (to_dense && hll::EncodingOf(*value) == hll::kSparse) {
      if (absl::Status s = hll::ToDense(*value); !s.ok()) return s;
      *converted = true;
      PutHll(txn, db, key, &**old, *value);
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return value;
}

}  // namespace reborn::qdb
