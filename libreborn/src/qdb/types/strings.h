#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "qdb/keyspace.h"
#include "qdb/types/bitfield.h"

namespace reborn::qdb {

struct StringSetOptions {
  enum class Condition { kAlways, kIfAbsent, kIfPresent };
  Condition condition = Condition::kAlways;
  bool get = false;          // also return the old value (SET ... GET)
  bool keep_ttl = false;     // KEEPTTL
  int64_t expire_at_ms = 0;  // absolute unix ms; 0 = no TTL
};

struct StringSetResult {
  bool written = false;
  std::optional<std::string> old_value;  // only with `get`
};

enum class BitOperation { kAnd, kOr, kXor, kNot };

// The string type: values live inline in the key's metadata record.
// Databases are physical (Keyspace::Physical), and the caller holds
// Keyspace::layout_mu() shared. Every write takes the key locks it needs
// and commits one batch. Thread-safe.
class Strings {
 public:
  Strings(Keyspace& keyspace, int64_t max_bytes)
      : ks_(keyspace), max_bytes_(max_bytes) {}

  // proto-max-bulk-len: the largest string APPEND/SETRANGE/SETBIT may build.
  void set_max_bytes(int64_t max_bytes) { max_bytes_.store(max_bytes); }
  int64_t max_bytes() const { return max_bytes_.load(); }

  // nullopt if absent; WRONGTYPE if not a string.
  absl::StatusOr<std::optional<std::string>> Get(uint8_t db,
                                                 std::string_view key);
  absl::StatusOr<StringSetResult> Set(uint8_t db, std::string_view key,
                                      std::string_view value,
                                      const StringSetOptions& options);
  // Non-strings read as nullopt, as in MGET.
  absl::StatusOr<std::vector<std::optional<std::string>>> MGet(
      uint8_t db, const std::vector<std::string>& keys);
  // `if_none_exist` is MSETNX: writes nothing and returns false if any key
  // exists.
  absl::StatusOr<bool> MSet(
      uint8_t db, const std::vector<std::pair<std::string, std::string>>& kvs,
      bool if_none_exist);
  absl::StatusOr<std::optional<std::string>> GetDel(uint8_t db,
                                                    std::string_view key);
  // GETEX: `expire_at_ms` nullopt leaves the TTL, 0 removes it (PERSIST),
  // otherwise sets it (a time in the past deletes the key).
  absl::StatusOr<std::optional<std::string>> GetEx(
      uint8_t db, std::string_view key, std::optional<int64_t> expire_at_ms);
  absl::StatusOr<int64_t> IncrBy(uint8_t db, std::string_view key,
                                 int64_t delta);
  // Returns the new value formatted as Redis does.
  absl::StatusOr<std::string> IncrByFloat(uint8_t db, std::string_view key,
                                          long double delta);
  absl::StatusOr<int64_t> Append(uint8_t db, std::string_view key,
                                 std::string_view value);
  absl::StatusOr<int64_t> SetRange(uint8_t db, std::string_view key,
                                   int64_t offset, std::string_view value);
  // Returns the previous bit. `changed` (if given) tells whether the key
  // was created, grew, or its bit flipped (Redis counts a change then).
  absl::StatusOr<int> SetBit(uint8_t db, std::string_view key, uint64_t offset,
                             int bit, bool* changed = nullptr);
  // BITFIELD with a SET or INCRBY: the string is created or zero-padded up
  // to the last byte a write reaches, then `ops` run in order. One result
  // per op (nullopt: refused by OVERFLOW FAIL). `changes` (if given): the
  // writes Redis counts as changes, each one that ran on a created or grown
  // string or changed its field's bits.
  absl::StatusOr<std::vector<std::optional<int64_t>>> BitField(
      uint8_t db, std::string_view key, const std::vector<BitFieldOp>& ops,
      int64_t* changes = nullptr);
  // Returns the length of the result stored in `dest`.
  absl::StatusOr<int64_t> BitOp(uint8_t db, BitOperation op,
                                std::string_view dest,
                                const std::vector<std::string>& sources);

 private:
  absl::Status CheckLength(uint64_t length) const;
  // Read-modify-write of one string under its key lock. `fn` gets the
  // current value (nullopt if absent) and returns the new value (nullopt =
  // leave the key unchanged) or an error. The TTL is kept. The value is
  // stored with the form `created` when the key was absent, else `changed`.
  template <typename Fn>
  absl::Status Modify(uint8_t db, std::string_view key, StringForm created,
                      StringForm changed, Fn fn);

  Keyspace& ks_;
  std::atomic<int64_t> max_bytes_;
};

// Read-only string helpers shared by GETRANGE/BITCOUNT/BITPOS.
std::string_view StringRange(std::string_view s, int64_t start, int64_t end);
int64_t PopCount(std::string_view s);

}  // namespace reborn::qdb
