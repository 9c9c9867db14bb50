#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/kv_store.h"

namespace reborn::qdb {

// The server's function libraries (FUNCTION LOAD) live in one engine record
// of the meta column under kInternalDb, next to the db map: outside every
// database range, so KEYS, SCAN, DBSIZE, FLUSHALL, RDB snapshots' key
// passes and slot migrations never see it, and it survives a restart with
// the data. The value is a FUNCTION DUMP payload (uncompressed) of the
// libraries' code, whose CRC-64 catches a damaged record.
std::string FunctionsRecordKey();

// Puts the record of `codes` into `batch` (deletes it when there are none).
void PutFunctionsRecord(const std::vector<std::string>& codes,
                        storage::WriteBatch* batch);

// The library codes in `store` (as of `snapshot`, nullptr = latest); none
// when there is no record.
absl::StatusOr<std::vector<std::string>> ReadFunctionsRecord(
    storage::KvStore& store, const storage::Snapshot* snapshot = nullptr);

}  // namespace reborn::qdb
