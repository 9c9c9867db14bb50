#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace reborn::rdb {

// Listpack (Redis 7.0's compact encoding of small hashes, zsets and list
// nodes): total_bytes:u32le num_elements:u16le entry* 0xff, where every entry
// is encoding+data followed by its length as a 1..5 byte "backlen".

// Appends every entry of `lp` to `out`, integers as decimal text. Checks the
// whole structure (header, bounds of every entry, backlens, terminator,
// element count) so corrupt input is an error, never an out-of-bounds read.
// At most `max_entries` entries are accepted.
absl::Status ListpackDecode(std::string_view lp, uint64_t max_entries,
                            std::vector<std::string>* out);

// Builds a listpack. Strings that are canonical 64-bit integers ("12", not
// "012" or "+1") are stored in integer encodings, as Redis does.
class ListpackBuilder {
 public:
  ListpackBuilder();
  void Append(std::string_view s);
  size_t count() const { return count_; }
  // Bytes of the listpack built so far (without the terminator).
  size_t bytes() const { return buf_.size(); }
  // Returns the finished listpack and resets the builder.
  std::string Finish();

 private:
  std::string buf_;
  size_t count_ = 0;
};

// True when `s` is exactly how Redis prints some int64 (string2ll accepts it
// and ll2string gives it back).
bool IsCanonicalInt(std::string_view s, int64_t* value);

}  // namespace reborn::rdb
