#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "qdb/keyspace.h"

namespace reborn::qdb {

// The list type. Elements are member records keyed by a dense u64 index
// (docs/encoding.md): element i of a list lives at index `list_head + i`,
// and [list_head, list_tail) are all present, so LPUSH/RPUSH/LPOP/RPOP and
// LINDEX/LSET at any position are point reads and writes; LINSERT and LREM
// rewrite the elements on one side of the change, O(N) as in Redis.
//
// Databases are physical; the caller holds Keyspace::layout_mu() shared.
// Writers take the key locks they need and commit one batch. Thread-safe.
//
// Pop() and Move() return nullopt when the source is absent, so a blocking
// wrapper (BLPOP, BLMOVE, ...) can call them and park the client only then.
class Lists {
 public:
  enum class End { kLeft, kRight };

  explicit Lists(Keyspace& keyspace) : ks_(keyspace) {}

  // LPUSH/RPUSH; `only_if_exists` is LPUSHX/RPUSHX. Returns the new length
  // (0 if the key is absent and `only_if_exists`).
  absl::StatusOr<int64_t> Push(uint8_t db, std::string_view key, End end,
                               const std::vector<std::string>& values,
                               bool only_if_exists);
  // Removes up to `count` elements from `end`; nullopt if the key is absent.
  absl::StatusOr<std::optional<std::vector<std::string>>> Pop(
      uint8_t db, std::string_view key, End end, uint64_t count);
  absl::StatusOr<int64_t> Len(uint8_t db, std::string_view key);
  absl::StatusOr<std::optional<std::string>> Index(uint8_t db,
                                                   std::string_view key,
                                                   int64_t index);
  absl::StatusOr<std::vector<std::string>> Range(uint8_t db,
                                                 std::string_view key,
                                                 int64_t start, int64_t stop);
  absl::Status Set(uint8_t db, std::string_view key, int64_t index,
                   std::string_view value);
  absl::Status Trim(uint8_t db, std::string_view key, int64_t start,
                    int64_t stop);
  absl::StatusOr<int64_t> Rem(uint8_t db, std::string_view key, int64_t count,
                              std::string_view value);
  // Returns the new length, -1 if the pivot is missing, 0 if the key is.
  absl::StatusOr<int64_t> Insert(uint8_t db, std::string_view key, bool before,
                                 std::string_view pivot,
                                 std::string_view value);
  // LPOS: positions of `element`. rank != 0; count 0 = all; maxlen 0 = all.
  absl::StatusOr<std::vector<int64_t>> Pos(uint8_t db, std::string_view key,
                                           std::string_view element,
                                           int64_t rank, int64_t count,
                                           int64_t maxlen);
  // LMOVE/RPOPLPUSH: nullopt if `src` is absent.
  absl::StatusOr<std::optional<std::string>> Move(uint8_t db,
                                                  std::string_view src,
                                                  std::string_view dst,
                                                  End from, End to);

  // Every element of one list version, in order (DUMP, OBJECT ENCODING),
  // read from `snapshot` if given.
  absl::StatusOr<std::vector<std::string>> All(
      uint8_t db, std::string_view key, const Metadata& meta,
      const storage::Snapshot* snapshot = nullptr);
  // Writes `items` as the elements of a new list version into `txn` and
  // fills `meta` (type, version, size, head, tail). Used by RESTORE. A
  // `meta` with a version already set gets `items` after its tail.
  void PutAll(Txn& txn, uint8_t db, std::string_view key,
              const std::vector<std::string>& items, Metadata* meta);

 private:
  // Live list metadata or nullopt; WRONGTYPE for other types.
  absl::StatusOr<std::optional<Metadata>> Get(uint8_t db, std::string_view key);
  absl::StatusOr<std::optional<Metadata>> GetForWrite(Txn& txn, uint8_t db,
                                                      std::string_view key);
  // Reads elements at indexes [from, to) of one list version.
  absl::Status ReadRange(uint8_t db, std::string_view key, const Metadata& meta,
                         uint64_t from, uint64_t to,
                         std::vector<std::string>* out,
                         const storage::Snapshot* snapshot = nullptr);
  // Stores `meta` or deletes the key if it became empty.
  void Finish(Txn& txn, uint8_t db, std::string_view key, const Metadata* old,
              Metadata& meta);

  Keyspace& ks_;
};

// Member key of the element at absolute index `index`.
std::string ListElementKey(uint8_t db, std::string_view key, uint64_t version,
                           uint64_t index);

}  // namespace reborn::qdb
