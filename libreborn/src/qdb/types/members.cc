#include "qdb/types/members.h"

#include <algorithm>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "qdb/errors.h"

namespace reborn::qdb {

using storage::Column;

absl::StatusOr<int64_t> RemoveMembers(Keyspace& ks, uint8_t db,
                                      std::string_view key, DataType type,
                                      const std::vector<std::string>& names) {
  KeyLocks::Guard guard = ks.locks().Lock(db, key);
  Txn txn(&ks);
  absl::StatusOr<std::optional<Metadata>> old = ks.LookupForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  int64_t removed = 0;
  if (*old) {
    if ((*old)->type != type) return WrongTypeError();
    Metadata meta = **old;
    absl::flat_hash_set<std::string_view> seen;
    std::vector<std::string> unique;
    for (const std::string& m : names) {
      if (seen.insert(m).second) unique.push_back(m);
    }
    auto cur = MultiGetMembers(ks, db, key, meta.version, unique);
    if (!cur.ok()) return cur.status();
    for (size_t i = 0; i < unique.size(); ++i) {
      if (!(*cur)[i]) continue;
      ++removed;
      txn.batch().Delete(Column::kMembers,
                         EncodeMemberKey(db, key, meta.version, unique[i]));
    }
    if (removed > 0) {
      meta.size -= std::min<uint64_t>(meta.size, removed);
      if (meta.size == 0) {
        txn.DeleteKey(db, key, **old);
      } else {
        txn.PutMeta(db, key, &**old, meta);
      }
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return removed;
}

absl::StatusOr<std::optional<std::string>> GetMember(Keyspace& ks, uint8_t db,
                                                     std::string_view key,
                                                     uint64_t version,
                                                     std::string_view member) {
  std::string value;
  absl::Status s =
      ks.store().Get(storage::ReadOptions{}, Column::kMembers,
                     EncodeMemberKey(db, key, version, member), &value);
  if (absl::IsNotFound(s)) return std::nullopt;
  if (!s.ok()) return s;
  return value;
}

absl::StatusOr<std::vector<std::optional<std::string>>> MultiGetMembers(
    Keyspace& ks, uint8_t db, std::string_view key, uint64_t version,
    const std::vector<std::string>& members) {
  std::vector<std::string> keys;
  keys.reserve(members.size());
  for (const std::string& m : members) {
    keys.push_back(EncodeMemberKey(db, key, version, m));
  }
  std::vector<std::string> values;
  std::vector<absl::Status> statuses = ks.store().MultiGet(
      storage::ReadOptions{}, Column::kMembers, keys, &values);
  std::vector<std::optional<std::string>> out(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    if (statuses[i].ok()) {
      out[i] = std::move(values[i]);
    } else if (!absl::IsNotFound(statuses[i])) {
      return statuses[i];
    }
  }
  return out;
}

absl::StatusOr<std::vector<MemberPair>> AllMembers(
    Keyspace& ks, uint8_t db, std::string_view key, uint64_t version,
    const storage::Snapshot* snapshot) {
  const std::string prefix = MemberPrefix(db, key, version);
  storage::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.lower_bound = prefix;
  ro.upper_bound = PrefixEnd(prefix);
  std::unique_ptr<storage::Iterator> it =
      ks.store().NewIterator(ro, Column::kMembers);
  std::vector<MemberPair> out;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key().substr(prefix.size())),
                     std::string(it->value()));
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<MemberPair>> RandomMember(Keyspace& ks, uint8_t db,
                                                       std::string_view key,
                                                       const Metadata& meta) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const std::string prefix = MemberPrefix(db, key, meta.version);
  storage::ReadOptions ro;
  ro.lower_bound = prefix;
  ro.upper_bound = PrefixEnd(prefix);
  std::unique_ptr<storage::Iterator> it =
      ks.store().NewIterator(ro, Column::kMembers);
  if (meta.size <= kUniformPickMembers) {
    if (meta.size == 0) return std::nullopt;
    uint64_t skip =
        std::uniform_int_distribution<uint64_t>(0, meta.size - 1)(rng);
    it->Seek(prefix);
    for (; it->Valid() && skip > 0; --skip) it->Next();
    if (!it->Valid()) {
      if (absl::Status s = it->status(); !s.ok()) return s;
      return std::nullopt;
    }
    return MemberPair(std::string(it->key().substr(prefix.size())),
                      std::string(it->value()));
  }
  std::string target = prefix;
  PutFixed64(&target, rng());
  it->Seek(target);
  if (!it->Valid()) {
    if (absl::Status s = it->status(); !s.ok()) return s;
    it->Seek(prefix);
  }
  if (!it->Valid()) {
    if (absl::Status s = it->status(); !s.ok()) return s;
    return std::nullopt;
  }
  return MemberPair(std::string(it->key().substr(prefix.size())),
                    std::string(it->value()));
}

uint64_t MemberCursors::Remember(std::string member_key) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_++;
  cursors_[id] = std::move(member_key);
  order_.push_back(id);
  while (order_.size() > kMaxCursors) {
    cursors_.erase(order_.front());
    order_.pop_front();
  }
  return id;
}

std::optional<std::string> MemberCursors::Find(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = cursors_.find(id);
  if (it == cursors_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<MemberPage> ScanMembers(Keyspace& ks, MemberCursors& cursors,
                                       uint8_t db, std::string_view key,
                                       uint64_t version, uint64_t cursor,
                                       size_t count) {
  const std::string prefix = MemberPrefix(db, key, version);
  MemberPage page;
  std::string start = prefix;
  if (cursor != 0) {
    std::optional<std::string> last = cursors.Find(cursor);
    // Unknown, or of another key or version (deleted meanwhile): done.
    if (!last || last->compare(0, prefix.size(), prefix) != 0) return page;
    start = std::move(*last);
    start.push_back('\0');  // the first member after the last one returned
  }
  storage::ReadOptions ro;
  ro.lower_bound = prefix;
  ro.upper_bound = PrefixEnd(prefix);
  std::unique_ptr<storage::Iterator> it =
      ks.store().NewIterator(ro, Column::kMembers);
  std::string last;
  for (it->Seek(start); it->Valid(); it->Next()) {
    if (page.members.size() >= count) {
      page.next_cursor = cursors.Remember(std::move(last));
      return page;
    }
    last.assign(it->key());
    page.members.emplace_back(std::string(it->key().substr(prefix.size())),
                              std::string(it->value()));
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return page;
}

std::vector<MemberPair> SampleMembers(std::vector<MemberPair> all,
                                      int64_t count) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::vector<MemberPair> out;
  if (all.empty() || count == 0) return out;
  if (count < 0) {
    const uint64_t n = static_cast<uint64_t>(-count);
    out.reserve(n);
    std::uniform_int_distribution<size_t> pick(0, all.size() - 1);
    for (uint64_t i = 0; i < n; ++i) out.push_back(all[pick(rng)]);
    return out;
  }
  std::shuffle(all.begin(), all.end(), rng);
  if (static_cast<uint64_t>(count) < all.size()) all.resize(count);
  return all;
}

absl::StatusOr<std::vector<MemberPair>> SampleKey(Keyspace& ks, uint8_t db,
                                                  std::string_view key,
                                                  const Metadata& meta,
                                                  int64_t count) {
  const uint64_t n =
      count < 0 ? static_cast<uint64_t>(-count) : static_cast<uint64_t>(count);
  if (meta.size > kUniformPickMembers && n <= meta.size / 8) {
    std::vector<MemberPair> out;
    absl::flat_hash_set<std::string> seen;
    // Distinct picks by random seeks; give up (and read the key) if the
    // seeks keep hitting members already taken.
    for (uint64_t attempt = 0; out.size() < n && attempt < n * 16 + 64;
         ++attempt) {
      auto pick = RandomMember(ks, db, key, meta);
      if (!pick.ok()) return pick.status();
      if (!*pick) break;
      if (count > 0 && !seen.insert((*pick)->first).second) continue;
      out.push_back(std::move(**pick));
    }
    if (out.size() == n) return out;
  }
  auto all = AllMembers(ks, db, key, meta.version);
  if (!all.ok()) return all.status();
  return SampleMembers(std::move(*all), count);
}

}  // namespace reborn::qdb
