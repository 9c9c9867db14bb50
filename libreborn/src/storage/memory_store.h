#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "storage/kv_store.h"

namespace reborn::storage {

// An ordered in-memory store with snapshots (multi-version entries). The
// fast "hot group" engine and the test double.
absl::StatusOr<std::unique_ptr<KvStore>> OpenMemoryStore(
    const Options& options);

}  // namespace reborn::storage
