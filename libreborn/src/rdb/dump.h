#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rdb/value.h"
#include "rdb/value_writer.h"

namespace reborn::rdb {

// Redis' DUMP/RESTORE serialization: type byte, RDB value encoding, RDB
// version as 2 bytes little-endian, CRC-64/Jones of everything before it as
// 8 bytes little-endian.

// The RESTORE error texts of Redis 7.0 (the full error line without '-').
inline constexpr char kDumpChecksumError[] =
    "ERR DUMP payload version or checksum are wrong";
inline constexpr char kDumpBadFormatError[] = "ERR Bad data format";

// Encodes `value` as a DUMP payload that Redis 7.0 RESTOREs. `value` must
// satisfy Validate() and not be an empty collection.
std::string EncodeDump(const Value& value, const EncodeOptions& options = {});

// Decodes a DUMP payload written by Redis (any RDB version up to 10) or by
// EncodeDump. Errors are InvalidArgument with exactly Redis' RESTORE error
// text: kDumpChecksumError for a short payload, a newer RDB version or a
// checksum mismatch; kDumpBadFormatError for anything wrong inside (corrupt
// encoding, trailing bytes, duplicates, empty collection, unsupported type).
// `detail`, when given, receives the underlying reason for logs.
absl::StatusOr<Value> DecodeDump(std::string_view payload,
                                 const Limits& limits = {},
                                 std::string* detail = nullptr);

}  // namespace reborn::rdb
