#include "qdb/encoding.h"

#include <algorithm>
#include <cstring>

#include "reborn/slot.h"

namespace reborn::qdb {
namespace {

constexpr size_t kKeyPrefixLen = 3;  // db:u8 slot:u16
// type:u8 expire:u64, then a string's value or version:u64 size:u64
// [head:u64 tail:u64].
constexpr size_t kHeaderLen = 9;
// The type byte: the DataType in the low bits, a string's StringForm in the
// top two; for other types the top bit is Metadata::converted.
constexpr uint8_t kTypeMask = 0x3F;
constexpr int kFormShift = 6;
constexpr uint8_t kConvertedBit = 0x80;

void PutPrefix(std::string* out, uint8_t db, uint16_t slot) {
  out->push_back(static_cast<char>(db));
  PutFixed16(out, slot);
}

}  // namespace

std::string_view TypeName(DataType type) {
  switch (type) {
    case DataType::kString:
      return "string";
    case DataType::kHash:
      return "hash";
    case DataType::kList:
      return "list";
    case DataType::kSet:
      return "set";
    case DataType::kZSet:
      return "zset";
    case DataType::kStream:
      return "stream";
  }
  return "unknown";
}

void PutFixed16(std::string* out, uint16_t v) {
  char buf[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(buf, 2);
}
void PutFixed32(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (24 - 8 * i));
  out->append(buf, 4);
}
void PutFixed64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (56 - 8 * i));
  out->append(buf, 8);
}
uint16_t GetFixed16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
uint32_t GetFixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) |
         (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}
uint64_t GetFixed64(const char* p) {
  return (uint64_t{GetFixed32(p)} << 32) | GetFixed32(p + 4);
}

uint64_t EncodeOrderedDouble(double d) {
  if (d == 0) d = 0;  // -0 sorts as 0
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  // Negative: flip all bits; positive: flip the sign bit.
  return (bits & (1ULL << 63)) ? ~bits : bits | (1ULL << 63);
}

double DecodeOrderedDouble(uint64_t v) {
  uint64_t bits = (v & (1ULL << 63)) ? v & ~(1ULL << 63) : ~v;
  double d;
  std::memcpy(&d, &bits, sizeof(d));
  return d;
}

std::string EncodeMetadata(const Metadata& meta) {
  std::string out;
  out.reserve(kHeaderLen +
              (meta.type == DataType::kString ? meta.value.size() : 32));
  const uint8_t high =
      meta.type == DataType::kString
          ? static_cast<uint8_t>(static_cast<uint8_t>(meta.form) << kFormShift)
          : (meta.converted ? kConvertedBit : 0);
  out.push_back(static_cast<char>(static_cast<uint8_t>(meta.type) | high));
  PutFixed64(&out, static_cast<uint64_t>(meta.expire_ms));
  if (meta.type == DataType::kString) {
    out.append(meta.value);
    return out;
  }
  PutFixed64(&out, meta.version);
  PutFixed64(&out, meta.size);
  if (meta.type == DataType::kList) {
    PutFixed64(&out, meta.list_head);
    PutFixed64(&out, meta.list_tail);
  }
  if (meta.type == DataType::kStream) out.append(meta.value);
  return out;
}

absl::Status DecodeMetadataHeader(std::string_view in, DataType* type,
                                  int64_t* expire_ms) {
  const uint8_t type_byte =
      in.empty() ? 0xFF : static_cast<uint8_t>(in[0]) & kTypeMask;
  if (in.size() < kHeaderLen ||
      type_byte > static_cast<uint8_t>(DataType::kStream)) {
    return absl::DataLossError("corrupt metadata record");
  }
  *type = static_cast<DataType>(type_byte);
  *expire_ms = static_cast<int64_t>(GetFixed64(in.data() + 1));
  return absl::OkStatus();
}

absl::Status DecodeMetadata(std::string_view in, Metadata* meta) {
  if (absl::Status s = DecodeMetadataHeader(in, &meta->type, &meta->expire_ms);
      !s.ok()) {
    return s;
  }
  std::string_view rest = in.substr(kHeaderLen);
  if (meta->type == DataType::kString) {
    meta->value.assign(rest);
    // Two bits: every value is a StringForm.
    meta->form =
        static_cast<StringForm>(static_cast<uint8_t>(in[0]) >> kFormShift);
    meta->version = meta->size = meta->list_head = meta->list_tail = 0;
    meta->converted = false;
    return absl::OkStatus();
  }
  const size_t need = meta->type == DataType::kList ? 32 : 16;
  if (rest.size() < need) return absl::DataLossError("corrupt metadata record");
  if (meta->type == DataType::kStream) {
    meta->value.assign(rest.substr(16));
  } else {
    meta->value.clear();
  }
  meta->form = StringForm::kAuto;
  meta->converted = (static_cast<uint8_t>(in[0]) & kConvertedBit) != 0;
  meta->version = GetFixed64(rest.data());
  meta->size = GetFixed64(rest.data() + 8);
  if (meta->type == DataType::kList) {
    meta->list_head = GetFixed64(rest.data() + 16);
    meta->list_tail = GetFixed64(rest.data() + 24);
  }
  return absl::OkStatus();
}

std::string EncodeMetaKey(uint8_t db, std::string_view key) {
  std::string out;
  out.reserve(kKeyPrefixLen + key.size());
  PutPrefix(&out, db, static_cast<uint16_t>(SlotOf(key)));
  out.append(key);
  return out;
}

std::string StagingKey(uint8_t db, std::string_view key) {
  std::string out;
  out.reserve(kKeyPrefixLen + 1 + key.size());
  PutPrefix(&out, kStagingDb, static_cast<uint16_t>(SlotOf(key)));
  out.push_back(static_cast<char>(db));
  out.append(key);
  return out;
}

bool DecodeStagingKey(std::string_view in, uint8_t* db, std::string_view* key) {
  if (in.size() < kKeyPrefixLen + 1 ||
      static_cast<uint8_t>(in[0]) != kStagingDb) {
    return false;
  }
  *db = static_cast<uint8_t>(in[kKeyPrefixLen]);
  *key = in.substr(kKeyPrefixLen + 1);
  return true;
}

// type:u8 token_len:u8 token metadata.
std::string EncodeStagingRecord(const StagingRecord& record) {
  std::string out;
  out.push_back(static_cast<char>(record.type));
  out.push_back(static_cast<char>(std::min<size_t>(record.token.size(), 255)));
  out.append(record.token.substr(0, 255));
  out.append(EncodeMetadata(record.meta));
  return out;
}

absl::Status DecodeStagingRecord(std::string_view in, StagingRecord* record) {
  if (in.size() < 2) return absl::DataLossError("corrupt staging record");
  const uint8_t type = static_cast<uint8_t>(in[0]);
  const size_t len = static_cast<uint8_t>(in[1]);
  if (type > static_cast<uint8_t>(DataType::kStream) || in.size() < 2 + len) {
    return absl::DataLossError("corrupt staging record");
  }
  record->type = static_cast<DataType>(type);
  record->token = std::string(in.substr(2, len));
  return DecodeMetadata(in.substr(2 + len), &record->meta);
}

bool DecodeMetaKey(std::string_view in, uint8_t* db, uint16_t* slot,
                   std::string_view* key) {
  if (in.size() < kKeyPrefixLen) return false;
  *db = static_cast<uint8_t>(in[0]);
  *slot = GetFixed16(in.data() + 1);
  *key = in.substr(kKeyPrefixLen);
  return true;
}

std::string MemberPrefix(uint8_t db, std::string_view key, uint64_t version) {
  std::string out;
  out.reserve(kKeyPrefixLen + 4 + key.size() + 8);
  PutPrefix(&out, db, static_cast<uint16_t>(SlotOf(key)));
  PutFixed32(&out, static_cast<uint32_t>(key.size()));
  out.append(key);
  PutFixed64(&out, version);
  return out;
}

std::string EncodeMemberKey(uint8_t db, std::string_view key, uint64_t version,
                            std::string_view member) {
  std::string out = MemberPrefix(db, key, version);
  out.append(member);
  return out;
}

bool DecodeMemberKey(std::string_view in, uint8_t* db, std::string_view* key,
                     uint64_t* version, std::string_view* member) {
  if (in.size() < kKeyPrefixLen + 4) return false;
  *db = static_cast<uint8_t>(in[0]);
  const uint32_t keylen = GetFixed32(in.data() + kKeyPrefixLen);
  const size_t key_at = kKeyPrefixLen + 4;
  if (in.size() < key_at + keylen + 8) return false;
  *key = in.substr(key_at, keylen);
  *version = GetFixed64(in.data() + key_at + keylen);
  *member = in.substr(key_at + keylen + 8);
  return true;
}

std::string EncodeScoreKey(uint8_t db, std::string_view key, uint64_t version,
                           double score, std::string_view member) {
  std::string out = MemberPrefix(db, key, version);
  PutFixed64(&out, EncodeOrderedDouble(score));
  out.append(member);
  return out;
}

std::string DbBegin(uint8_t db) {
  return std::string(1, static_cast<char>(db));
}
std::string DbEnd(uint8_t db) {
  return std::string(1, static_cast<char>(db + 1));
}
std::string SlotBegin(uint8_t db, uint16_t slot) {
  std::string out;
  PutPrefix(&out, db, slot);
  return out;
}
std::string SlotEnd(uint8_t db, uint16_t slot) {
  return PrefixEnd(SlotBegin(db, slot));
}

std::string PrefixEnd(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    unsigned char last = static_cast<unsigned char>(out.back());
    if (last != 0xFF) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace reborn::qdb
