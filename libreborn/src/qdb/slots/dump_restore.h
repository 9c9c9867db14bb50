#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "qdb/keyspace.h"
#include "rdb/value.h"

// DUMP / RESTORE / OBJECT ENCODING over the rdb library. The per-type part
// is three functions with one `case` per data type — ReadValue (engine key ->
// rdb::Value), WriteValue (rdb::Value -> members in a write batch) and
// EncodingName — so a new type (lists, sorted sets) plugs in by adding its
// cases in dump_restore.cc.
namespace reborn::qdb {

class EngineCore;

// The value of a live key as an rdb::Value, read from `snapshot` if given
// (then `meta` must come from the same snapshot). A collection whose member
// count differs from meta.size is DataLoss.
absl::StatusOr<rdb::Value> ReadValue(
    EngineCore& core, uint8_t db, std::string_view key, const Metadata& meta,
    const storage::Snapshot* snapshot = nullptr);
// Writes `value` as a new version of (db, key) into `txn` and returns its
// metadata (no expiry) for Txn::PutMeta. `value` is valid and non-empty.
absl::StatusOr<Metadata> WriteValue(EngineCore& core, Txn& txn, uint8_t db,
                                    std::string_view key,
                                    const rdb::Value& value);
// WriteValue into an existing version: with meta->version set, the elements
// of `value` are added to that version (a list's after its tail) and
// `meta` grows; with version 0 it is WriteValue. Chunked restores stage a
// big key this way, one part at a time.
absl::Status AppendValue(EngineCore& core, Txn& txn, uint8_t db,
                         std::string_view key, const rdb::Value& value,
                         Metadata* meta);
// Redis 7.0's OBJECT ENCODING name for the value's current contents
// ("int", "embstr", "raw", "listpack", "hashtable", "intset", ...).
absl::StatusOr<std::string> EncodingName(EngineCore& core, uint8_t db,
                                         std::string_view key,
                                         const Metadata& meta);

// DUMP: the payload, or nullopt when the key does not exist.
absl::StatusOr<std::optional<std::string>> Dump(EngineCore& core, uint8_t db,
                                                std::string_view key);

struct RestoreArgs {
  std::string_view key;
  std::string_view ttl;  // unparsed, checked in Redis' order
  std::string_view payload;
  bool replace = false;
  bool absttl = false;
};
// RESTORE after its options are parsed. Errors carry Redis' texts, in
// Redis' order: BUSYKEY, TTL, checksum, data format.
absl::Status Restore(EngineCore& core, uint8_t db, const RestoreArgs& args);

}  // namespace reborn::qdb
