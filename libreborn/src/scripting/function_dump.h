#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace reborn::scripting {

// FUNCTION DUMP / FUNCTION RESTORE payloads as Redis 7.0 writes them
// (functionDumpCommand): per library the RDB opcode FUNCTION2 (245) and the
// library code as an RDB string (LZF-compressed when `compress`, as with
// rdbcompression yes), then the RDB version (2 bytes) and the CRC-64 of
// everything before it (8 bytes), both little-endian.
std::string EncodeFunctionDump(const std::vector<std::string>& codes,
                               bool compress = true);

// The library codes of a payload written by Redis or EncodeFunctionDump.
// Errors carry Redis' reply text: "ERR DUMP payload version or checksum are
// wrong", "ERR given type is not a function", "ERR can not read data type",
// "ERR failed loading the given functions payload".
absl::StatusOr<std::vector<std::string>> DecodeFunctionDump(
    std::string_view payload);

}  // namespace reborn::scripting
