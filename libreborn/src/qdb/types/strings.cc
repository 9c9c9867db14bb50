#include "qdb/types/strings.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "qdb/errors.h"
#include "qdb/numbers.h"
#include "util/memory.h"

namespace reborn::qdb {

absl::Status Strings::CheckLength(uint64_t length) const {
  if (length > static_cast<uint64_t>(max_bytes())) {
    return RedisError(
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  }
  // proto-max-bulk-len may be set past what the machine has.
  if (absl::Status s = CheckClientSizedAllocation(length); !s.ok()) {
    return RedisError(std::string_view(s.message().data(), s.message().size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> Strings::Get(uint8_t db,
                                                        std::string_view key) {
  absl::StatusOr<std::optional<Metadata>> meta = ks_.Lookup(db, key);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  if ((*meta)->type != DataType::kString) return WrongTypeError();
  return std::move((*meta)->value);
}

absl::StatusOr<StringSetResult> Strings::Set(uint8_t db, std::string_view key,
                                             std::string_view value,
                                             const StringSetOptions& options) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  StringSetResult result;
  if (options.get && *old) {
    if ((*old)->type != DataType::kString) return WrongTypeError();
    result.old_value = (*old)->value;
  }
  const Metadata* old_meta = old->has_value() ? &**old : nullptr;
  const bool skip =
      (options.condition == StringSetOptions::Condition::kIfAbsent &&
       old_meta) ||
      (options.condition == StringSetOptions::Condition::kIfPresent &&
       !old_meta);
  if (!skip) {
    Metadata meta;
    meta.type = DataType::kString;
    meta.value.assign(value);
    if (options.keep_ttl && old_meta) meta.expire_ms = old_meta->expire_ms;
    if (options.expire_at_ms != 0) meta.expire_ms = options.expire_at_ms;
    if (meta.Expired(Keyspace::NowMs())) {
      // Already expired: the key is gone as soon as it is written.
      if (old_meta) txn.DeleteKey(db, key, *old_meta);
    } else {
      txn.PutMeta(db, key, old_meta, meta);
    }
    result.written = true;
  }
  // Also commits the deletion of an expired record LookupForWrite found.
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return result;
}

absl::StatusOr<std::vector<std::optional<std::string>>> Strings::MGet(
    uint8_t db, const std::vector<std::string>& keys) {
  absl::StatusOr<std::vector<std::optional<Metadata>>> metas =
      ks_.MultiLookup(db, keys);
  if (!metas.ok()) return metas.status();
  std::vector<std::optional<std::string>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    auto& m = (*metas)[i];
    if (m && m->type == DataType::kString) out[i] = std::move(m->value);
  }
  return out;
}

absl::StatusOr<bool> Strings::MSet(
    uint8_t db, const std::vector<std::pair<std::string, std::string>>& kvs,
    bool if_none_exist) {
  // The last value of a repeated key wins, as in Redis.
  absl::flat_hash_map<std::string_view, std::string_view> last;
  std::vector<std::string_view> order;
  std::vector<std::pair<uint8_t, std::string_view>> lock_keys;
  for (const auto& [k, v] : kvs) {
    auto [it, inserted] = last.insert_or_assign(k, v);
    if (inserted) {
      order.push_back(k);
      lock_keys.emplace_back(db, k);
    }
  }
  KeyLocks::Guard guard = ks_.locks().LockMany(lock_keys);
  Txn txn(&ks_);
  absl::StatusOr<std::vector<std::optional<Metadata>>> found =
      ks_.LookupManyForWrite(txn, db, order);
  if (!found.ok()) return found.status();
  std::vector<std::optional<Metadata>>& olds = *found;
  bool any_exists = false;
  for (const auto& old : olds) any_exists |= old.has_value();
  if (!(if_none_exist && any_exists)) {
    for (size_t i = 0; i < order.size(); ++i) {
      Metadata meta;
      meta.type = DataType::kString;
      meta.value.assign(last[order[i]]);
      txn.PutMeta(db, order[i], olds[i] ? &*olds[i] : nullptr, meta);
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return !(if_none_exist && any_exists);
}

absl::StatusOr<std::optional<std::string>> Strings::GetDel(
    uint8_t db, std::string_view key) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  std::optional<std::string> value;
  if (*old) {
    if ((*old)->type != DataType::kString) return WrongTypeError();
    value = (*old)->value;
    txn.DeleteKey(db, key, **old);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return value;
}

absl::StatusOr<std::optional<std::string>> Strings::GetEx(
    uint8_t db, std::string_view key, std::optional<int64_t> expire_at_ms) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  std::optional<std::string> value;
  if (*old) {
    if ((*old)->type != DataType::kString) return WrongTypeError();
    value = (*old)->value;
    if (expire_at_ms) {
      Metadata meta = **old;
      meta.expire_ms = *expire_at_ms;
      if (meta.Expired(Keyspace::NowMs())) {
        txn.DeleteKey(db, key, **old);
      } else if (meta.expire_ms != (*old)->expire_ms) {
        txn.PutMeta(db, key, &**old, meta);
      }
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return value;
}

template <typename Fn>
absl::Status Strings::Modify(uint8_t db, std::string_view key,
                             StringForm created, StringForm changed, Fn fn) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (*old && (*old)->type != DataType::kString) return WrongTypeError();
  std::optional<std::string> current;
  if (*old) current = std::move((*old)->value);
  absl::StatusOr<std::optional<std::string>> next = fn(current);
  if (!next.ok()) return next.status();
  if (*next) {
    Metadata meta;
    meta.type = DataType::kString;
    meta.expire_ms = *old ? (*old)->expire_ms : 0;
    meta.value = std::move(**next);
    meta.form = *old ? changed : created;
    txn.PutMeta(db, key, *old ? &**old : nullptr, meta);
  }
  return txn.Commit();
}

absl::StatusOr<int64_t> Strings::IncrBy(uint8_t db, std::string_view key,
                                        int64_t delta) {
  int64_t result = 0;
  absl::Status s =
      Modify(db, key, StringForm::kAuto, StringForm::kAuto,
             [&](const std::optional<std::string>& cur)
                 -> absl::StatusOr<std::optional<std::string>> {
               int64_t value = 0;
               if (cur && !ParseInt64(*cur, &value))
                 return RedisError(kNotIntegerText);
               if ((delta < 0 && value < 0 &&
                    delta < std::numeric_limits<int64_t>::min() - value) ||
                   (delta > 0 && value > 0 &&
                    delta > std::numeric_limits<int64_t>::max() - value)) {
                 return RedisError("ERR increment or decrement would overflow");
               }
               result = value + delta;
               return std::to_string(result);
             });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<std::string> Strings::IncrByFloat(uint8_t db,
                                                 std::string_view key,
                                                 long double delta) {
  std::string result;
  absl::Status s = Modify(
      db, key, StringForm::kEmbstr, StringForm::kEmbstr,
      [&](const std::optional<std::string>& cur)
          -> absl::StatusOr<std::optional<std::string>> {
        long double value = 0;
        if (cur && !ParseLongDouble(*cur, &value)) {
          return RedisError("ERR value is not a valid float");
        }
        value += delta;
        if (std::isnan(value) || std::isinf(value)) {
          return RedisError("ERR increment would produce NaN or Infinity");
        }
        result = FormatLongDouble(value);
        return result;
      });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<int64_t> Strings::Append(uint8_t db, std::string_view key,
                                        std::string_view value) {
  int64_t length = 0;
  absl::Status s =
      Modify(db, key, StringForm::kAuto, StringForm::kRaw,
             [&](std::optional<std::string>& cur)
                 -> absl::StatusOr<std::optional<std::string>> {
               std::string next = cur ? std::move(*cur) : std::string();
               if (cur) {
                 if (absl::Status c = CheckLength(next.size() + value.size());
                     !c.ok()) {
                   return c;
                 }
               }
               next.append(value);
               length = static_cast<int64_t>(next.size());
               return next;
             });
  if (!s.ok()) return s;
  return length;
}

absl::StatusOr<int64_t> Strings::SetRange(uint8_t db, std::string_view key,
                                          int64_t offset,
                                          std::string_view value) {
  int64_t length = 0;
  absl::Status s = Modify(
      db, key, StringForm::kRaw, StringForm::kRaw,
      [&](std::optional<std::string>& cur)
          -> absl::StatusOr<std::optional<std::string>> {
        if (!cur) {
          if (value.empty()) return std::nullopt;  // nothing to create
        } else {
          length = static_cast<int64_t>(cur->size());
          if (value.empty()) return std::nullopt;
        }
        if (absl::Status c =
                CheckLength(static_cast<uint64_t>(offset) + value.size());
            !c.ok()) {
          return c;
        }
        std::string next = cur ? std::move(*cur) : std::string();
        const size_t end = static_cast<size_t>(offset) + value.size();
        if (next.size() < end) next.resize(end, '\0');
        next.replace(static_cast<size_t>(offset), value.size(), value);
        length = static_cast<int64_t>(next.size());
        return next;
      });
  if (!s.ok()) return s;
  return length;
}

absl::StatusOr<int> Strings::SetBit(uint8_t db, std::string_view key,
                                    uint64_t offset, int bit, bool* changed) {
  int old_bit = 0;
  bool dirty = false;
  absl::Status s = Modify(
      db, key, StringForm::kRaw, StringForm::kRaw,
      [&](std::optional<std::string>& cur)
          -> absl::StatusOr<std::optional<std::string>> {
        dirty = !cur.has_value();
        std::string next = cur ? std::move(*cur) : std::string();
        const size_t byte = offset >> 3;
        if (next.size() <= byte) {
          next.resize(byte + 1, '\0');
          dirty = true;
        }
        const int shift = 7 - static_cast<int>(offset & 7);
        unsigned char c = static_cast<unsigned char>(next[byte]);
        old_bit = (c >> shift) & 1;
        if (old_bit != bit) dirty = true;
        c = static_cast<unsigned char>((c & ~(1 << shift)) | (bit << shift));
        next[byte] = static_cast<char>(c);
        // Stored even unchanged: Redis unshares the value (raw encoding).
        return next;
      });
  if (!s.ok()) return s;
  if (changed != nullptr) *changed = dirty;
  return old_bit;
}

absl::StatusOr<std::vector<std::optional<int64_t>>> Strings::BitField(
    uint8_t db, std::string_view key, const std::vector<BitFieldOp>& ops,
    int64_t* changes) {
  std::vector<std::optional<int64_t>> results;
  int64_t writes_changed = 0;
  results.reserve(ops.size());
  const uint64_t needed = BitFieldBytesNeeded(ops);
  absl::Status s = Modify(
      db, key, StringForm::kRaw, StringForm::kRaw,
      [&](std::optional<std::string>& cur)
          -> absl::StatusOr<std::optional<std::string>> {
        // The offsets were checked against proto-max-bulk-len; a field may
        // end a few bytes past it, as in Redis.
        if (absl::Status c = CheckClientSizedAllocation(needed); !c.ok()) {
          return RedisError(
              std::string_view(c.message().data(), c.message().size()));
        }
        // Created or grown: every write that runs counts (bitfieldGeneric's
        // `dirty` from lookupStringForBitCommand).
        bool dirty = !cur.has_value();
        std::string next = cur ? std::move(*cur) : std::string();
        if (next.size() < needed) {
          next.resize(needed, '\0');
          dirty = true;
        }
        writes_changed = 0;
        for (const BitFieldOp& op : ops) {
          if (op.kind == BitFieldOp::Kind::kGet) {
            results.push_back(GetBitField(next, op));
          } else {
            bool changed;
            results.push_back(WriteBitField(next, op, &changed));
            if (results.back() && (dirty || changed)) ++writes_changed;
          }
        }
        // Always stored, as Redis always unshares (and may create) it.
        return next;
      });
  if (!s.ok()) return s;
  if (changes != nullptr) *changes = writes_changed;
  return results;
}

absl::StatusOr<int64_t> Strings::BitOp(
    uint8_t db, BitOperation op, std::string_view dest,
    const std::vector<std::string>& sources) {
  std::vector<std::pair<uint8_t, std::string_view>> lock_keys;
  lock_keys.emplace_back(db, dest);
  for (const std::string& k : sources) lock_keys.emplace_back(db, k);
  KeyLocks::Guard guard = ks_.locks().LockMany(lock_keys);
  std::vector<std::string> values;
  values.reserve(sources.size());
  size_t max_len = 0;
  for (const std::string& k : sources) {
    absl::StatusOr<std::optional<Metadata>> m = ks_.Lookup(db, k);
    if (!m.ok()) return m.status();
    if (*m && (*m)->type != DataType::kString) return WrongTypeError();
    values.push_back(*m ? std::move((*m)->value) : std::string());
    max_len = std::max(max_len, values.back().size());
  }
  std::string result(max_len, '\0');
  for (size_t i = 0; i < max_len; ++i) {
    auto byte = [&](size_t j) -> unsigned char {
      return i < values[j].size() ? static_cast<unsigned char>(values[j][i])
                                  : 0;
    };
    unsigned char out = byte(0);
    if (op == BitOperation::kNot) out = static_cast<unsigned char>(~out);
    for (size_t j = 1; j < values.size(); ++j) {
      switch (op) {
        case BitOperation::kAnd:
          out &= byte(j);
          break;
        case BitOperation::kOr:
          out |= byte(j);
          break;
        case BitOperation::kXor:
          out ^= byte(j);
          break;
        case BitOperation::kNot:
          break;
      }
    }
    result[i] = static_cast<char>(out);
  }
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, dest);
  if (!old.ok()) return old.status();
  if (result.empty()) {
    if (*old) txn.DeleteKey(db, dest, **old);
  } else {
    Metadata meta;
    meta.type = DataType::kString;
    meta.value = std::move(result);
    meta.form = StringForm::kRaw;
    txn.PutMeta(db, dest, *old ? &**old : nullptr, meta);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return static_cast<int64_t>(max_len);
}

std::string_view StringRange(std::string_view s, int64_t start, int64_t end) {
  const int64_t len = static_cast<int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) return {};
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) return {};
  return s.substr(static_cast<size_t>(start),
                  static_cast<size_t>(end - start + 1));
}

int64_t PopCount(std::string_view s) {
  int64_t n = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    n += std::popcount(w);
  }
  for (; i < s.size(); ++i) {
    n += std::popcount(static_cast<unsigned char>(s[i]));
  }
  return n;
}

}  // namespace reborn::qdb
