#pragma once

#include "qdb/engine_core.h"
#include "reborn/qdb_engine.h"

namespace reborn::qdb {

// The implementation behind a public QdbEngine, for code inside libreborn
// (the server's command table, blocking commands) and white-box tests and
// benches. Embedders use QdbEngine's own methods.
struct EngineAccess {
  static EngineCore& Core(QdbEngine& engine) { return *engine.core_; }
};

inline EngineCore& CoreOf(QdbEngine& engine) {
  return EngineAccess::Core(engine);
}

}  // namespace reborn::qdb
