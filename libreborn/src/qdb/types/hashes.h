#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "qdb/keyspace.h"
#include "qdb/types/members.h"

namespace reborn::qdb {

// The live metadata of (db, key) when it holds `type`; nullopt when absent;
// WRONGTYPE when it holds another type.
absl::StatusOr<std::optional<Metadata>> LookupTyped(Keyspace& ks, uint8_t db,
                                                    std::string_view key,
                                                    DataType type);

// The hash type: one member record per field (members column, value = the
// field's value); the metadata holds the field count. Single-field commands
// read and write single records. Databases are physical and the caller holds
// Keyspace::layout_mu() shared. Writers take the key's lock and commit one
// batch. Thread-safe.
class Hashes {
 public:
  explicit Hashes(Keyspace& keyspace) : ks_(keyspace) {}

  // HSET/HMSET, or HSETNX with `nx` (a field that exists is left alone).
  // Returns the number of fields added. A repeated field: the last wins.
  absl::StatusOr<int64_t> Set(uint8_t db, std::string_view key,
                              const std::vector<MemberPair>& pairs, bool nx);
  absl::StatusOr<std::optional<std::string>> Get(uint8_t db,
                                                 std::string_view key,
                                                 std::string_view field);
  absl::StatusOr<std::vector<std::optional<std::string>>> MGet(
      uint8_t db, std::string_view key, const std::vector<std::string>& fields);
  // Returns the number of fields removed; the key goes with its last field.
  absl::StatusOr<int64_t> Del(uint8_t db, std::string_view key,
                              const std::vector<std::string>& fields);
  absl::StatusOr<int64_t> Len(uint8_t db, std::string_view key);
  // Every field and value (empty when the key is absent).
  absl::StatusOr<std::vector<MemberPair>> GetAll(uint8_t db,
                                                 std::string_view key);
  absl::StatusOr<int64_t> IncrBy(uint8_t db, std::string_view key,
                                 std::string_view field, int64_t delta);
  // Returns the new value as Redis formats it.
  absl::StatusOr<std::string> IncrByFloat(uint8_t db, std::string_view key,
                                          std::string_view field,
                                          long double delta);
  // A random field, nullopt when the key is absent.
  absl::StatusOr<std::optional<MemberPair>> RandomField(uint8_t db,
                                                        std::string_view key);
  // HRANDFIELD with a count (see SampleKey); empty when the key is absent.
  absl::StatusOr<std::vector<MemberPair>> Sample(uint8_t db,
                                                 std::string_view key,
                                                 int64_t count);
  // A page of HSCAN; an absent key gives an empty last page.
  absl::StatusOr<MemberPage> Scan(uint8_t db, std::string_view key,
                                  uint64_t cursor, size_t count);

  // Writes `fields` as the members of a new hash version into `txn` and
  // fills `meta` (type, version, size). Used by RESTORE and *STORE commands.
  // A `meta` with a version already set is appended to (chunked restores
  // stage a big key this way; the fields are new to that version).
  void PutAll(Txn& txn, uint8_t db, std::string_view key,
              const std::vector<MemberPair>& fields, Metadata* meta);

 private:
  absl::StatusOr<std::string> Update(
      uint8_t db, std::string_view key, std::string_view field,
      const std::function<
          absl::StatusOr<std::string>(const std::optional<std::string>&)>& fn);

  Keyspace& ks_;
  MemberCursors cursors_;
};

}  // namespace reborn::qdb
