#include "rdb/value_parser.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "rdb/format.h"
#include "rdb/intset.h"
#include "rdb/listpack.h"
#include "rdb/ziplist.h"

namespace reborn::rdb {
namespace {

// Never reserve more than this many elements up front on the word of an
// untrusted count.
constexpr uint64_t kMaxReserve = 4096;

ValueType TypeOf(uint8_t rdb_type) {
  switch (rdb_type) {
    case kTypeString:
      return ValueType::kString;
    case kTypeList:
    case kTypeListZiplist:
    case kTypeListQuicklist:
    case kTypeListQuicklist2:
      return ValueType::kList;
    case kTypeSet:
    case kTypeSetIntset:
    case kTypeSetListpack:
      return ValueType::kSet;
    case kTypeZset:
    case kTypeZset2:
    case kTypeZsetZiplist:
    case kTypeZsetListpack:
      return ValueType::kZset;
    default:
      return ValueType::kHash;
  }
}

// Types stored as one string blob (a listpack, ziplist, intset or zipmap).
bool IsBlobType(uint8_t t) {
  switch (t) {
    case kTypeHashZipmap:
    case kTypeListZiplist:
    case kTypeSetIntset:
    case kTypeZsetZiplist:
    case kTypeHashZiplist:
    case kTypeHashListpack:
    case kTypeZsetListpack:
    case kTypeSetListpack:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool ValueParser::IsSupportedType(uint8_t t) {
  return t <= kTypeZset2 || (t >= kTypeHashZipmap && t <= kTypeListQuicklist) ||
         t == kTypeHashListpack || t == kTypeZsetListpack ||
         t == kTypeListQuicklist2 || t == kTypeSetListpack;
}

ValueParser::ValueParser(uint8_t rdb_type, const Limits& limits)
    : type_(rdb_type), limits_(limits) {
  value_.type = TypeOf(rdb_type);
}

absl::StatusOr<bool> ValueParser::Parse(Cursor& c) {
  if (!IsSupportedType(type_)) {
    const char* what =
        (type_ == kTypeModulePreGa || type_ == kTypeModule2)
            ? "module values are not supported"
        : (type_ == kTypeStreamListpacks || type_ == kTypeStreamListpacks2 ||
           type_ == kTypeStreamListpacks3)
            ? "stream values are not supported"
            : "unknown object type";
    c.Corrupt(absl::StrCat(what, " (RDB type ", static_cast<int>(type_), ")"));
    return c.error();
  }
  while (!done_) {
    const size_t mark = c.pos();
    if (!Step(c)) {
      if (c.has_error()) return c.error();
      c.set_pos(mark);
      return false;
    }
  }
  return true;
}

bool ValueParser::Account(Cursor& c, size_t bytes) {
  bytes_ += bytes;
  if (bytes_ > limits_.max_value_bytes) {
    return c.Corrupt("value larger than the limit");
  }
  if (value_.size() > limits_.max_elements) {
    return c.Corrupt("value has more elements than the limit");
  }
  return true;
}

bool ValueParser::Step(Cursor& c) {
  if (type_ == kTypeString) {
    if (!c.ReadString(&value_.str)) return false;
    done_ = true;
    return true;
  }
  if (IsBlobType(type_)) {
    if (!c.ReadString(&scratch_)) return false;
    if (!DecodeBlob(c, scratch_)) return false;
    scratch_.clear();
    scratch_.shrink_to_fit();
    return Finish(c);
  }
  if (!have_count_) {
    uint64_t n;
    if (!c.ReadLength(&n)) return false;
    if (n > limits_.max_elements) {
      return c.Corrupt(absl::StrCat("element count ", n, " exceeds the limit"));
    }
    have_count_ = true;
    remaining_ = n;
    const size_t reserve = static_cast<size_t>(std::min(n, kMaxReserve));
    switch (value_.type) {
      case ValueType::kZset:
        value_.scores.reserve(reserve);
        break;
      case ValueType::kHash:
        value_.fields.reserve(reserve);
        break;
      default:
        value_.items.reserve(reserve);
    }
    if (remaining_ == 0) return Finish(c);
    return true;
  }
  if (!ParseElement(c)) return false;
  if (--remaining_ == 0) return Finish(c);
  return true;
}

bool ValueParser::ParseElement(Cursor& c) {
  switch (type_) {
    case kTypeList:
    case kTypeSet: {
      std::string s;
      if (!c.ReadString(&s)) return false;
      size_t n = s.size();
      value_.items.push_back(std::move(s));
      return Account(c, n);
    }
    case kTypeZset:
    case kTypeZset2: {
      std::string member;
      double score;
      if (!c.ReadString(&member)) return false;
      if (!(type_ == kTypeZset2 ? c.ReadBinaryDouble(&score)
                                : c.ReadTextDouble(&score))) {
        return false;
      }
      size_t n = member.size() + 8;
      value_.scores.emplace_back(std::move(member), score);
      return Account(c, n);
    }
    case kTypeHash: {
      std::string field, val;
      if (!c.ReadString(&field) || !c.ReadString(&val)) return false;
      size_t n = field.size() + val.size();
      value_.fields.emplace_back(std::move(field), std::move(val));
      return Account(c, n);
    }
    case kTypeListQuicklist: {
      std::string zl;
      if (!c.ReadString(&zl)) return false;
      return DecodeBlob(c, zl);
    }
    case kTypeListQuicklist2: {
      uint64_t container;
      std::string node;
      if (!c.ReadLength(&container) || !c.ReadString(&node)) return false;
      if (container == kQuicklistNodePlain) {
        size_t n = node.size();
        value_.items.push_back(std::move(node));
        return Account(c, n);
      }
      if (container != kQuicklistNodePacked) {
        return c.Corrupt(absl::StrCat("bad quicklist container ", container));
      }
      return DecodeBlob(c, node);
    }
    default:
      return c.Corrupt("internal: element of a non-collection type");
  }
}

bool ValueParser::DecodeBlob(Cursor& c, std::string_view blob) {
  const uint64_t max = limits_.max_elements;
  absl::Status s;
  std::vector<std::string> flat;
  switch (type_) {
    case kTypeHashZipmap: {
      std::vector<std::pair<std::string, std::string>> pairs;
      s = ZipmapDecode(blob, max, &pairs);
      for (auto& p : pairs) value_.fields.push_back(std::move(p));
      break;
    }
    case kTypeSetIntset:
      s = IntsetDecode(blob, max, &value_.items);
      break;
    case kTypeListZiplist:
    case kTypeListQuicklist:
      s = ZiplistDecode(blob, max, &value_.items);
      break;
    case kTypeListQuicklist2:
    case kTypeSetListpack:
      s = ListpackDecode(blob, max, &value_.items);
      break;
    case kTypeZsetZiplist:
    case kTypeHashZiplist:
      s = ZiplistDecode(blob, max, &flat);
      break;
    case kTypeZsetListpack:
    case kTypeHashListpack:
      s = ListpackDecode(blob, max, &flat);
      break;
    default:
      return c.Corrupt("internal: not a blob type");
  }
  if (!s.ok()) return c.Corrupt(std::string(s.message()));
  if (!flat.empty()) {
    if (flat.size() % 2 != 0) return c.Corrupt("odd number of entries");
    for (size_t i = 0; i < flat.size(); i += 2) {
      if (value_.type == ValueType::kZset) {
        double score;
        if (!ParseScore(flat[i + 1], &score)) return c.Corrupt("bad score");
        value_.scores.emplace_back(std::move(flat[i]), score);
      } else {
        value_.fields.emplace_back(std::move(flat[i]), std::move(flat[i + 1]));
      }
    }
  }
  return Account(c, blob.size());
}

bool ValueParser::Finish(Cursor& c) {
  done_ = true;
  absl::Status s = Validate(value_);
  if (!s.ok()) return c.Corrupt(std::string(s.message()));
  return true;
}

absl::StatusOr<Value> DecodeValue(uint8_t rdb_type, std::string_view body,
                                  const Limits& limits) {
  Cursor c(body, limits);
  ValueParser parser(rdb_type, limits);
  absl::StatusOr<bool> done = parser.Parse(c);
  if (!done.ok()) return done.status();
  if (!*done) return absl::DataLossError("truncated RDB value");
  if (c.pos() != body.size()) {
    return absl::DataLossError("trailing bytes after RDB value");
  }
  return parser.Take();
}

}  // namespace reborn::rdb
