#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "command/command_table.h"
#include "reborn/qdb_engine.h"

namespace reborn {

// Registers every data and keyspace command of the engine (strings, keys,
// SCAN/KEYS/RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SELECT, SWAPDB, MOVE, COPY,
// ...) into `table`. Handlers keep a reference to `engine`, which must
// outlive the table.
absl::Status RegisterEngineCommands(QdbEngine& engine, CommandTable& table);

// Appends the engine's INFO fields for `section` (lower case): "keyspace"
// (dbN:keys=,expires=,avg_ttl=), "memory" (used_memory_storage),
// "persistence" (storage_dir, storage_disk_bytes), "stats" (expired_keys,
// keyspace_hits/misses) and "rocksdb" (storage statistics). Lines end in
// "\r\n". No section header, except for "rocksdb", which is not a Redis
// section: it comes with its own "# RocksDB" header.
void AppendEngineInfo(QdbEngine& engine, std::string_view section,
                      std::string* out);

}  // namespace reborn
