#include "rdb/ziplist.h"

#include "absl/strings/str_cat.h"
#include "rdb/little_endian.h"

namespace reborn::rdb {
namespace {

constexpr size_t kZlHeader = 10;
constexpr uint8_t kZlEnd = 0xff;
constexpr uint8_t kZlBigPrevLen = 254;

absl::Status Corrupt(std::string_view kind, std::string_view what,
                     size_t offset) {
  return absl::DataLossError(absl::StrCat("corrupt ", std::string(kind),
                                          " at byte ", offset, ": ",
                                          std::string(what)));
}

}  // namespace

absl::Status ZiplistDecode(std::string_view zl, uint64_t max_entries,
                           std::vector<std::string>* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(zl.data());
  const size_t size = zl.size();
  if (size < kZlHeader + 1) return Corrupt("ziplist", "too short", 0);
  if (LoadLe(p, 4) != size) return Corrupt("ziplist", "zlbytes mismatch", 0);
  if (LoadLe(p + 4, 4) >= size) return Corrupt("ziplist", "bad zltail", 4);
  const uint64_t declared = LoadLe(p + 8, 2);
  size_t pos = kZlHeader;
  uint64_t count = 0;
  uint64_t prev_entry_len = 0;
  while (true) {
    if (pos >= size) return Corrupt("ziplist", "missing terminator", pos);
    if (p[pos] == kZlEnd) {
      if (pos + 1 != size) return Corrupt("ziplist", "data after end", pos);
      break;
    }
    if (++count > max_entries)
      return Corrupt("ziplist", "too many entries", pos);
    const size_t start = pos;
    size_t avail = size - pos;
    // prevlen
    uint64_t prevlen;
    if (p[pos] < kZlBigPrevLen) {
      prevlen = p[pos];
      pos += 1;
    } else {
      if (p[pos] != kZlBigPrevLen || avail < 5) {
        return Corrupt("ziplist", "bad prevlen", pos);
      }
      prevlen = LoadLe(p + pos + 1, 4);
      pos += 5;
    }
    if (prevlen != prev_entry_len) {
      return Corrupt("ziplist", "prevlen mismatch", start);
    }
    if (pos >= size) return Corrupt("ziplist", "entry past end", pos);
    avail = size - pos;
    const uint8_t b = p[pos];
    size_t head = 0;
    uint64_t str_len = 0;
    bool is_int = true;
    int64_t ival = 0;
    switch (b >> 6) {
      case 0:
        is_int = false;
        head = 1;
        str_len = b & 0x3f;
        break;
      case 1:
        is_int = false;
        head = 2;
        if (avail < head) return Corrupt("ziplist", "entry past end", pos);
        str_len = (static_cast<uint64_t>(b & 0x3f) << 8) | p[pos + 1];
        break;
      case 2:
        is_int = false;
        head = 5;
        if (b != 0x80 || avail < head) {
          return Corrupt("ziplist", "bad string header", pos);
        }
        str_len = (static_cast<uint64_t>(p[pos + 1]) << 24) |
                  (static_cast<uint64_t>(p[pos + 2]) << 16) |
                  (static_cast<uint64_t>(p[pos + 3]) << 8) | p[pos + 4];
        break;
      default: {
        int width = 0;
        switch (b) {
          case 0xc0:
            width = 2;
            break;
          case 0xd0:
            width = 4;
            break;
          case 0xe0:
            width = 8;
            break;
          case 0xf0:
            width = 3;
            break;
          case 0xfe:
            width = 1;
            break;
          default:
            if (b >= 0xf1 && b <= 0xfd) {
              ival = (b & 0x0f) - 1;
            } else {
              return Corrupt("ziplist", "bad encoding", pos);
            }
        }
        head = 1 + static_cast<size_t>(width);
        if (avail < head) return Corrupt("ziplist", "entry past end", pos);
        if (width > 0) ival = SignExtend(LoadLe(p + pos + 1, width), width * 8);
      }
    }
    if (str_len > avail - std::min(avail, head)) {
      return Corrupt("ziplist", "string past end", pos);
    }
    if (is_int) {
      out->push_back(absl::StrCat(ival));
    } else {
      out->emplace_back(reinterpret_cast<const char*>(p + pos + head), str_len);
    }
    pos += head + str_len;
    prev_entry_len = pos - start;
  }
  if (declared != 65535 && declared != count) {
    return Corrupt("ziplist", "zllen mismatch", 8);
  }
  return absl::OkStatus();
}

absl::Status ZipmapDecode(
    std::string_view zm, uint64_t max_entries,
    std::vector<std::pair<std::string, std::string>>* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(zm.data());
  const size_t size = zm.size();
  size_t pos = 1;  // zmlen: only a hint
  if (size < 2) return Corrupt("zipmap", "too short", 0);
  auto read_len = [&](uint64_t* len) -> absl::Status {
    if (pos >= size) return Corrupt("zipmap", "truncated", pos);
    uint8_t b = p[pos];
    if (b < 254) {
      *len = b;
      pos += 1;
    } else if (b == 254) {
      if (size - pos < 5) return Corrupt("zipmap", "truncated", pos);
      *len = LoadLe(p + pos + 1, 4);
      pos += 5;
    } else {
      return Corrupt("zipmap", "unexpected end", pos);
    }
    return absl::OkStatus();
  };
  uint64_t count = 0;
  while (true) {
    if (pos >= size) return Corrupt("zipmap", "missing terminator", pos);
    if (p[pos] == 0xff) {
      if (pos + 1 != size) return Corrupt("zipmap", "data after end", pos);
      break;
    }
    if (++count > max_entries)
      return Corrupt("zipmap", "too many entries", pos);
    uint64_t klen = 0, vlen = 0;
    if (auto s = read_len(&klen); !s.ok()) return s;
    if (klen > size - pos) return Corrupt("zipmap", "key past end", pos);
    std::string key(reinterpret_cast<const char*>(p + pos), klen);
    pos += klen;
    if (auto s = read_len(&vlen); !s.ok()) return s;
    if (pos >= size) return Corrupt("zipmap", "truncated", pos);
    uint64_t free = p[pos++];
    if (vlen > size - pos || free > size - pos - vlen) {
      return Corrupt("zipmap", "value past end", pos);
    }
    out->emplace_back(
        std::move(key),
        std::string(reinterpret_cast<const char*>(p + pos), vlen));
    pos += vlen + free;
  }
  return absl::OkStatus();
}

}  // namespace reborn::rdb
