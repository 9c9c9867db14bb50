#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "qdb/keyspace.h"

namespace reborn::qdb {

enum ExpireFlag : int {
  kExpireNx = 1,
  kExpireXx = 2,
  kExpireGt = 4,
  kExpireLt = 8,
};

// Type-independent key commands (DEL, EXISTS, EXPIRE, RENAME, COPY, ...).
// Databases are physical; the caller holds Keyspace::layout_mu() shared.
// Thread-safe.
class KeyOps {
 public:
  explicit KeyOps(Keyspace& keyspace) : ks_(keyspace) {}

  // Number of keys that existed (each key counted once).
  absl::StatusOr<int64_t> Del(uint8_t db, const std::vector<std::string>& keys);
  // How many of `keys` exist (a key named twice counts twice). `touch` makes
  // it TOUCH: the keys' access clocks are set, which EXISTS leaves alone.
  absl::StatusOr<int64_t> Exists(uint8_t db,
                                 const std::vector<std::string>& keys,
                                 bool touch = false);
  // nullopt when the key does not exist.
  absl::StatusOr<std::optional<DataType>> Type(uint8_t db,
                                               std::string_view key);
  // Sets the absolute expiry `when_ms` under the NX/XX/GT/LT `flags`;
  // a time in the past deletes the key. Returns 1 if applied, 0 if not.
  absl::StatusOr<int> ExpireAt(uint8_t db, std::string_view key,
                               int64_t when_ms, int flags);
  // -2 missing, -1 no TTL, else the absolute expiry in ms.
  absl::StatusOr<int64_t> ExpireTime(uint8_t db, std::string_view key);
  absl::StatusOr<int> Persist(uint8_t db, std::string_view key);
  // MEMORY USAGE: the bytes the key's records take in the store before
  // compression (metadata, members, score index), nullopt if it does not
  // exist. Like Redis, an aggregate's first `samples` members are read and
  // their average size is counted for every member; 0 reads them all.
  absl::StatusOr<std::optional<int64_t>> MemoryUsage(uint8_t db,
                                                     std::string_view key,
                                                     int64_t samples);
  // RENAME / RENAMENX: NotFound-like "ERR no such key" when src is missing;
  // returns 0 only with `nx` when dst exists.
  absl::StatusOr<int> Rename(uint8_t db, std::string_view src,
                             std::string_view dst, bool nx);
  // COPY: 1 copied, 0 if src is missing or dst exists (without replace).
  absl::StatusOr<int> Copy(uint8_t src_db, std::string_view src, uint8_t dst_db,
                           std::string_view dst, bool replace);
  // MOVE: 1 moved, 0 if missing or present in the target db.
  absl::StatusOr<int> Move(uint8_t src_db, uint8_t dst_db,
                           std::string_view key);

 private:
  Keyspace& ks_;
};

}  // namespace reborn::qdb
