#pragma once

#include "reborn/export.h"

namespace reborn {

// reborn-config: `reborn-config --coordinator URI --product NAME [--json]
// COMMAND ...` (see docs/coordinator.md). Returns the process exit code:
// 0 done, 1 the operation failed (message on stderr), 2 bad usage.
REBORN_EXPORT int RunConfigTool(int argc, char** argv);

}  // namespace reborn
