#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "storage/kv_store.h"

namespace reborn::storage {

// LevelDB backend. Columns are emulated by a one-byte key prefix.
absl::StatusOr<std::unique_ptr<KvStore>> OpenLevelDbStore(
    const Options& options);

}  // namespace reborn::storage
