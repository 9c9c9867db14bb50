#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace reborn::rdb {

// Intset (RDB type 11): encoding:u32le (2, 4 or 8) length:u32le then
// `length` sorted, unique little-endian integers of `encoding` bytes.

// Appends every member to `out` as decimal text. Checks sizes, order and
// uniqueness.
absl::Status IntsetDecode(std::string_view is, uint64_t max_entries,
                          std::vector<std::string>* out);

// Encodes `values` (sorted ascending, unique) in the narrowest encoding.
std::string IntsetEncode(const std::vector<int64_t>& values);

}  // namespace reborn::rdb
