#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace reborn::rdb {

// Ziplist (RDB types 10, 12, 13 and the nodes of quicklist type 14; written
// by Redis before 7.0): zlbytes:u32le zltail:u32le zllen:u16le entry* 0xff.
// Appends every entry to `out` (integers as decimal text); the whole
// structure is bounds-checked. At most `max_entries` entries are accepted.
absl::Status ZiplistDecode(std::string_view zl, uint64_t max_entries,
                           std::vector<std::string>* out);

// Zipmap (RDB type 9, hashes written by Redis before 2.6):
// zmlen:u8 (len key len free value pad)* 0xff. Appends (field, value) pairs.
absl::Status ZipmapDecode(
    std::string_view zm, uint64_t max_entries,
    std::vector<std::pair<std::string, std::string>>* out);

}  // namespace reborn::rdb
