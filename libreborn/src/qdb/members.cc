#include "qdb/members.h"

#include <random>

namespace reborn::qdb {

using storage::Column;

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

absl::StatusOr<std::vector<MemberPair>> AllMembers(Keyspace& ks, uint8_t db,
                                                   std::string_view key,
                                                   uint64_t version) {
  const std::string prefix = MemberPrefix(db, key, version);
  storage::ReadOptions ro;
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
                                                       uint64_t version) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const std::string prefix = MemberPrefix(db, key, version);
  storage::ReadOptions ro;
  ro.lower_bound = prefix;
  ro.upper_bound = PrefixEnd(prefix);
  std::unique_ptr<storage::Iterator> it =
      ks.store().NewIterator(ro, Column::kMembers);
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

absl::StatusOr<MemberPage> ScanMembers(Keyspace& ks, uint8_t db,
                                       std::string_view key, uint64_t version,
                                       uint64_t cursor, size_t count) {
  // The cursor is a position in byte order. Positions shift when members
  // are added or removed meanwhile; like Redis' SCAN this may then return a
  // member twice or miss one that changed during the iteration.
  const std::string prefix = MemberPrefix(db, key, version);
  storage::ReadOptions ro;
  ro.lower_bound = prefix;
  ro.upper_bound = PrefixEnd(prefix);
  std::unique_ptr<storage::Iterator> it =
      ks.store().NewIterator(ro, Column::kMembers);
  MemberPage page;
  uint64_t pos = 0;
  for (it->Seek(prefix); it->Valid(); it->Next(), ++pos) {
    if (pos < cursor) continue;
    if (page.members.size() >= count) {
      page.next_cursor = pos;
      return page;
    }
    page.members.emplace_back(std::string(it->key().substr(prefix.size())),
                              std::string(it->value()));
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return page;
}

}  // namespace reborn::qdb
