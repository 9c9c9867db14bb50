#include "reborn/storage_engine.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace reborn {

#if !REBORN_WITH_LEVELDB
constexpr char kNoLevelDb[] =
    "engine 'leveldb' is not available: libreborn was built with "
    "REBORN_WITH_LEVELDB=OFF";
#endif

std::string_view StorageEngineName(StorageEngine engine) {
  switch (engine) {
    case StorageEngine::kRocksDb:
      return "rocksdb";
    case StorageEngine::kLevelDb:
      return "leveldb";
    case StorageEngine::kMemory:
      return "memory";
  }
  return "unknown";
}

std::vector<StorageEngine> AvailableStorageEngines() {
#if REBORN_WITH_LEVELDB
  return {StorageEngine::kRocksDb, StorageEngine::kLevelDb,
          StorageEngine::kMemory};
#else
  return {StorageEngine::kRocksDb, StorageEngine::kMemory};
#endif
}

absl::StatusOr<StorageEngine> ParseStorageEngine(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower == "rocksdb") return StorageEngine::kRocksDb;
  if (lower == "leveldb") {
#if REBORN_WITH_LEVELDB
    return StorageEngine::kLevelDb;
#else
    return absl::InvalidArgumentError(kNoLevelDb);
#endif
  }
  if (lower == "memory") return StorageEngine::kMemory;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown engine '", std::string(name),
                   "' (expected rocksdb, leveldb or memory)"));
}

}  // namespace reborn
