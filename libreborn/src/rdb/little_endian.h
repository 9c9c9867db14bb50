#pragma once

#include <cstddef>
#include <cstdint>

namespace reborn::rdb {

// Reads an n-byte little-endian unsigned integer (n <= 8), as Redis' compact
// encodings (intset, ziplist, listpack) store them.
inline uint64_t LoadLe(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i > 0; --i) v = (v << 8) | p[i - 1];
  return v;
}

// Sign-extends the low `bits` bits of `v`.
inline int64_t SignExtend(uint64_t v, int bits) {
  uint64_t sign = 1ull << (bits - 1);
  uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
  v &= mask;
  return static_cast<int64_t>((v ^ sign) - sign);
}

}  // namespace reborn::rdb
