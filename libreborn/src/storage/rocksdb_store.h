#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "storage/kv_store.h"

namespace reborn::storage {

// RocksDB backend: one column family per Column, a shared LRU block cache,
// optional row cache, bloom filters and a compaction filter running
// Options::garbage_filter on the member columns.
absl::StatusOr<std::unique_ptr<KvStore>> OpenRocksDbStore(
    const Options& options);

}  // namespace reborn::storage
