#pragma once

#include <cstdint>
#include <string_view>

namespace reborn::rdb {

// CRC-64/Jones as Redis computes it (crc64.c): reflected, polynomial
// 0xad93d23594c935a9, initial value 0, no final xor. Crc64(0, "123456789")
// is 0xe9c6d914c4b8d9ca. Continue a running checksum by passing it as `crc`.
uint64_t Crc64(uint64_t crc, std::string_view data);

}  // namespace reborn::rdb
