#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "qdb/keyspace.h"
#include "qdb/types/members.h"

namespace reborn::qdb {

enum class SetCombine { kInter, kUnion, kDiff };

// The set type: one member record per member (members column, empty value);
// the metadata holds the member count. SADD/SREM/SISMEMBER touch single
// records. Databases are physical and the caller holds Keyspace::layout_mu()
// shared. Writers take their keys' locks and commit one batch. Thread-safe.
class Sets {
 public:
  explicit Sets(Keyspace& keyspace) : ks_(keyspace) {}

  // set-max-intset-entries: past it (or on a non-integer member) a set that
  // grows is marked Metadata::converted, as Redis converts its intset.
  void set_max_intset_entries(int64_t n) { max_intset_entries_.store(n); }

  // Returns the number of members added.
  absl::StatusOr<int64_t> Add(uint8_t db, std::string_view key,
                              const std::vector<std::string>& members);
  // Returns the number removed; the key goes with its last member.
  absl::StatusOr<int64_t> Rem(uint8_t db, std::string_view key,
                              const std::vector<std::string>& members);
  // Every member (empty when the key is absent).
  absl::StatusOr<std::vector<std::string>> Members(uint8_t db,
                                                   std::string_view key);
  absl::StatusOr<std::vector<bool>> IsMember(
      uint8_t db, std::string_view key,
      const std::vector<std::string>& members);
  absl::StatusOr<int64_t> Card(uint8_t db, std::string_view key);
  // SPOP without count: nullopt when the key is absent.
  absl::StatusOr<std::optional<std::string>> PopOne(uint8_t db,
                                                    std::string_view key);
  // SPOP with count (>= 0).
  absl::StatusOr<std::vector<std::string>> Pop(uint8_t db, std::string_view key,
                                               uint64_t count);
  // SRANDMEMBER with a count (see SampleKey).
  absl::StatusOr<std::vector<std::string>> Sample(uint8_t db,
                                                  std::string_view key,
                                                  int64_t count);
  // SRANDMEMBER without count.
  absl::StatusOr<std::optional<std::string>> RandomOne(uint8_t db,
                                                       std::string_view key);
  // 1 moved, 0 not a member of src (or src absent).
  absl::StatusOr<int> Move(uint8_t db, std::string_view src,
                           std::string_view dst, std::string_view member);
  // SINTER / SUNION / SDIFF (every key's type is checked).
  absl::StatusOr<std::vector<std::string>> Combine(
      uint8_t db, SetCombine op, const std::vector<std::string>& keys);
  // SINTERCARD; `limit` 0 = none.
  absl::StatusOr<int64_t> InterCard(uint8_t db,
                                    const std::vector<std::string>& keys,
                                    uint64_t limit);
  // S*STORE: stores the result in `dest` (deleting it when empty) and
  // returns its size.
  absl::StatusOr<int64_t> CombineStore(uint8_t db, SetCombine op,
                                       std::string_view dest,
                                       const std::vector<std::string>& keys);
  absl::StatusOr<MemberPage> Scan(uint8_t db, std::string_view key,
                                  uint64_t cursor, size_t count);

  // Writes `members` as a new set version into `txn` and fills `meta`; a
  // `meta` with a version already set is appended to (chunked restores).
  void PutAll(Txn& txn, uint8_t db, std::string_view key,
              const std::vector<std::string>& members, Metadata* meta);

 private:
  // The combination of `keys`; the caller holds their locks if it writes.
  absl::StatusOr<std::vector<std::string>> CombineLocked(
      uint8_t db, SetCombine op, const std::vector<std::string>& keys);
  // Marks `meta` converted when adding `added` (just added to it) turns
  // Redis' intset into a hashtable.
  void NoteAdded(Metadata& meta, const std::vector<std::string_view>& added);

  Keyspace& ks_;
  MemberCursors cursors_;
  std::atomic<int64_t> max_intset_entries_{512};
};

}  // namespace reborn::qdb
