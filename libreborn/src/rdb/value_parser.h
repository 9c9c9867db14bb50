#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rdb/cursor.h"
#include "rdb/value.h"

namespace reborn::rdb {

// Decodes one RDB-encoded value of a given object type, incrementally: it
// consumes whole items (a length, a string, a member and its score, a
// listpack node...) from a Cursor and keeps the partly built Value between
// calls, so a value of any size streams through a bounded input buffer.
//
// Reads every encoding Redis 7.0 writes and the older ones: string (raw,
// INT8/16/32, LZF), list (plain, ziplist, quicklist, quicklist 2 with packed
// and plain nodes), set (plain, intset, listpack), zset (text-score, binary
// score, ziplist, listpack), hash (plain, zipmap, ziplist, listpack). Module
// and stream types are rejected with a clear error.
class ValueParser {
 public:
  ValueParser(uint8_t rdb_type, const Limits& limits);

  // Parses complete items from `c`. Returns true once the value is complete;
  // false when more input is needed (then c.pos() is at the end of the last
  // complete item and c.need() says how far the buffer must reach); or a
  // DataLoss error for corrupt input.
  absl::StatusOr<bool> Parse(Cursor& c);

  // The finished value (after Parse returned true). An empty collection is
  // returned as such; callers decide (Redis skips such keys).
  Value Take() { return std::move(value_); }

  // True when `rdb_type` is one this parser understands.
  static bool IsSupportedType(uint8_t rdb_type);

 private:
  bool Step(Cursor& c);
  bool ParseElement(Cursor& c);
  bool DecodeBlob(Cursor& c, std::string_view blob);
  bool Finish(Cursor& c);
  bool Account(Cursor& c, size_t bytes);

  uint8_t type_;
  const Limits& limits_;
  Value value_;
  bool have_count_ = false;
  bool done_ = false;
  uint64_t remaining_ = 0;
  uint64_t bytes_ = 0;
  std::string scratch_;
};

// Decodes a complete value of `rdb_type` held in `body`; the value must end
// exactly at the end of `body`.
absl::StatusOr<Value> DecodeValue(uint8_t rdb_type, std::string_view body,
                                  const Limits& limits);

}  // namespace reborn::rdb
