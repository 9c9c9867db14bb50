#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rdb/value.h"

namespace reborn::rdb {

// Decodes a stream value of RDB type 15, 19 or 21 (rdbLoadObject's
// OBJ_STREAM): the listpack nodes, the stream's ids and counters, the
// consumer groups with their PELs and consumers. Ids must ascend and every
// consumer's pending id must be in its group's PEL.
absl::StatusOr<StreamData> DecodeStream(uint8_t rdb_type, std::string_view body,
                                        const Limits& limits);

// Appends the RDB_TYPE_STREAM_LISTPACKS_2 (19) encoding Redis 7.0 writes:
// nodes of at most `node_entries` entries, each a listpack with a master
// entry, as streamAppendItem builds them. Returns the type.
uint8_t EncodeStream(const StreamData& stream, bool compress, std::string* out,
                     size_t node_entries = 100);

}  // namespace reborn::rdb
