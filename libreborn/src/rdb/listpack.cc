#include "rdb/listpack.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rdb/little_endian.h"

namespace reborn::rdb {
namespace {

constexpr size_t kHeaderSize = 6;
constexpr uint8_t kEof = 0xff;
constexpr uint16_t kUnknownCount = 65535;

size_t BacklenSize(uint64_t len) {
  if (len <= 127) return 1;
  if (len < 16383) return 2;
  if (len < 2097151) return 3;
  if (len < 268435455) return 4;
  return 5;
}

void AppendBacklen(uint64_t len, std::string* out) {
  // lpEncodeBacklen: the first byte holds the most significant 7 bits; every
  // later byte has its high bit set.
  size_t n = BacklenSize(len);
  char tmp[5];
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = static_cast<uint8_t>(len & 127);
    len >>= 7;
    if (i != n - 1) b |= 128;
    tmp[n - 1 - i] = static_cast<char>(b);
  }
  out->append(tmp, n);
}

absl::Status Corrupt(std::string_view what, size_t offset) {
  return absl::DataLossError(absl::StrCat("corrupt listpack at byte ", offset,
                                          ": ", std::string(what)));
}

}  // namespace

bool IsCanonicalInt(std::string_view s, int64_t* value) {
  if (s.empty() || s.size() > 20) return false;
  if (s[0] == '+' || (s[0] == '0' && s.size() > 1)) return false;
  if (s[0] == '-' && (s.size() == 1 || s[1] == '0')) return false;
  for (size_t i = (s[0] == '-' ? 1 : 0); i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return absl::SimpleAtoi(absl::string_view(s.data(), s.size()), value);
}

absl::Status ListpackDecode(std::string_view lp, uint64_t max_entries,
                            std::vector<std::string>* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(lp.data());
  const size_t size = lp.size();
  if (size < kHeaderSize + 1) return Corrupt("too short", 0);
  if (LoadLe(p, 4) != size) return Corrupt("total bytes mismatch", 0);
  const uint64_t declared = LoadLe(p + 4, 2);
  size_t pos = kHeaderSize;
  uint64_t count = 0;
  while (true) {
    if (pos >= size) return Corrupt("missing terminator", pos);
    const size_t start = pos;
    const uint8_t b = p[pos];
    if (b == kEof) {
      if (pos + 1 != size) return Corrupt("data after terminator", pos);
      break;
    }
    if (++count > max_entries) return Corrupt("too many entries", pos);
    size_t avail = size - pos;
    uint64_t str_len = 0;
    size_t head = 0;  // encoding bytes before string data
    bool is_int = true;
    int64_t ival = 0;
    if ((b & 0x80) == 0) {  // 7-bit uint
      head = 1;
      ival = b & 0x7f;
    } else if ((b & 0xc0) == 0x80) {  // 6-bit string
      is_int = false;
      head = 1;
      str_len = b & 0x3f;
    } else if ((b & 0xe0) == 0xc0) {  // 13-bit int
      head = 2;
      if (avail < head) return Corrupt("entry past end", pos);
      ival =
          SignExtend((static_cast<uint64_t>(b & 0x1f) << 8) | p[pos + 1], 13);
    } else if ((b & 0xf0) == 0xe0) {  // 12-bit string
      is_int = false;
      head = 2;
      if (avail < head) return Corrupt("entry past end", pos);
      str_len = (static_cast<uint64_t>(b & 0x0f) << 8) | p[pos + 1];
    } else {
      int width = 0;
      switch (b) {
        case 0xf0:  // 32-bit string length
          is_int = false;
          head = 5;
          if (avail < head) return Corrupt("entry past end", pos);
          str_len = LoadLe(p + pos + 1, 4);
          break;
        case 0xf1:
          width = 2;
          break;
        case 0xf2:
          width = 3;
          break;
        case 0xf3:
          width = 4;
          break;
        case 0xf4:
          width = 8;
          break;
        default:
          return Corrupt(absl::StrCat("bad encoding byte ", b), pos);
      }
      if (is_int) {
        head = 1 + static_cast<size_t>(width);
        if (avail < head) return Corrupt("entry past end", pos);
        ival = SignExtend(LoadLe(p + pos + 1, width), width * 8);
      }
    }
    if (str_len > avail - std::min(avail, head)) {
      return Corrupt("string past end", pos);
    }
    const uint64_t entry_len = head + str_len;
    const size_t backlen_size = BacklenSize(entry_len);
    if (avail < entry_len + backlen_size) return Corrupt("entry past end", pos);
    // Check the backlen (stored big-end-last, 7 bits per byte).
    uint64_t back = 0;
    const unsigned char* bp = p + pos + entry_len;
    for (size_t i = 0; i < backlen_size; ++i) {
      back = (back << 7) | (bp[i] & 127);
    }
    if (back != entry_len) return Corrupt("backlen mismatch", pos);
    if (is_int) {
      out->push_back(absl::StrCat(ival));
    } else {
      out->emplace_back(reinterpret_cast<const char*>(p + pos + head), str_len);
    }
    pos = start + entry_len + backlen_size;
  }
  if (declared != kUnknownCount && declared != count) {
    return Corrupt("element count mismatch", 4);
  }
  return absl::OkStatus();
}

ListpackBuilder::ListpackBuilder() { buf_.assign(kHeaderSize, '\0'); }

void ListpackBuilder::Append(std::string_view s) {
  const size_t start = buf_.size();
  int64_t v;
  if (IsCanonicalInt(s, &v)) {
    auto put_le = [&](uint64_t x, int n) {
      for (int i = 0; i < n; ++i)
        buf_.push_back(static_cast<char>(x >> (8 * i)));
    };
    uint64_t u = static_cast<uint64_t>(v);
    if (v >= 0 && v <= 127) {
      buf_.push_back(static_cast<char>(v));
    } else if (v >= -4096 && v <= 4095) {
      u &= 0x1fff;
      buf_.push_back(static_cast<char>(0xc0 | (u >> 8)));
      buf_.push_back(static_cast<char>(u & 0xff));
    } else if (v >= -32768 && v <= 32767) {
      buf_.push_back(static_cast<char>(0xf1));
      put_le(u, 2);
    } else if (v >= -8388608 && v <= 8388607) {
      buf_.push_back(static_cast<char>(0xf2));
      put_le(u, 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      buf_.push_back(static_cast<char>(0xf3));
      put_le(u, 4);
    } else {
      buf_.push_back(static_cast<char>(0xf4));
      put_le(u, 8);
    }
  } else if (s.size() < 64) {
    buf_.push_back(static_cast<char>(0x80 | s.size()));
    buf_.append(s);
  } else if (s.size() < 4096) {
    buf_.push_back(static_cast<char>(0xe0 | (s.size() >> 8)));
    buf_.push_back(static_cast<char>(s.size() & 0xff));
    buf_.append(s);
  } else {
    buf_.push_back(static_cast<char>(0xf0));
    for (int i = 0; i < 4; ++i) {
      buf_.push_back(static_cast<char>(s.size() >> (8 * i)));
    }
    buf_.append(s);
  }
  AppendBacklen(buf_.size() - start, &buf_);
  ++count_;
}

std::string ListpackBuilder::Finish() {
  buf_.push_back(static_cast<char>(kEof));
  const uint64_t total = buf_.size();
  const uint64_t n = count_ < kUnknownCount ? count_ : kUnknownCount;
  for (int i = 0; i < 4; ++i) buf_[i] = static_cast<char>(total >> (8 * i));
  buf_[4] = static_cast<char>(n & 0xff);
  buf_[5] = static_cast<char>(n >> 8);
  std::string out = std::move(buf_);
  buf_.assign(kHeaderSize, '\0');
  count_ = 0;
  return out;
}

}  // namespace reborn::rdb
