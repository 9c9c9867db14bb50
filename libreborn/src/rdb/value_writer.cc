#include "rdb/value_writer.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rdb/format.h"
#include "rdb/intset.h"
#include "rdb/listpack.h"
#include "rdb/lzf.h"
#include "rdb/stream_value.h"

namespace reborn::rdb {
namespace {

void PutLe(uint64_t v, int n, std::string* out) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

bool FitsListpack(size_t count, size_t max_len, const EncodeOptions& o) {
  return o.compact && count <= o.listpack_max_entries &&
         max_len <= o.listpack_max_value;
}

uint8_t EncodeList(const Value& v, const EncodeOptions& o, std::string* out) {
  if (!o.compact) {
    WriteLength(v.items.size(), out);
    for (const auto& s : v.items) WriteString(s, o.compress, out);
    return kTypeList;
  }
  // Quicklist 2: nodes of listpack, each at most list_node_bytes (a larger
  // element gets a node of its own, as Redis 7.0 does below 1 GB).
  std::vector<std::string> nodes;
  ListpackBuilder lp;
  for (const auto& s : v.items) {
    if (lp.count() > 0 && lp.bytes() + s.size() + 11 > o.list_node_bytes) {
      nodes.push_back(lp.Finish());
    }
    lp.Append(s);
  }
  if (lp.count() > 0) nodes.push_back(lp.Finish());
  WriteLength(nodes.size(), out);
  for (const auto& node : nodes) {
    WriteLength(kQuicklistNodePacked, out);
    WriteString(node, o.compress, out);
  }
  return kTypeListQuicklist2;
}

uint8_t EncodeSet(const Value& v, const EncodeOptions& o, std::string* out) {
  if (o.compact && v.items.size() <= o.intset_max_entries) {
    std::vector<int64_t> ints;
    ints.reserve(v.items.size());
    bool all_ints = true;
    for (const auto& s : v.items) {
      int64_t x;
      if (!IsCanonicalInt(s, &x)) {
        all_ints = false;
        break;
      }
      ints.push_back(x);
    }
    if (all_ints) {
      std::sort(ints.begin(), ints.end());
      ints.erase(std::unique(ints.begin(), ints.end()), ints.end());
      WriteString(IntsetEncode(ints), o.compress, out);
      return kTypeSetIntset;
    }
  }
  WriteLength(v.items.size(), out);
  for (const auto& s : v.items) WriteString(s, o.compress, out);
  return kTypeSet;
}

uint8_t EncodeZset(const Value& v, const EncodeOptions& o, std::string* out) {
  size_t max_len = 0;
  for (const auto& [m, s] : v.scores) max_len = std::max(max_len, m.size());
  if (FitsListpack(v.scores.size(), max_len, o)) {
    // Listpack entries are sorted by (score, member), as Redis keeps them.
    std::vector<const std::pair<std::string, double>*> sorted;
    sorted.reserve(v.scores.size());
    for (const auto& e : v.scores) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) {
      if (a->second != b->second) return a->second < b->second;
      return a->first < b->first;
    });
    ListpackBuilder lp;
    for (const auto* e : sorted) {
      lp.Append(e->first);
      lp.Append(ScoreToString(e->second));
    }
    WriteString(lp.Finish(), o.compress, out);
    return kTypeZsetListpack;
  }
  WriteLength(v.scores.size(), out);
  for (const auto& [member, score] : v.scores) {
    WriteString(member, o.compress, out);
    WriteBinaryDouble(score, out);
  }
  return kTypeZset2;
}

uint8_t EncodeHash(const Value& v, const EncodeOptions& o, std::string* out) {
  size_t max_len = 0;
  for (const auto& [f, val] : v.fields) {
    max_len = std::max({max_len, f.size(), val.size()});
  }
  if (FitsListpack(v.fields.size(), max_len, o)) {
    ListpackBuilder lp;
    for (const auto& [f, val] : v.fields) {
      lp.Append(f);
      lp.Append(val);
    }
    WriteString(lp.Finish(), o.compress, out);
    return kTypeHashListpack;
  }
  WriteLength(v.fields.size(), out);
  for (const auto& [f, val] : v.fields) {
    WriteString(f, o.compress, out);
    WriteString(val, o.compress, out);
  }
  return kTypeHash;
}

}  // namespace

void WriteLength(uint64_t len, std::string* out) {
  if (len < (1 << 6)) {
    out->push_back(static_cast<char>(len));
  } else if (len < (1 << 14)) {
    out->push_back(static_cast<char>(0x40 | (len >> 8)));
    out->push_back(static_cast<char>(len & 0xff));
  } else if (len <= UINT32_MAX) {
    out->push_back(static_cast<char>(kLen32Bit));
    for (int i = 3; i >= 0; --i)
      out->push_back(static_cast<char>(len >> (8 * i)));
  } else {
    out->push_back(static_cast<char>(kLen64Bit));
    for (int i = 7; i >= 0; --i)
      out->push_back(static_cast<char>(len >> (8 * i)));
  }
}

void WriteString(std::string_view s, bool compress, std::string* out) {
  int64_t v;
  if (s.size() <= 11 && IsCanonicalInt(s, &v)) {
    const char prefix = static_cast<char>(kLenEncoded << 6);
    if (v >= INT8_MIN && v <= INT8_MAX) {
      out->push_back(static_cast<char>(prefix | kEncInt8));
      PutLe(static_cast<uint64_t>(v), 1, out);
      return;
    }
    if (v >= INT16_MIN && v <= INT16_MAX) {
      out->push_back(static_cast<char>(prefix | kEncInt16));
      PutLe(static_cast<uint64_t>(v), 2, out);
      return;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
      out->push_back(static_cast<char>(prefix | kEncInt32));
      PutLe(static_cast<uint64_t>(v), 4, out);
      return;
    }
  }
  if (compress && s.size() > 20) {
    if (auto packed = LzfCompress(s)) {
      out->push_back(static_cast<char>((kLenEncoded << 6) | kEncLzf));
      WriteLength(packed->size(), out);
      WriteLength(s.size(), out);
      out->append(*packed);
      return;
    }
  }
  WriteLength(s.size(), out);
  out->append(s.data(), s.size());
}

void WriteBinaryDouble(double d, std::string* out) {
  PutLe(std::bit_cast<uint64_t>(d), 8, out);
}

std::string ScoreToString(double score) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  if (score == 0) return std::signbit(score) ? "-0" : "0";
  // Integral values within the exactly representable range print as
  // integers (Redis: double2ll).
  if (std::trunc(score) == score && score > -9007199254740992.0 &&
      score < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(score));
  }
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", score);
  return std::string(buf, static_cast<size_t>(n));
}

uint8_t EncodeValue(const Value& value, const EncodeOptions& options,
                    std::string* out) {
  switch (value.type) {
    case ValueType::kString:
      WriteString(value.str, options.compress, out);
      return kTypeString;
    case ValueType::kList:
      return EncodeList(value, options, out);
    case ValueType::kSet:
      return EncodeSet(value, options, out);
    case ValueType::kZset:
      return EncodeZset(value, options, out);
    case ValueType::kHash:
      return EncodeHash(value, options, out);
    case ValueType::kStream:
      return EncodeStream(value.stream, options.compress, out);
  }
  return kTypeString;
}

}  // namespace reborn::rdb
