#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "reborn/qdb_engine.h"

// RDB import and export of a whole engine (QdbEngine::BeginRdbLoad and
// TakeRdbSnapshot), over the rdb library and the DUMP/RESTORE converters of
// dump_restore.h. See docs/replication.md for the staging design.
namespace reborn::qdb {

class EngineCore;

// Starts a load staged in the unmapped physical databases; FailedPrecondition
// while another load of `core` is open.
absl::StatusOr<std::unique_ptr<RdbLoad>> BeginRdbLoad(
    EngineCore& core, const RdbLoadOptions& options);

// A storage snapshot plus a copy of the db map. Must not outlive `core`.
absl::StatusOr<std::unique_ptr<RdbSnapshot>> TakeRdbSnapshot(EngineCore& core);

}  // namespace reborn::qdb
