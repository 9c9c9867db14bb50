#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace reborn::rdb {

// The neutral value model shared by DUMP/RESTORE, the RDB file reader and the
// RDB file writer. It knows nothing about how an engine stores data: the
// engine converts its own representation to and from a Value.
enum class ValueType : uint8_t { kString, kList, kSet, kZset, kHash, kStream };

const char* ValueTypeName(ValueType type);

// The stream of a Value (ValueType::kStream): its entries and everything
// Redis 7.0 keeps beside them. Ids are (ms, seq).
using StreamIdPair = std::pair<uint64_t, uint64_t>;

struct StreamData {
  struct Entry {
    StreamIdPair id;
    std::vector<std::string> fields;  // field, value, ...
    friend bool operator==(const Entry&, const Entry&) = default;
  };
  struct Nack {
    StreamIdPair id;
    int64_t delivery_ms = 0;
    uint64_t delivery_count = 0;
    friend bool operator==(const Nack&, const Nack&) = default;
  };
  struct Consumer {
    std::string name;
    int64_t seen_ms = 0;
    std::vector<StreamIdPair> pending;  // ids of the group's PEL it owns
    friend bool operator==(const Consumer&, const Consumer&) = default;
  };
  struct Group {
    std::string name;
    StreamIdPair last_id;
    int64_t entries_read = -1;
    std::vector<Nack> pel;  // ascending ids
    std::vector<Consumer> consumers;
    friend bool operator==(const Group&, const Group&) = default;
  };

  std::vector<Entry> entries;  // ascending ids
  StreamIdPair last_id;
  StreamIdPair first_id;
  StreamIdPair max_deleted_id;
  uint64_t entries_added = 0;
  std::vector<Group> groups;
  // Live entries of each listpack node, in order (empty: any split). Kept
  // so that a stream keeps its nodes through DUMP/RESTORE, as in Redis.
  std::vector<uint64_t> nodes;

  friend bool operator==(const StreamData&, const StreamData&) = default;
};

struct Value {
  ValueType type = ValueType::kString;
  // kString: the bytes.
  std::string str;
  // kList: the elements in order. kSet: the members (no duplicates, any
  // order).
  std::vector<std::string> items;
  // kZset: (member, score); members unique, scores never NaN, any order.
  std::vector<std::pair<std::string, double>> scores;
  // kHash: (field, value); fields unique, any order.
  std::vector<std::pair<std::string, std::string>> fields;
  // kStream (rdb/stream_value.h encodes and decodes it).
  StreamData stream;

  static Value String(std::string s);
  static Value List(std::vector<std::string> items);
  static Value Set(std::vector<std::string> members);
  static Value Zset(std::vector<std::pair<std::string, double>> scores);
  static Value Hash(std::vector<std::pair<std::string, std::string>> fields);

  // Number of elements (1 for a string).
  size_t size() const;
  // True for a collection with no elements; such keys do not exist in Redis
  // and are skipped when loading an RDB file.
  bool empty_collection() const;

  // Exact equality: same type, same elements in the same order.
  friend bool operator==(const Value& a, const Value& b) = default;
};

// Equality for sets, hashes and zsets ignores member order; lists and strings
// compare exactly. Scores compare bit-exactly except that 0.0 == -0.0 is not
// assumed (they differ).
bool SameContents(const Value& a, const Value& b);

// Checks the invariants a loaded value must keep: no duplicate set members,
// hash fields or zset members, no NaN score. Sorts nothing; O(n log n).
absl::Status Validate(const Value& value);

// Bounds applied while decoding untrusted input (DUMP payloads, RDB streams).
// A length or count beyond a limit is reported as a corrupt input, so that a
// hostile or damaged input can never make the decoder allocate without bound.
struct Limits {
  // Longest single string (key, element, field, value, blob), like Redis'
  // proto-max-bulk-len.
  uint64_t max_string_bytes = 512ull << 20;
  // Most elements in one value.
  uint64_t max_elements = (1ull << 32) - 1;
  // Most bytes (sum of element lengths) one decoded value may hold.
  uint64_t max_value_bytes = 8ull << 30;
  // Highest database index accepted in SELECTDB.
  uint64_t max_db_index = 65535;
};

}  // namespace reborn::rdb
