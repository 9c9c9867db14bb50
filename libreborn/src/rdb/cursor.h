#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rdb/value.h"

namespace reborn::rdb {

// A read position over buffered, untrusted RDB bytes, with the primitive
// reads of the RDB format (lengths, strings in every encoding, doubles).
//
// A read fails in one of two ways: the input is short (`is_short()`; `need()`
// is the offset from the start of `data` up to which bytes must be buffered
// before retrying) or the input is corrupt (`error()` is set, sticky). After
// a short read the caller rewinds to the start of the item it was parsing and
// retries once more bytes arrived; items are small and atomic, so parsing a
// stream costs linear time whatever the chunk sizes.
class Cursor {
 public:
  Cursor(std::string_view data, const Limits& limits, uint64_t base_offset = 0)
      : data_(data), limits_(limits), base_offset_(base_offset) {}

  size_t pos() const { return pos_; }
  void set_pos(size_t pos) { pos_ = pos; }
  size_t remaining() const { return data_.size() - pos_; }
  std::string_view data() const { return data_; }
  const Limits& limits() const { return limits_; }

  bool is_short() const { return need_ > 0 && error_.ok(); }
  size_t need() const { return need_; }
  bool has_error() const { return !error_.ok(); }
  const absl::Status& error() const { return error_; }

  bool ReadByte(uint8_t* out);
  bool ReadRaw(size_t n, std::string_view* out);
  // `bytes` (1..8) bytes, little-endian.
  bool ReadLittleEndian(int bytes, uint64_t* out);
  // A length; a special (integer/LZF) encoding here is corrupt input.
  bool ReadLength(uint64_t* out);
  // A length, or a special encoding (`*encoded` true, `*out` its kind).
  bool ReadLengthOrEncoding(uint64_t* out, bool* encoded);
  // A string in any encoding: raw, INT8/16/32, LZF.
  bool ReadString(std::string* out);
  // The 8-byte little-endian IEEE double of RDB_TYPE_ZSET_2.
  bool ReadBinaryDouble(double* out);
  // The length-prefixed text double of RDB_TYPE_ZSET (253 nan, 254 inf,
  // 255 -inf).
  bool ReadTextDouble(double* out);

  // Marks the input corrupt at the current position; returns false.
  bool Corrupt(std::string_view what);

 private:
  bool Short(size_t n);

  std::string_view data_;
  const Limits& limits_;
  uint64_t base_offset_;
  size_t pos_ = 0;
  size_t need_ = 0;
  absl::Status error_;
};

// Parses a score as Redis does (strtod over the whole text); false if the
// text is not a number.
bool ParseScore(std::string_view text, double* out);

}  // namespace reborn::rdb
