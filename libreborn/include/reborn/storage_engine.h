#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "reborn/export.h"

namespace reborn {

// The store under a QDB engine (QdbOptions::engine, qdb-server's `engine`).
enum class StorageEngine {
  kRocksDb,  // on disk, the default
  kLevelDb,  // on disk; only with REBORN_WITH_LEVELDB
  kMemory,   // in memory, nothing survives a restart
};

// "rocksdb", "leveldb", "memory": the names of the configuration files and
// the command lines.
REBORN_EXPORT std::string_view StorageEngineName(StorageEngine engine);

// The engine called `name` (any case). InvalidArgument for an unknown name
// and for an engine this build of libreborn does not contain.
REBORN_EXPORT absl::StatusOr<StorageEngine> ParseStorageEngine(
    std::string_view name);

// The engines built into this library, in enum order.
REBORN_EXPORT std::vector<StorageEngine> AvailableStorageEngines();

}  // namespace reborn
