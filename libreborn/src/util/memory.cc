#include "util/memory.h"

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace reborn {

std::optional<uint64_t> AvailableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string name;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> name >> kib >> unit) {
    if (name == "MemAvailable:") return kib * 1024;
  }
  return std::nullopt;
}

absl::Status CheckClientSizedAllocation(uint64_t bytes) {
  if (bytes < kCheckedAllocationBytes) return absl::OkStatus();
  const std::optional<uint64_t> available = AvailableMemoryBytes();
  if (!available || bytes <= *available / 3) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "OOM command not allowed: the value would need ", bytes,
      " bytes and the system has ", *available, " bytes available"));
}

}  // namespace reborn
