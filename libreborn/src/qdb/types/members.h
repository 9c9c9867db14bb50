#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "qdb/keyspace.h"

// Reads of the member records of one key version (members column), shared by
// the hash and set types: point reads, full scans, random picks and SCAN
// pages. None of them loads more than it returns.
namespace reborn::qdb {

using MemberPair = std::pair<std::string, std::string>;

// The value of `member`, or nullopt.
absl::StatusOr<std::optional<std::string>> GetMember(Keyspace& ks, uint8_t db,
                                                     std::string_view key,
                                                     uint64_t version,
                                                     std::string_view member);
// Values of several members (nullopt where absent), one MultiGet.
absl::StatusOr<std::vector<std::optional<std::string>>> MultiGetMembers(
    Keyspace& ks, uint8_t db, std::string_view key, uint64_t version,
    const std::vector<std::string>& members);
// Deletes `names` (duplicates counted once) from the member-record key of
// `type` (hash fields, set members) under its key lock, in one batch; the key
// goes when its last member does. Returns how many existed (HDEL, SREM).
absl::StatusOr<int64_t> RemoveMembers(Keyspace& ks, uint8_t db,
                                      std::string_view key, DataType type,
                                      const std::vector<std::string>& names);
// Every (member, value) of the key version, in byte order, read from
// `snapshot` if given.
absl::StatusOr<std::vector<MemberPair>> AllMembers(
    Keyspace& ks, uint8_t db, std::string_view key, uint64_t version,
    const storage::Snapshot* snapshot = nullptr);
// One member of the key version `meta` describes, nullopt if it is empty.
// Uniform up to kUniformPickMembers members (SRANDMEMBER's distribution is
// something clients and Redis' tests check); above that, a seek to a random
// point of the key's range, cheap but not exactly uniform.
inline constexpr uint64_t kUniformPickMembers = 1024;
absl::StatusOr<std::optional<MemberPair>> RandomMember(Keyspace& ks, uint8_t db,
                                                       std::string_view key,
                                                       const Metadata& meta);

// HRANDFIELD / SRANDMEMBER / SPOP with a count: count >= 0 gives distinct
// members (all of them when count >= size), count < 0 gives |count| picks
// with repetitions. Big keys with small samples are sampled by random seeks;
// otherwise the key is read whole and sampled in memory.
absl::StatusOr<std::vector<MemberPair>> SampleKey(Keyspace& ks, uint8_t db,
                                                  std::string_view key,
                                                  const Metadata& meta,
                                                  int64_t count);
// The in-memory part of SampleKey.
std::vector<MemberPair> SampleMembers(std::vector<MemberPair> all,
                                      int64_t count);

// Cursors of HSCAN/SSCAN iterations over big keys: a cursor number stands
// for the last member returned, so the next page is one seek away. Bounded
// (the oldest cursors are forgotten; an unknown cursor ends the iteration,
// as a finished Redis scan would). Thread-safe: mu_ guards the table.
class MemberCursors {
 public:
  // Remembers `member_key` (a full members-column key) and returns its id.
  uint64_t Remember(std::string member_key);
  // The member key of cursor `id`, or nullopt when unknown.
  std::optional<std::string> Find(uint64_t id);

 private:
  static constexpr size_t kMaxCursors = 65536;
  absl::Mutex mu_;
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, std::string> cursors_ ABSL_GUARDED_BY(mu_);
  std::deque<uint64_t> order_ ABSL_GUARDED_BY(mu_);
};

// One HSCAN/SSCAN page: at most `count` members after `cursor` (0 = the
// start). `next_cursor` is 0 when the iteration is complete.
struct MemberPage {
  uint64_t next_cursor = 0;
  std::vector<MemberPair> members;
};
absl::StatusOr<MemberPage> ScanMembers(Keyspace& ks, MemberCursors& cursors,
                                       uint8_t db, std::string_view key,
                                       uint64_t version, uint64_t cursor,
                                       size_t count);

// Parsed HSCAN/SSCAN arguments after the cursor: MATCH and COUNT.
struct ScanArgs {
  uint64_t cursor = 0;
  std::string pattern;  // empty = all
  int64_t count = 10;
};

}  // namespace reborn::qdb
