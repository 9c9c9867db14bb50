#include "qdb/types/sets.h"

#include <algorithm>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "qdb/errors.h"
#include "qdb/numbers.h"
#include "qdb/types/hashes.h"

namespace reborn::qdb {

using storage::Column;

namespace {

std::vector<std::string> Keys(std::vector<MemberPair> pairs) {
  std::vector<std::string> out;
  out.reserve(pairs.size());
  for (auto& p : pairs) out.push_back(std::move(p.first));
  return out;
}

}  // namespace

void Sets::NoteAdded(Metadata& meta,
                     const std::vector<std::string_view>& added) {
  if (meta.converted || added.empty()) return;
  const int64_t max = max_intset_entries_.load();
  // setTypeAdd: a non-integer member, or an intset longer than the setting.
  if (max < 0 || meta.size > static_cast<uint64_t>(max)) {
    meta.converted = true;
    return;
  }
  for (std::string_view m : added) {
    int64_t v;
    if (!ParseInt64(m, &v)) {
      meta.converted = true;
      return;
    }
  }
}

absl::StatusOr<int64_t> Sets::Add(uint8_t db, std::string_view key,
                                  const std::vector<std::string>& members) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (*old && (*old)->type != DataType::kSet) return WrongTypeError();
  Metadata meta;
  if (*old) {
    meta = **old;
  } else {
    meta.type = DataType::kSet;
    meta.version = ks_.NextVersion();
  }
  absl::flat_hash_set<std::string_view> seen;
  std::vector<std::string> unique;
  for (const std::string& m : members) {
    if (seen.insert(m).second) unique.push_back(m);
  }
  std::vector<std::optional<std::string>> existing(unique.size());
  if (*old) {
    auto cur = MultiGetMembers(ks_, db, key, meta.version, unique);
    if (!cur.ok()) return cur.status();
    existing = std::move(*cur);
  }
  int64_t added = 0;
  std::vector<std::string_view> new_members;
  for (size_t i = 0; i < unique.size(); ++i) {
    if (existing[i]) continue;
    ++added;
    new_members.push_back(unique[i]);
    txn.batch().Put(Column::kMembers,
                    EncodeMemberKey(db, key, meta.version, unique[i]), "");
  }
  if (added > 0) {
    meta.size += static_cast<uint64_t>(added);
    NoteAdded(meta, new_members);
    txn.PutMeta(db, key, *old ? &**old : nullptr, meta);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return added;
}

absl::StatusOr<int64_t> Sets::Rem(uint8_t db, std::string_view key,
                                  const std::vector<std::string>& members) {
  return RemoveMembers(ks_, db, key, DataType::kSet, members);
}

absl::StatusOr<std::vector<std::string>> Sets::Members(uint8_t db,
                                                       std::string_view key) {
  auto meta = LookupTyped(ks_, db, key, DataType::kSet);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::vector<std::string>();
  auto all = AllMembers(ks_, db, key, (*meta)->version);
  if (!all.ok()) return all.status();
  return Keys(std::move(*all));
}

absl::StatusOr<std::vector<bool>> Sets::IsMember(
    uint8_t db, std::string_view key, const std::vector<std::string>& members) {
  auto meta = LookupTyped(ks_, db, key, DataType::kSet);
  if (!meta.ok()) return meta.status();
  std::vector<bool> out(members.size(), false);
  if (!*meta) return out;
  auto cur = MultiGetMembers(ks_, db, key, (*meta)->version, members);
  if (!cur.ok()) return cur.status();
  for (size_t i = 0; i < members.size(); ++i) out[i] = (*cur)[i].has_value();
  return out;
}

absl::StatusOr<int64_t> Sets::Card(uint8_t db, std::string_view key) {
  auto meta = LookupTyped(ks_, db, key, DataType::kSet);
  if (!meta.ok()) return meta.status();
  return *meta ? static_cast<int64_t>((*meta)->size) : 0;
}

absl::StatusOr<std::optional<std::string>> Sets::PopOne(uint8_t db,
                                                        std::string_view key) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  std::optional<std::string> out;
  if (*old) {
    if ((*old)->type != DataType::kSet) return WrongTypeError();
    Metadata meta = **old;
    auto pick = RandomMember(ks_, db, key, meta);
    if (!pick.ok()) return pick.status();
    if (*pick) {
      out = (*pick)->first;
      txn.batch().Delete(Column::kMembers,
                         EncodeMemberKey(db, key, meta.version, *out));
      if (--meta.size == 0) {
        txn.DeleteKey(db, key, **old);
      } else {
        txn.PutMeta(db, key, &**old, meta);
      }
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<std::string>> Sets::Pop(uint8_t db,
                                                   std::string_view key,
                                                   uint64_t count) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  std::vector<std::string> out;
  if (*old && count > 0) {
    if ((*old)->type != DataType::kSet) return WrongTypeError();
    const Metadata& meta = **old;
    auto picked = SampleKey(ks_, db, key, meta,
                            static_cast<int64_t>(std::min(count, meta.size)));
    if (!picked.ok()) return picked.status();
    out = Keys(std::move(*picked));
    if (count >= meta.size) {
      txn.DeleteKey(db, key, meta);
    } else {
      for (const std::string& m : out) {
        txn.batch().Delete(Column::kMembers,
                           EncodeMemberKey(db, key, meta.version, m));
      }
      Metadata next = meta;
      next.size -= count;
      txn.PutMeta(db, key, &meta, next);
    }
  } else if (*old && (*old)->type != DataType::kSet) {
    return WrongTypeError();
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<std::string>> Sets::Sample(uint8_t db,
                                                      std::string_view key,
                                                      int64_t count) {
  auto meta = LookupTyped(ks_, db, key, DataType::kSet);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::vector<std::string>();
  auto r = SampleKey(ks_, db, key, **meta, count);
  if (!r.ok()) return r.status();
  return Keys(std::move(*r));
}

absl::StatusOr<std::optional<std::string>> Sets::RandomOne(
    uint8_t db, std::string_view key) {
  auto meta = LookupTyped(ks_, db, key, DataType::kSet);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  auto pick = RandomMember(ks_, db, key, **meta);
  if (!pick.ok()) return pick.status();
  if (!*pick) return std::nullopt;
  return std::move((*pick)->first);
}

absl::StatusOr<int> Sets::Move(uint8_t db, std::string_view src,
                               std::string_view dst, std::string_view member) {
  KeyLocks::Guard guard = ks_.locks().LockMany({{db, src}, {db, dst}});
  Txn txn(&ks_);
  auto from = ks_.LookupForWrite(txn, db, src);
  if (!from.ok()) return from.status();
  auto to = ks_.LookupForWrite(txn, db, dst);
  if (!to.ok()) return to.status();
  int result = 0;
  auto finish = [&](int r) -> absl::StatusOr<int> {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return r;
  };
  if (!*from) return finish(0);
  if ((*from)->type != DataType::kSet) return WrongTypeError();
  if (*to && (*to)->type != DataType::kSet) return WrongTypeError();
  auto in_src = GetMember(ks_, db, src, (*from)->version, member);
  if (!in_src.ok()) return in_src.status();
  if (src == dst) return finish(in_src->has_value() ? 1 : 0);
  if (!*in_src) return finish(0);
  result = 1;
  Metadata from_meta = **from;
  txn.batch().Delete(Column::kMembers,
                     EncodeMemberKey(db, src, from_meta.version, member));
  if (--from_meta.size == 0) {
    txn.DeleteKey(db, src, **from);
  } else {
    txn.PutMeta(db, src, &**from, from_meta);
  }
  Metadata to_meta;
  bool present = false;
  if (*to) {
    to_meta = **to;
    auto in_dst = GetMember(ks_, db, dst, to_meta.version, member);
    if (!in_dst.ok()) return in_dst.status();
    present = in_dst->has_value();
  } else {
    to_meta.type = DataType::kSet;
    to_meta.version = ks_.NextVersion();
  }
  if (!present) {
    txn.batch().Put(Column::kMembers,
                    EncodeMemberKey(db, dst, to_meta.version, member), "");
    ++to_meta.size;
    NoteAdded(to_meta, {member});
    txn.PutMeta(db, dst, *to ? &**to : nullptr, to_meta);
  }
  return finish(result);
}

absl::StatusOr<std::vector<std::string>> Sets::CombineLocked(
    uint8_t db, SetCombine op, const std::vector<std::string>& keys) {
  // Every key's type is checked first, as Redis does (an absent key makes
  // an intersection empty, but a WRONGTYPE key after it is still reported).
  auto metas = ks_.MultiLookup(db, keys);
  if (!metas.ok()) return metas.status();
  bool any_missing = false;
  for (const auto& m : *metas) {
    if (m && m->type != DataType::kSet) return WrongTypeError();
    any_missing |= !m.has_value();
  }
  std::vector<std::vector<std::string>> sets;
  if (op == SetCombine::kInter && any_missing)
    return std::vector<std::string>();
  sets.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& meta = (*metas)[i];
    if (!meta) {
      sets.emplace_back();
      continue;
    }
    auto all = AllMembers(ks_, db, keys[i], meta->version);
    if (!all.ok()) return all.status();
    sets.push_back(Keys(std::move(*all)));
  }
  std::vector<std::string> out;
  if (sets.empty()) return out;
  if (op == SetCombine::kUnion) {
    absl::flat_hash_set<std::string> u;
    for (auto& s : sets) {
      for (auto& m : s) u.insert(std::move(m));
    }
    out.assign(u.begin(), u.end());
    return out;
  }
  // Members of the first set that are in all (inter) or none (diff) of the
  // others.
  std::vector<absl::flat_hash_set<std::string_view>> others;
  for (size_t i = 1; i < sets.size(); ++i) {
    others.emplace_back(sets[i].begin(), sets[i].end());
  }
  for (const std::string& m : sets[0]) {
    bool keep = true;
    for (const auto& o : others) {
      const bool in = o.contains(m);
      if ((op == SetCombine::kInter && !in) ||
          (op == SetCombine::kDiff && in)) {
        keep = false;
        break;
      }
    }
    if (keep) out.push_back(m);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> Sets::Combine(
    uint8_t db, SetCombine op, const std::vector<std::string>& keys) {
  return CombineLocked(db, op, keys);
}

absl::StatusOr<int64_t> Sets::InterCard(uint8_t db,
                                        const std::vector<std::string>& keys,
                                        uint64_t limit) {
  auto r = CombineLocked(db, SetCombine::kInter, keys);
  if (!r.ok()) return r.status();
  uint64_t n = r->size();
  if (limit != 0 && n > limit) n = limit;
  return static_cast<int64_t>(n);
}

absl::StatusOr<int64_t> Sets::CombineStore(
    uint8_t db, SetCombine op, std::string_view dest,
    const std::vector<std::string>& keys) {
  std::vector<std::pair<uint8_t, std::string_view>> lock_keys;
  lock_keys.emplace_back(db, dest);
  for (const std::string& k : keys) lock_keys.emplace_back(db, k);
  KeyLocks::Guard guard = ks_.locks().LockMany(lock_keys);
  auto result = CombineLocked(db, op, keys);
  if (!result.ok()) return result.status();
  Txn txn(&ks_);
  auto old = ks_.LookupForWrite(txn, db, dest);
  if (!old.ok()) return old.status();
  if (result->empty()) {
    if (*old) txn.DeleteKey(db, dest, **old);
  } else {
    Metadata meta;
    PutAll(txn, db, dest, *result, &meta);
    txn.PutMeta(db, dest, *old ? &**old : nullptr, meta);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return static_cast<int64_t>(result->size());
}

absl::StatusOr<MemberPage> Sets::Scan(uint8_t db, std::string_view key,
                                      uint64_t cursor, size_t count) {
  auto meta = LookupTyped(ks_, db, key, DataType::kSet);
  if (!meta.ok()) return meta.status();
  if (!*meta) return MemberPage{};
  // Small sets come back whole, as Redis does for intset encodings.
  if ((*meta)->size <= 512) {
    cursor = 0;
    count = 512;
  }
  return ScanMembers(ks_, cursors_, db, key, (*meta)->version, cursor, count);
}

void Sets::PutAll(Txn& txn, uint8_t db, std::string_view key,
                  const std::vector<std::string>& members, Metadata* meta) {
  meta->type = DataType::kSet;
  if (meta->version == 0) meta->version = ks_.NextVersion();
  meta->size += members.size();
  for (const std::string& m : members) {
    txn.batch().Put(Column::kMembers,
                    EncodeMemberKey(db, key, meta->version, m), "");
  }
  NoteAdded(*meta,
            std::vector<std::string_view>(members.begin(), members.end()));
}

}  // namespace reborn::qdb
