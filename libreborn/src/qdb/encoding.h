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
  kStream = 5,
};

// How redis-server would hold a string, for OBJECT ENCODING and REFCOUNT.
// kAuto is what SET, RESTORE and most writers store: int, embstr or raw by
// content, the integers 0..9999 shared. kUnshared is the same unshared (a
// COPY). kRaw is a value changed in place (APPEND to an existing key,
// SETRANGE, SETBIT, BITOP), which Redis keeps raw however short; kEmbstr an
// INCRBYFLOAT result, which Redis never tries as an int.
enum class StringForm : uint8_t {
  kAuto = 0,
  kRaw = 1,
  kEmbstr = 2,
  kUnshared = 3,
};

// Redis' TYPE names: "string", "hash", "list", "set", "zset", "stream".
std::string_view TypeName(DataType type);

// Logical databases 0..15 (SELECT) map to physical databases (the db byte
// of every storage key) through the persisted db map: 16 of the
// kNumPhysicalDbs are mapped at any time, the others are empty or hold an
// RDB load being staged. kInternalDb holds engine records (the db map).
inline constexpr int kNumDbs = 16;
inline constexpr int kNumPhysicalDbs = 32;
inline constexpr uint8_t kInternalDb = 0xFF;
// Staging records of chunked restores (docs/slots.md) live in the meta
// column under this prefix, outside every database range.
inline constexpr uint8_t kStagingDb = 0xFE;

struct Metadata {
  DataType type = DataType::kString;
  int64_t expire_ms = 0;   // absolute unix ms; 0 = no expiry
  uint64_t version = 0;    // non-strings only
  uint64_t size = 0;       // members; non-strings only
  uint64_t list_head = 0;  // lists only
  uint64_t list_tail = 0;  // lists only
  std::string value;       // strings; a stream's state (types/streams.h)
  StringForm form = StringForm::kAuto;  // strings only
  // Sets only: Redis 7.0 turned this set's intset into a hashtable (a
  // non-integer member or more than set-max-intset-entries were added),
  // which it never undoes while the key lives, so OBJECT ENCODING stays
  // "hashtable" after SREM. Stored in the type byte's top bit.
  bool converted = false;

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

// A key being restored in chunks: its staging record, in the meta column at
// StagingKey(db, key) = `FE slot(key) db key`. `meta` is what the key will
// be once committed (a string is staged as a list of its chunks); members of
// meta.version are live for the garbage filter while the record exists.
struct StagingRecord {
  DataType type = DataType::kString;  // the type the key will have
  std::string token;                  // names the transfer (the source's)
  Metadata meta;
};
std::string StagingKey(uint8_t db, std::string_view key);
bool DecodeStagingKey(std::string_view in, uint8_t* db, std::string_view* key);
std::string EncodeStagingRecord(const StagingRecord& record);
absl::Status DecodeStagingRecord(std::string_view in, StagingRecord* record);

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
