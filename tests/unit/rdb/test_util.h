#pragma once

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "rdb/value.h"

namespace reborn::rdb::test_util {

inline std::string Hex(std::string_view hex) {
  return absl::HexStringToBytes(absl::string_view(hex.data(), hex.size()));
}

inline void PutLe(uint64_t v, int n, std::string* out) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// Builds a ziplist the way Redis < 7.0 did (test-only: the library only
// reads ziplists). Entries that are canonical small integers use integer
// encodings when `ints` is true.
class ZiplistBuilder {
 public:
  void AddString(std::string_view s) {
    std::string e;
    Prevlen(&e);
    if (s.size() < 64) {
      e.push_back(static_cast<char>(s.size()));
    } else if (s.size() < 16384) {
      e.push_back(static_cast<char>(0x40 | (s.size() >> 8)));
      e.push_back(static_cast<char>(s.size() & 0xff));
    } else {
      e.push_back(static_cast<char>(0x80));
      for (int i = 3; i >= 0; --i)
        e.push_back(static_cast<char>(s.size() >> (8 * i)));
    }
    e.append(s);
    Add(e);
  }
  // encoding: 0xfe int8, 0xc0 int16, 0xf0 int24, 0xd0 int32, 0xe0 int64,
  // 0xf1..0xfd immediate.
  void AddInt(int64_t v, uint8_t encoding) {
    std::string e;
    Prevlen(&e);
    e.push_back(static_cast<char>(encoding));
    int width = encoding == 0xfe   ? 1
                : encoding == 0xc0 ? 2
                : encoding == 0xf0 ? 3
                : encoding == 0xd0 ? 4
                : encoding == 0xe0 ? 8
                                   : 0;
    PutLe(static_cast<uint64_t>(v), width, &e);
    Add(e);
  }
  std::string Finish() const {
    std::string out;
    PutLe(10 + body_.size() + 1, 4, &out);
    PutLe(10 + last_offset_, 4, &out);
    PutLe(count_, 2, &out);
    out += body_;
    out.push_back(static_cast<char>(0xff));
    return out;
  }

 private:
  void Prevlen(std::string* e) {
    if (prev_len_ < 254) {
      e->push_back(static_cast<char>(prev_len_));
    } else {
      e->push_back(static_cast<char>(254));
      PutLe(prev_len_, 4, e);
    }
  }
  void Add(const std::string& e) {
    last_offset_ = body_.size();
    body_ += e;
    prev_len_ = e.size();
    ++count_;
  }
  std::string body_;
  size_t prev_len_ = 0;
  size_t last_offset_ = 0;
  size_t count_ = 0;
};

// Zipmap bytes for (field, value) pairs (Redis < 2.6 hashes).
inline std::string BuildZipmap(
    const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  out.push_back(static_cast<char>(pairs.size() < 254 ? pairs.size() : 254));
  auto len = [&](size_t n) {
    if (n < 254) {
      out.push_back(static_cast<char>(n));
    } else {
      out.push_back(static_cast<char>(254));
      PutLe(n, 4, &out);
    }
  };
  for (const auto& [f, v] : pairs) {
    len(f.size());
    out += f;
    len(v.size());
    out.push_back(2);  // free bytes
    out += v;
    out += "xx";
  }
  out.push_back(static_cast<char>(0xff));
  return out;
}

// A deterministic assortment of values of every type and size class.
inline std::vector<Value> SampleValues(uint32_t seed = 1) {
  std::mt19937 rng(seed);
  auto str = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
  };
  std::vector<Value> out;
  out.push_back(Value::String(""));
  out.push_back(Value::String("hello"));
  out.push_back(Value::String("-12"));
  out.push_back(Value::String("123456789"));
  out.push_back(Value::String("-2147483648"));
  out.push_back(Value::String("9223372036854775807"));
  out.push_back(Value::String("007"));
  out.push_back(Value::String(std::string(5000, 'a') + "tail"));
  out.push_back(Value::String(str(300)));
  for (size_t n : {1u, 5u, 200u, 3000u}) {
    std::vector<std::string> items;
    for (size_t i = 0; i < n; ++i) {
      items.push_back(i % 3 == 0
                          ? absl::StrCat(static_cast<int64_t>(i) * 7919 - 5000)
                          : str(i % 50 + (i == 7 ? 9000 : 0)));
    }
    out.push_back(Value::List(items));
    std::vector<std::string> members;
    for (size_t i = 0; i < n; ++i)
      members.push_back(absl::StrCat("m", i, ":", str(i % 10)));
    out.push_back(Value::Set(members));
    std::vector<std::string> ints;
    for (size_t i = 0; i < n; ++i) {
      ints.push_back(absl::StrCat(static_cast<int64_t>(i) * (i % 2 ? 1 : -1) *
                                  (n > 100 ? 100000007LL : 3)));
    }
    out.push_back(Value::Set(ints));
    std::vector<std::pair<std::string, double>> scores;
    for (size_t i = 0; i < n; ++i) {
      double sc = i % 4 == 0 ? static_cast<double>(i)
                             : (i % 4 == 1 ? -0.1 * i : 1e300 / (i + 1));
      scores.emplace_back(absl::StrCat("z", i, ":", str(i == 3 ? 80 : 2)), sc);
    }
    if (n > 1) scores[1].second = std::numeric_limits<double>::infinity();
    out.push_back(Value::Zset(scores));
    std::vector<std::pair<std::string, std::string>> fields;
    for (size_t i = 0; i < n; ++i) {
      fields.emplace_back(absl::StrCat("f", i),
                          i % 2 ? absl::StrCat(i) : str(i % 100));
    }
    out.push_back(Value::Hash(fields));
  }
  return out;
}

}  // namespace reborn::rdb::test_util
