#include "rdb/cursor.h"

#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "rdb/format.h"
#include "rdb/lzf.h"

namespace reborn::rdb {

bool Cursor::Short(size_t n) {
  need_ = pos_ + n;
  return false;
}

bool Cursor::Corrupt(std::string_view what) {
  if (error_.ok()) {
    error_ = absl::DataLossError(absl::StrCat("corrupt RDB data at offset ",
                                              base_offset_ + pos_, ": ",
                                              std::string(what)));
  }
  return false;
}

bool Cursor::ReadByte(uint8_t* out) {
  if (remaining() < 1) return Short(1);
  *out = static_cast<uint8_t>(data_[pos_++]);
  return true;
}

bool Cursor::ReadRaw(size_t n, std::string_view* out) {
  if (remaining() < n) return Short(n);
  *out = data_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool Cursor::ReadLittleEndian(int bytes, uint64_t* out) {
  std::string_view raw;
  if (!ReadRaw(static_cast<size_t>(bytes), &raw)) return false;
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(raw[static_cast<size_t>(i)]);
  }
  *out = v;
  return true;
}

bool Cursor::ReadLengthOrEncoding(uint64_t* out, bool* encoded) {
  size_t start = pos_;
  uint8_t b;
  if (!ReadByte(&b)) return false;
  *encoded = false;
  switch (b >> 6) {
    case kLen6Bit:
      *out = b & 0x3f;
      return true;
    case kLen14Bit: {
      uint8_t b2;
      if (!ReadByte(&b2)) return false;
      *out = (static_cast<uint64_t>(b & 0x3f) << 8) | b2;
      return true;
    }
    case kLenEncoded:
      *encoded = true;
      *out = b & 0x3f;
      return true;
    default:
      break;
  }
  int width = b == kLen32Bit ? 4 : b == kLen64Bit ? 8 : 0;
  if (width == 0) {
    pos_ = start;
    return Corrupt(
        absl::StrCat("unknown length encoding ", static_cast<int>(b)));
  }
  std::string_view raw;
  if (!ReadRaw(static_cast<size_t>(width), &raw)) return false;
  uint64_t v = 0;
  for (char c : raw) v = (v << 8) | static_cast<uint8_t>(c);  // big-endian
  *out = v;
  return true;
}

bool Cursor::ReadLength(uint64_t* out) {
  bool encoded;
  if (!ReadLengthOrEncoding(out, &encoded)) return false;
  if (encoded) return Corrupt("encoded string where a length was expected");
  return true;
}

bool Cursor::ReadString(std::string* out) {
  uint64_t len = 0;  // set by ReadLengthOrEncoding; GCC cannot tell with -fPIC
  bool encoded = false;
  if (!ReadLengthOrEncoding(&len, &encoded)) return false;
  if (encoded) {
    uint64_t v;
    switch (len) {
      case kEncInt8:
        if (!ReadLittleEndian(1, &v)) return false;
        *out = absl::StrCat(static_cast<int8_t>(v));
        return true;
      case kEncInt16:
        if (!ReadLittleEndian(2, &v)) return false;
        *out = absl::StrCat(static_cast<int16_t>(v));
        return true;
      case kEncInt32:
        if (!ReadLittleEndian(4, &v)) return false;
        *out = absl::StrCat(static_cast<int32_t>(v));
        return true;
      case kEncLzf: {
        uint64_t clen, ulen;
        if (!ReadLength(&clen) || !ReadLength(&ulen)) return false;
        if (clen > limits_.max_string_bytes ||
            ulen > limits_.max_string_bytes) {
          return Corrupt("LZF string longer than the limit");
        }
        if (ulen > LzfMaxExpansion(clen)) {
          return Corrupt("LZF length impossible for its compressed size");
        }
        std::string_view packed;
        if (!ReadRaw(clen, &packed)) return false;
        auto unpacked = LzfDecompress(packed, ulen);
        if (!unpacked.ok()) {
          return Corrupt(std::string(unpacked.status().message()));
        }
        *out = std::move(*unpacked);
        return true;
      }
      default:
        return Corrupt(absl::StrCat("unknown string encoding ", len));
    }
  }
  if (len > limits_.max_string_bytes) {
    return Corrupt(absl::StrCat("string of ", len, " bytes exceeds the limit"));
  }
  std::string_view raw;
  if (!ReadRaw(len, &raw)) return false;
  out->assign(raw.data(), raw.size());
  return true;
}

bool Cursor::ReadBinaryDouble(double* out) {
  uint64_t bits;
  if (!ReadLittleEndian(8, &bits)) return false;
  *out = std::bit_cast<double>(bits);
  return true;
}

bool Cursor::ReadTextDouble(double* out) {
  uint8_t len;
  if (!ReadByte(&len)) return false;
  switch (len) {
    case 253:
      *out = std::numeric_limits<double>::quiet_NaN();
      return true;
    case 254:
      *out = std::numeric_limits<double>::infinity();
      return true;
    case 255:
      *out = -std::numeric_limits<double>::infinity();
      return true;
    default:
      break;
  }
  std::string_view text;
  if (!ReadRaw(len, &text)) return false;
  if (!ParseScore(text, out)) return Corrupt("bad double value");
  return true;
}

bool ParseScore(std::string_view text, double* out) {
  if (text.empty() || text.size() > 127) return false;
  char buf[128];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(buf, &end);
  if (end != buf + text.size() ||
      std::isspace(static_cast<unsigned char>(buf[0]))) {
    return false;
  }
  *out = v;
  return true;
}

}  // namespace reborn::rdb
