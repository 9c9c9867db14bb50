#include "rdb/value.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace reborn::rdb {

const char* ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "string";
    case ValueType::kList:
      return "list";
    case ValueType::kSet:
      return "set";
    case ValueType::kZset:
      return "zset";
    case ValueType::kHash:
      return "hash";
    case ValueType::kStream:
      return "stream";
  }
  return "unknown";
}

Value Value::String(std::string s) {
  Value v;
  v.type = ValueType::kString;
  v.str = std::move(s);
  return v;
}

Value Value::List(std::vector<std::string> items) {
  Value v;
  v.type = ValueType::kList;
  v.items = std::move(items);
  return v;
}

Value Value::Set(std::vector<std::string> members) {
  Value v;
  v.type = ValueType::kSet;
  v.items = std::move(members);
  return v;
}

Value Value::Zset(std::vector<std::pair<std::string, double>> scores) {
  Value v;
  v.type = ValueType::kZset;
  v.scores = std::move(scores);
  return v;
}

Value Value::Hash(std::vector<std::pair<std::string, std::string>> fields) {
  Value v;
  v.type = ValueType::kHash;
  v.fields = std::move(fields);
  return v;
}

size_t Value::size() const {
  switch (type) {
    case ValueType::kString:
      return 1;
    case ValueType::kList:
    case ValueType::kSet:
      return items.size();
    case ValueType::kZset:
      return scores.size();
    case ValueType::kHash:
      return fields.size();
    case ValueType::kStream:
      return stream.entries.size();
  }
  return 0;
}

bool Value::empty_collection() const {
  // An empty stream is a value of its own (its ids and groups).
  return type != ValueType::kString && type != ValueType::kStream &&
         size() == 0;
}

namespace {

// Returns the index of a duplicate key, or -1. `key(i)` yields element i's key.
template <typename KeyFn>
int64_t FindDuplicate(size_t n, KeyFn key) {
  if (n < 2) return -1;
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
  for (size_t i = 1; i < n; ++i) {
    if (key(order[i - 1]) == key(order[i])) return order[i];
  }
  return -1;
}

template <typename T>
bool SameUnordered(std::vector<T> a, std::vector<T> b) {
  if (a.size() != b.size()) return false;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

}  // namespace

bool SameContents(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case ValueType::kString:
      return a.str == b.str;
    case ValueType::kList:
      return a.items == b.items;
    case ValueType::kSet:
      return SameUnordered(a.items, b.items);
    case ValueType::kZset:
      return SameUnordered(a.scores, b.scores);
    case ValueType::kHash:
      return SameUnordered(a.fields, b.fields);
    case ValueType::kStream:
      return a.stream == b.stream;
  }
  return false;
}

absl::Status Validate(const Value& value) {
  int64_t dup = -1;
  switch (value.type) {
    case ValueType::kString:
    case ValueType::kList:
    case ValueType::kStream:  // checked by DecodeStream
      return absl::OkStatus();
    case ValueType::kSet:
      dup = FindDuplicate(value.items.size(), [&](size_t i) {
        return std::string_view(value.items[i]);
      });
      break;
    case ValueType::kZset:
      for (const auto& [member, score] : value.scores) {
        if (std::isnan(score)) {
          return absl::DataLossError("zset with NaN score");
        }
      }
      dup = FindDuplicate(value.scores.size(), [&](size_t i) {
        return std::string_view(value.scores[i].first);
      });
      break;
    case ValueType::kHash:
      dup = FindDuplicate(value.fields.size(), [&](size_t i) {
        return std::string_view(value.fields[i].first);
      });
      break;
  }
  if (dup >= 0) {
    return absl::DataLossError(
        absl::StrCat("duplicate member in ", ValueTypeName(value.type)));
  }
  return absl::OkStatus();
}

}  // namespace reborn::rdb
