#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

// QDB's on-disk key encoding (docs/encoding.md). Integers are big-endian so
// that byte order is numeric order. Every key starts with `db:u8 slot:u16`,
// so one slot of one database is one contiguous range in every column.
//
//   meta column:    db slot key                          -> Metadata
//   members column: db slot keylen:u32 key version:u64 member -> value
//   score index:    db slot keylen:u32 key version:u64 score:u64 member -> ""
//
// A string's value lives inline in its Metadata. Other types keep a version
// in their Metadata; deleting or overwriting a key gives the next key of that
// name a new version, so the old members become unreachable at once and are
// dropped later by the compaction filter or the garbage sweep.
namespace reborn::qdb {

enum class DataType : uint8_t {
  kString = 0,
  kHash = 1,
  kList = 2,
  kSet = 3,
  kZSet = 4,
};

// Redis' TYPE names: "string", "hash", "list", "set", "zset".
std::string_view TypeName(DataType type);

// Logical databases 0..15 (SELECT) map to physical databases (the db byte
// of every storage key) through the persisted db map: 16 of the
// kNumPhysicalDbs are mapped at any time, the others are empty or hold an
// RDB load being staged. kInternalDb holds engine records (the db map).
inline constexpr int kNumDbs = 16;
inline constexpr int kNumPhysicalDbs = 32;
inline constexpr uint8_t kInternalDb = 0xFF;

struct Metadata {
  DataType type = DataType::kString;
  int64_t expire_ms = 0;   // absolute unix ms; 0 = no expiry
  uint64_t version = 0;    // non-strings only
  uint64_t size = 0;       // members; non-strings only
  uint64_t list_head = 0;  // lists only
  uint64_t list_tail = 0;  // lists only
  std::string value;       // strings only

  bool Expired(int64_t now_ms) const {
    return expire_ms != 0 && expire_ms <= now_ms;
  }
};

std::string EncodeMetadata(const Metadata& meta);
absl::Status DecodeMetadata(std::string_view in, Metadata* meta);
// Just the type and expiry, without copying the value.
absl::Status DecodeMetadataHeader(std::string_view in, DataType* type,
                                  int64_t* expire_ms);

void PutFixed16(std::string* out, uint16_t v);
void PutFixed32(std::string* out, uint32_t v);
void PutFixed64(std::string* out, uint64_t v);
uint16_t GetFixed16(const char* p);
uint32_t GetFixed32(const char* p);
uint64_t GetFixed64(const char* p);

// Maps doubles to u64 so that unsigned order is numeric order (-inf < ... <
// -0 = 0 < ... < inf).
uint64_t EncodeOrderedDouble(double d);
double DecodeOrderedDouble(uint64_t v);

// meta column: db slot key.
std::string EncodeMetaKey(uint8_t db, std::string_view key);
bool DecodeMetaKey(std::string_view in, uint8_t* db, uint16_t* slot,
                   std::string_view* key);

// members column: the prefix shared by every member of one key version, and a
// full member key.
std::string MemberPrefix(uint8_t db, std::string_view key, uint64_t version);
std::string EncodeMemberKey(uint8_t db, std::string_view key, uint64_t version,
                            std::string_view member);
bool DecodeMemberKey(std::string_view in, uint8_t* db, std::string_view* key,
                     uint64_t* version, std::string_view* member);

// score index column: prefix + ordered score + member.
std::string EncodeScoreKey(uint8_t db, std::string_view key, uint64_t version,
                           double score, std::string_view member);

// [DbBegin(db), DbEnd(db)) is one database in every column.
std::string DbBegin(uint8_t db);
std::string DbEnd(uint8_t db);
// [SlotBegin, SlotEnd) is one slot of one database in every column.
std::string SlotBegin(uint8_t db, uint16_t slot);
std::string SlotEnd(uint8_t db, uint16_t slot);
// The smallest string greater than every string starting with `prefix`
// (empty if none exists).
std::string PrefixEnd(std::string_view prefix);

}  // namespace reborn::qdb
