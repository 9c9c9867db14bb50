#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reborn::rdb {

// LZF (liblzf's format, as Redis uses it for compressed RDB strings).

// Compresses `in`. Returns nullopt when the result would not be at least 4
// bytes shorter than `in` (Redis then stores the string uncompressed).
std::optional<std::string> LzfCompress(std::string_view in);

// Decompresses `in` into exactly `out_len` bytes. Every back reference and
// literal run is bounds-checked; corrupt input is an error, never a read or
// write out of bounds. The caller bounds `out_len` (see LzfMaxExpansion).
absl::StatusOr<std::string> LzfDecompress(std::string_view in, size_t out_len);

// The most bytes `compressed_len` LZF bytes can expand to (a 3-byte back
// reference yields at most 264 bytes).
inline constexpr size_t LzfMaxExpansion(size_t compressed_len) {
  return compressed_len * 88 + 32;
}

}  // namespace reborn::rdb
