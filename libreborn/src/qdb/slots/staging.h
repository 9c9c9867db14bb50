#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "qdb/encoding.h"

// The target side of chunked key moves (SLOTSRESTORE-CHUNK, docs/slots.md):
// the parts of one big key accumulate under a fresh version whose metadata
// is not live — a staging record (encoding.h, StagingRecord) names that
// version so the garbage filter keeps its members — and Commit() makes the
// key live in one write batch: the key's metadata (replacing any older copy,
// with its TTL) and the removal of the staging record. Until then no command
// sees the staged members. An abandoned staging is dropped by a BEGIN of the
// same key, by an ABORT, and at start-up (DropAll); its members are then
// garbage for the compaction filter (or the sweeper of the other backends).
namespace reborn::qdb {

class EngineCore;

// Synchronisation: mu_ serialises every staging operation (each is one
// point read plus one write batch); Commit() also takes the key's lock.
class Staging {
 public:
  explicit Staging(EngineCore& core) : core_(core) {}
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;

  // Starts (or restarts) the staging of (db, key) for the transfer `token`,
  // of type `type`; drops any earlier staging of that key.
  absl::Status Begin(uint8_t db, std::string_view key, std::string_view token,
                     DataType type);
  // Adds one part: a DUMP payload holding some elements of the value (a
  // substring for a string; list parts in order). Returns the elements (for
  // a string: the chunks) staged so far.
  absl::StatusOr<uint64_t> Add(uint8_t db, std::string_view key,
                               std::string_view token,
                               std::string_view payload);
  // Makes the staged value the live (db, key), `ttl_ms` > 0 expiring after
  // that long, in one write batch; `expect` > 0 must equal the staged
  // elements (for a string: its length in bytes).
  absl::Status Commit(uint8_t db, std::string_view key, std::string_view token,
                      int64_t ttl_ms, uint64_t expect);
  // Drops the staging of (db, key) if it belongs to `token`.
  absl::Status Abort(uint8_t db, std::string_view key, std::string_view token);
  // Drops every staging record (at start-up: no transfer survives a restart).
  absl::StatusOr<uint64_t> DropAll();

 private:
  absl::StatusOr<StagingRecord> Find(uint8_t db, std::string_view key,
                                     std::string_view token)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  EngineCore& core_;
  absl::Mutex mu_;
};

}  // namespace reborn::qdb
