#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "qdb/keyspace.h"
#include "qdb/types/hll_format.h"

namespace reborn::qdb {

// PFADD, PFCOUNT, PFMERGE and PFDEBUG over string values that hold Redis'
// HyperLogLog representation (types/hll_format.h). An HLL is a plain string
// to every other command (GET, SET, DUMP, APPEND...), as in Redis.
//
// Errors: a key of another type is WRONGTYPE; a string that is not an HLL
// is hll::NotHllError(); an HLL whose sparse opcodes are broken is
// hll::CorruptedError(). A changed HLL keeps its TTL.
//
// Databases are physical (Keyspace::Physical), and the caller holds
// Keyspace::layout_mu() shared. Writes take the key locks they need and
// commit one batch. Thread-safe.
class HyperLogLogs {
 public:
  HyperLogLogs(Keyspace& keyspace, int64_t sparse_max_bytes)
      : ks_(keyspace), sparse_max_bytes_(sparse_max_bytes) {}

  // hll-sparse-max-bytes: the largest sparse value (header included); a
  // sparse HLL that would grow past it becomes dense.
  void set_sparse_max_bytes(int64_t bytes) { sparse_max_bytes_.store(bytes); }
  int64_t sparse_max_bytes() const { return sparse_max_bytes_.load(); }

  // PFADD: true when the key was created or a register changed. On a
  // corrupted value the registers set before the error stay set (Redis
  // changes its value in place the same way) and the error is returned.
  // `updates` (if given): what Redis adds to server.dirty, one for a
  // created key and one per element that changed a register.
  absl::StatusOr<bool> Add(uint8_t db, std::string_view key,
                           const std::vector<std::string>& elements,
                           int64_t* updates = nullptr);
  // PFCOUNT of one key: the cached cardinality, or the estimate, which is
  // then cached in the value (as Redis does, so the value changes).
  absl::StatusOr<uint64_t> Count(uint8_t db, std::string_view key);
  // PFCOUNT of several keys: the cardinality of their union; absent keys
  // count as empty HLLs.
  absl::StatusOr<uint64_t> CountUnion(uint8_t db,
                                      const std::vector<std::string>& keys);
  // PFMERGE: `dest` becomes the union of itself and `sources` (created if
  // absent; dense if any input is dense).
  absl::Status Merge(uint8_t db, std::string_view dest,
                     const std::vector<std::string>& sources);
  // PFDEBUG: the HLL at `key` (nullopt if absent), first converted to dense
  // and stored when `to_dense`; `converted` tells whether it was sparse.
  absl::StatusOr<std::optional<std::string>> ForDebug(uint8_t db,
                                                      std::string_view key,
                                                      bool to_dense,
                                                      bool* converted);

 private:
  Keyspace& ks_;
  std::atomic<int64_t> sparse_max_bytes_;
};

}  // namespace reborn::qdb
