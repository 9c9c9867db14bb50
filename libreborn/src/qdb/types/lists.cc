#include "qdb/types/lists.h"

#include <algorithm>
#include <memory>

#include "qdb/errors.h"

namespace reborn::qdb {
namespace {

using storage::Column;

// A new list starts in the middle of the index space, so it can grow
// 2^63 elements in either direction.
constexpr uint64_t kInitialIndex = uint64_t{1} << 63;

// Redis' LRANGE/LTRIM normalisation of [start, stop] against `len`.
// Returns false when the range is empty.
bool NormalizeRange(int64_t len, int64_t* start, int64_t* stop) {
  if (*start < 0) *start += len;
  if (*stop < 0) *stop += len;
  if (*start < 0) *start = 0;
  if (*start > *stop || *start >= len) return false;
  if (*stop >= len) *stop = len - 1;
  return true;
}

}  // namespace

std::string ListElementKey(uint8_t db, std::string_view key, uint64_t version,
                           uint64_t index) {
  std::string out = MemberPrefix(db, key, version);
  PutFixed64(&out, index);
  return out;
}

absl::StatusOr<std::optional<Metadata>> Lists::Get(uint8_t db,
                                                   std::string_view key) {
  return ks_.LookupOfType(db, key, DataType::kList);
}

absl::StatusOr<std::optional<Metadata>> Lists::GetForWrite(
    Txn& txn, uint8_t db, std::string_view key) {
  return ks_.LookupOfTypeForWrite(txn, db, key, DataType::kList);
}

absl::Status Lists::ReadRange(uint8_t db, std::string_view key,
                              const Metadata& meta, uint64_t from, uint64_t to,
                              std::vector<std::string>* out,
                              const storage::Snapshot* snapshot) {
  if (from >= to) return absl::OkStatus();
  storage::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.lower_bound = ListElementKey(db, key, meta.version, from);
  ro.upper_bound = ListElementKey(db, key, meta.version, to);
  std::unique_ptr<storage::Iterator> it =
      ks_.store().NewIterator(ro, Column::kMembers);
  out->reserve(out->size() + (to - from));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out->emplace_back(it->value());
  }
  return it->status();
}

void Lists::Finish(Txn& txn, uint8_t db, std::string_view key,
                   const Metadata* old, Metadata& meta) {
  meta.size = meta.list_tail - meta.list_head;
  if (meta.size == 0) {
    if (old) txn.DeleteKey(db, key, *old);
  } else {
    txn.PutMeta(db, key, old, meta);
  }
}

absl::StatusOr<int64_t> Lists::Push(uint8_t db, std::string_view key, End end,
                                    const std::vector<std::string>& values,
                                    bool only_if_exists) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old = GetForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (!*old && only_if_exists) {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return 0;
  }
  Metadata meta;
  if (*old) {
    meta = **old;
  } else {
    meta.type = DataType::kList;
    meta.version = ks_.NextVersion();
    meta.list_head = meta.list_tail = kInitialIndex;
  }
  for (const std::string& v : values) {
    const uint64_t index =
        end == End::kLeft ? --meta.list_head : meta.list_tail++;
    txn.batch().Put(Column::kMembers,
                    ListElementKey(db, key, meta.version, index), v);
  }
  Finish(txn, db, key, old->has_value() ? &**old : nullptr, meta);
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return static_cast<int64_t>(meta.size);
}

absl::StatusOr<std::optional<std::vector<std::string>>> Lists::Pop(
    uint8_t db, std::string_view key, End end, uint64_t count) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old = GetForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (!*old) {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return std::nullopt;
  }
  Metadata meta = **old;
  const uint64_t n = std::min<uint64_t>(count, meta.size);
  std::vector<std::string> out;
  if (end == End::kLeft) {
    absl::Status s =
        ReadRange(db, key, meta, meta.list_head, meta.list_head + n, &out);
    if (!s.ok()) return s;
  } else {
    absl::Status s =
        ReadRange(db, key, meta, meta.list_tail - n, meta.list_tail, &out);
    if (!s.ok()) return s;
    std::reverse(out.begin(), out.end());
  }
  if (n == meta.size) {
    txn.DeleteKey(db, key, **old);  // members become garbage
  } else {
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t index =
          end == End::kLeft ? meta.list_head++ : --meta.list_tail;
      txn.batch().Delete(Column::kMembers,
                         ListElementKey(db, key, meta.version, index));
    }
    Finish(txn, db, key, &**old, meta);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return out;
}

absl::StatusOr<int64_t> Lists::Len(uint8_t db, std::string_view key) {
  absl::StatusOr<std::optional<Metadata>> meta = Get(db, key);
  if (!meta.ok()) return meta.status();
  return *meta ? static_cast<int64_t>((*meta)->size) : 0;
}

absl::StatusOr<std::optional<std::string>> Lists::Index(uint8_t db,
                                                        std::string_view key,
                                                        int64_t index) {
  absl::StatusOr<std::optional<Metadata>> meta = Get(db, key);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  const int64_t len = static_cast<int64_t>((*meta)->size);
  if (index < 0) index += len;
  if (index < 0 || index >= len) return std::nullopt;
  std::string value;
  absl::Status s = ks_.store().Get(
      storage::ReadOptions{}, Column::kMembers,
      ListElementKey(db, key, (*meta)->version,
                     (*meta)->list_head + static_cast<uint64_t>(index)),
      &value);
  if (absl::IsNotFound(s)) return absl::DataLossError("list element missing");
  if (!s.ok()) return s;
  return value;
}

absl::StatusOr<std::vector<std::string>> Lists::Range(uint8_t db,
                                                      std::string_view key,
                                                      int64_t start,
                                                      int64_t stop) {
  absl::StatusOr<std::optional<Metadata>> meta = Get(db, key);
  if (!meta.ok()) return meta.status();
  std::vector<std::string> out;
  if (!*meta) return out;
  const Metadata& m = **meta;
  if (!NormalizeRange(static_cast<int64_t>(m.size), &start, &stop)) return out;
  absl::Status s =
      ReadRange(db, key, m, m.list_head + start, m.list_head + stop + 1, &out);
  if (!s.ok()) return s;
  return out;
}

absl::Status Lists::Set(uint8_t db, std::string_view key, int64_t index,
                        std::string_view value) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old = GetForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  absl::Status result;
  if (!*old) {
    result = RedisError("ERR no such key");
  } else {
    const int64_t len = static_cast<int64_t>((*old)->size);
    if (index < 0) index += len;
    if (index < 0 || index >= len) {
      result = RedisError("ERR index out of range");
    } else {
      txn.batch().Put(
          Column::kMembers,
          ListElementKey(db, key, (*old)->version, (*old)->list_head + index),
          value);
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return result;
}

absl::Status Lists::Trim(uint8_t db, std::string_view key, int64_t start,
                         int64_t stop) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old = GetForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (*old) {
    Metadata meta = **old;
    if (!NormalizeRange(static_cast<int64_t>(meta.size), &start, &stop)) {
      txn.DeleteKey(db, key, **old);
    } else {
      const uint64_t new_head = meta.list_head + start;
      const uint64_t new_tail = meta.list_head + stop + 1;
      for (uint64_t i = meta.list_head; i < new_head; ++i) {
        txn.batch().Delete(Column::kMembers,
                           ListElementKey(db, key, meta.version, i));
      }
      for (uint64_t i = new_tail; i < meta.list_tail; ++i) {
        txn.batch().Delete(Column::kMembers,
                           ListElementKey(db, key, meta.version, i));
      }
      meta.list_head = new_head;
      meta.list_tail = new_tail;
      if (new_head != (*old)->list_head || new_tail != (*old)->list_tail) {
        Finish(txn, db, key, &**old, meta);
      }
    }
  }
  return txn.Commit();
}

absl::StatusOr<int64_t> Lists::Rem(uint8_t db, std::string_view key,
                                   int64_t count, std::string_view value) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old = GetForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (!*old) {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return 0;
  }
  Metadata meta = **old;
  std::vector<std::string> all;
  if (absl::Status s =
          ReadRange(db, key, meta, meta.list_head, meta.list_tail, &all);
      !s.ok()) {
    return s;
  }
  const size_t n = all.size();
  std::vector<bool> remove(n, false);
  const uint64_t limit = count == 0  ? UINT64_MAX
                         : count < 0 ? static_cast<uint64_t>(-(count + 1)) + 1
                                     : static_cast<uint64_t>(count);
  uint64_t removed = 0;
  for (size_t k = 0; k < n && removed < limit; ++k) {
    const size_t i = count < 0 ? n - 1 - k : k;
    if (all[i] == value) {
      remove[i] = true;
      ++removed;
    }
  }
  if (removed > 0) {
    if (removed == n) {
      txn.DeleteKey(db, key, **old);
    } else {
      // Compact towards the head: rewrite from the first removed element.
      size_t first = 0;
      while (!remove[first]) ++first;
      uint64_t out = meta.list_head + first;
      for (size_t i = first; i < n; ++i) {
        if (remove[i]) continue;
        txn.batch().Put(Column::kMembers,
                        ListElementKey(db, key, meta.version, out++), all[i]);
      }
      for (uint64_t i = out; i < meta.list_tail; ++i) {
        txn.batch().Delete(Column::kMembers,
                           ListElementKey(db, key, meta.version, i));
      }
      meta.list_tail = out;
      Finish(txn, db, key, &**old, meta);
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return static_cast<int64_t>(removed);
}

absl::StatusOr<int64_t> Lists::Insert(uint8_t db, std::string_view key,
                                      bool before, std::string_view pivot,
                                      std::string_view value) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old = GetForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (!*old) {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return 0;
  }
  Metadata meta = **old;
  std::vector<std::string> all;
  if (absl::Status s =
          ReadRange(db, key, meta, meta.list_head, meta.list_tail, &all);
      !s.ok()) {
    return s;
  }
  size_t p = 0;
  while (p < all.size() && all[p] != pivot) ++p;
  if (p == all.size()) {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return -1;
  }
  // The new element goes to position `pos` (0-based); shift the shorter
  // side by one.
  const size_t pos = before ? p : p + 1;
  if (pos < all.size() - pos) {
    // Elements [0, pos) move one to the left.
    --meta.list_head;
    for (size_t i = 0; i < pos; ++i) {
      txn.batch().Put(Column::kMembers,
                      ListElementKey(db, key, meta.version, meta.list_head + i),
                      all[i]);
    }
  } else {
    // Elements [pos, n) move one to the right.
    for (size_t i = pos; i < all.size(); ++i) {
      txn.batch().Put(
          Column::kMembers,
          ListElementKey(db, key, meta.version, meta.list_head + i + 1),
          all[i]);
    }
    ++meta.list_tail;
  }
  txn.batch().Put(Column::kMembers,
                  ListElementKey(db, key, meta.version, meta.list_head + pos),
                  value);
  Finish(txn, db, key, &**old, meta);
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return static_cast<int64_t>(meta.size);
}

absl::StatusOr<std::vector<int64_t>> Lists::Pos(uint8_t db,
                                                std::string_view key,
                                                std::string_view element,
                                                int64_t rank, int64_t count,
                                                int64_t maxlen) {
  absl::StatusOr<std::optional<Metadata>> meta = Get(db, key);
  if (!meta.ok()) return meta.status();
  std::vector<int64_t> out;
  if (!*meta) return out;
  const Metadata& m = **meta;
  storage::ReadOptions ro;
  ro.lower_bound = ListElementKey(db, key, m.version, m.list_head);
  ro.upper_bound = ListElementKey(db, key, m.version, m.list_tail);
  std::unique_ptr<storage::Iterator> it =
      ks_.store().NewIterator(ro, Column::kMembers);
  const bool forward = rank > 0;
  // Matches to skip before reporting.
  uint64_t skip = forward ? static_cast<uint64_t>(rank) - 1
                          : static_cast<uint64_t>(-(rank + 1));
  int64_t index = forward ? 0 : static_cast<int64_t>(m.size) - 1;
  int64_t compared = 0;
  if (forward) {
    it->SeekToFirst();
  } else {
    it->SeekToLast();
  }
  while (it->Valid() && (maxlen == 0 || compared < maxlen)) {
    ++compared;
    if (it->value() == element) {
      if (skip > 0) {
        --skip;
      } else {
        out.push_back(index);
        if (count != 0 && static_cast<int64_t>(out.size()) == count) break;
      }
    }
    if (forward) {
      it->Next();
      ++index;
    } else {
      it->Prev();
      --index;
    }
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<std::string>> Lists::Move(uint8_t db,
                                                       std::string_view src,
                                                       std::string_view dst,
                                                       End from, End to) {
  KeyLocks::Guard guard = ks_.locks().LockMany({{db, src}, {db, dst}});
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> src_old = GetForWrite(txn, db, src);
  if (!src_old.ok()) return src_old.status();
  if (!*src_old) {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return std::nullopt;
  }
  const bool same = src == dst;
  std::optional<Metadata> dst_old;
  if (!same) {
    absl::StatusOr<std::optional<Metadata>> d = GetForWrite(txn, db, dst);
    if (!d.ok()) return d.status();
    dst_old = std::move(*d);
  }
  Metadata smeta = **src_old;
  const uint64_t src_index =
      from == End::kLeft ? smeta.list_head : smeta.list_tail - 1;
  std::string value;
  absl::Status s = ks_.store().Get(
      storage::ReadOptions{}, Column::kMembers,
      ListElementKey(db, src, smeta.version, src_index), &value);
  if (absl::IsNotFound(s)) return absl::DataLossError("list element missing");
  if (!s.ok()) return s;
  txn.batch().Delete(Column::kMembers,
                     ListElementKey(db, src, smeta.version, src_index));
  if (from == End::kLeft) {
    ++smeta.list_head;
  } else {
    --smeta.list_tail;
  }
  Metadata* dmeta = &smeta;
  Metadata fresh;
  if (!same) {
    if (dst_old) {
      fresh = *dst_old;
    } else {
      fresh.type = DataType::kList;
      fresh.version = ks_.NextVersion();
      fresh.list_head = fresh.list_tail = kInitialIndex;
    }
    dmeta = &fresh;
  }
  const uint64_t dst_index =
      to == End::kLeft ? --dmeta->list_head : dmeta->list_tail++;
  txn.batch().Put(Column::kMembers,
                  ListElementKey(db, dst, dmeta->version, dst_index), value);
  if (same) {
    Finish(txn, db, src, &**src_old, smeta);
  } else {
    if (smeta.list_head == smeta.list_tail) {
      txn.DeleteKey(db, src, **src_old);
    } else {
      Finish(txn, db, src, &**src_old, smeta);
    }
    Finish(txn, db, dst, dst_old ? &*dst_old : nullptr, fresh);
  }
  if (absl::Status st = txn.Commit(); !st.ok()) return st;
  return value;
}

absl::StatusOr<std::vector<std::string>> Lists::All(
    uint8_t db, std::string_view key, const Metadata& meta,
    const storage::Snapshot* snapshot) {
  std::vector<std::string> out;
  absl::Status s =
      ReadRange(db, key, meta, meta.list_head, meta.list_tail, &out, snapshot);
  if (!s.ok()) return s;
  if (out.size() != meta.size) return absl::DataLossError("list size mismatch");
  return out;
}

void Lists::PutAll(Txn& txn, uint8_t db, std::string_view key,
                   const std::vector<std::string>& items, Metadata* meta) {
  meta->type = DataType::kList;
  if (meta->version == 0) {
    meta->version = ks_.NextVersion();
    meta->list_head = meta->list_tail = kInitialIndex;
  }
  for (const std::string& v : items) {
    txn.batch().Put(Column::kMembers,
                    ListElementKey(db, key, meta->version, meta->list_tail++),
                    v);
  }
  meta->size = meta->list_tail - meta->list_head;
}

}  // namespace reborn::qdb
