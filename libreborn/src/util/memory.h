#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"

namespace reborn {

// Memory the system can still give without swapping (/proc/meminfo's
// MemAvailable); nullopt where it cannot be read.
std::optional<uint64_t> AvailableMemoryBytes();

// Values smaller than this are built without asking (the common case costs
// nothing); bigger ones must fit in a third of the available memory (the
// value, its encoded record and the write batch's copy exist at once).
inline constexpr uint64_t kCheckedAllocationBytes = 64ULL * 1024 * 1024;

// An allocation whose size a client chose (SETRANGE's offset, SETBIT's,
// APPEND): OK, or Redis' OOM error instead of a process that aborts or is
// killed by the kernel.
absl::Status CheckClientSizedAllocation(uint64_t bytes);

}  // namespace reborn
