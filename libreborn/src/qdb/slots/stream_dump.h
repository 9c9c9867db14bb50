#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "qdb/keyspace.h"
#include "qdb/types/streams.h"
#include "rdb/value.h"

// A stream key as rdb::StreamData and back: DUMP/RESTORE, slot moves and
// RDB files carry streams in Redis 7.0's RDB_TYPE_STREAM_LISTPACKS_2.
namespace reborn::qdb {

// The whole stream of a live key (entries, ids, counters, groups, PELs and
// consumers), read from `snapshot` if given.
absl::StatusOr<rdb::StreamData> ExportStream(
    Streams& streams, uint8_t db, std::string_view key, const Metadata& meta,
    const storage::Snapshot* snapshot = nullptr);

// Writes `data` as a new version of (db, key) into `txn` and fills `meta`
// (type, version, size, the state), which the caller stores.
absl::Status ImportStream(Streams& streams, Txn& txn, uint8_t db,
                          std::string_view key, const rdb::StreamData& data,
                          Metadata* meta);

}  // namespace reborn::qdb
