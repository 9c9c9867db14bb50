#include "rdb/intset.h"

#include "absl/strings/str_cat.h"
#include "rdb/little_endian.h"

namespace reborn::rdb {
namespace {

void PutLe(uint64_t v, size_t n, std::string* out) {
  for (size_t i = 0; i < n; ++i)
    out->push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace

absl::Status IntsetDecode(std::string_view is, uint64_t max_entries,
                          std::vector<std::string>* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(is.data());
  if (is.size() < 8) return absl::DataLossError("corrupt intset: too short");
  const uint64_t width = LoadLe(p, 4);
  const uint64_t len = LoadLe(p + 4, 4);
  if (width != 2 && width != 4 && width != 8) {
    return absl::DataLossError("corrupt intset: bad encoding");
  }
  if (len > max_entries || 8 + len * width != is.size()) {
    return absl::DataLossError("corrupt intset: bad length");
  }
  const int bits = static_cast<int>(width * 8);
  int64_t prev = 0;
  for (uint64_t i = 0; i < len; ++i) {
    uint64_t u = LoadLe(p + 8 + i * width, width);
    int64_t v;
    if (bits == 64) {
      v = static_cast<int64_t>(u);
    } else {
      uint64_t sign = 1ull << (bits - 1);
      v = static_cast<int64_t>((u ^ sign) - sign);
    }
    if (i > 0 && v <= prev) {
      return absl::DataLossError("corrupt intset: not sorted or not unique");
    }
    prev = v;
    out->push_back(absl::StrCat(v));
  }
  return absl::OkStatus();
}

std::string IntsetEncode(const std::vector<int64_t>& values) {
  size_t width = 2;
  for (int64_t v : values) {
    if (v < INT32_MIN || v > INT32_MAX) {
      width = 8;
      break;
    }
    if (v < INT16_MIN || v > INT16_MAX) width = 4;
  }
  std::string out;
  out.reserve(8 + values.size() * width);
  PutLe(width, 4, &out);
  PutLe(values.size(), 4, &out);
  for (int64_t v : values) PutLe(static_cast<uint64_t>(v), width, &out);
  return out;
}

}  // namespace reborn::rdb
