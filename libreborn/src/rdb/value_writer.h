#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rdb/value.h"

namespace reborn::rdb {

// How values are encoded for writing. The defaults produce what Redis 7.0
// itself writes with its default configuration, all loadable by Redis 7.0:
//   string  raw, integer-encoded (INT8/16/32) or LZF (when `compress`)
//   list    quicklist 2 (type 18) of listpack nodes of at most
//           `list_node_bytes` bytes
//   set     intset (type 11) when every member is an integer and there are
//           at most `intset_max_entries`, else plain (type 2)
//   zset    listpack (type 17) when small, else binary scores (type 5)
//   hash    listpack (type 16) when small, else plain (type 4)
// "Small" is at most `listpack_max_entries` entries each at most
// `listpack_max_value` bytes. With `compact` false every collection is
// written in its plain type (1, 2, 4, 5).
struct EncodeOptions {
  bool compress = true;
  bool compact = true;
  size_t listpack_max_entries = 128;
  size_t listpack_max_value = 64;
  size_t intset_max_entries = 512;
  size_t list_node_bytes = 8192;
};

// Appends an RDB length.
void WriteLength(uint64_t len, std::string* out);
// Appends an RDB string: integer-encoded when it is a canonical integer that
// fits 32 bits, LZF-compressed when `compress`, longer than 20 bytes and
// compressible, else raw.
void WriteString(std::string_view s, bool compress, std::string* out);
// Appends the 8-byte little-endian IEEE double of zset type 5.
void WriteBinaryDouble(double d, std::string* out);

// Appends the RDB encoding of `value` to `out` and returns its RDB object
// type (the byte written before the key in a file, or first in a DUMP
// payload; not appended here).
uint8_t EncodeValue(const Value& value, const EncodeOptions& options,
                    std::string* out);

// Formats a score for a listpack the way Redis 7.0 does (d2string): integral
// values in range as integers, "inf"/"-inf", else "%.17g".
std::string ScoreToString(double score);

}  // namespace reborn::rdb
