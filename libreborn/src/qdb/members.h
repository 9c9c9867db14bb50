#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
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
// Every (member, value) of the key version, in byte order.
absl::StatusOr<std::vector<MemberPair>> AllMembers(Keyspace& ks, uint8_t db,
                                                   std::string_view key,
                                                   uint64_t version);
// One member chosen by seeking to a random point of the key's range (cheap on
// big keys; the pick is not exactly uniform). nullopt if the key is empty.
absl::StatusOr<std::optional<MemberPair>> RandomMember(Keyspace& ks, uint8_t db,
                                                       std::string_view key,
                                                       uint64_t version);

// One HSCAN/SSCAN page: members after position `cursor` (0 = start), at most
// `count` examined. `next_cursor` is 0 when the iteration is complete.
struct MemberPage {
  uint64_t next_cursor = 0;
  std::vector<MemberPair> members;
};
absl::StatusOr<MemberPage> ScanMembers(Keyspace& ks, uint8_t db,
                                       std::string_view key, uint64_t version,
                                       uint64_t cursor, size_t count);

// Parsed HSCAN/SSCAN arguments after the cursor: MATCH and COUNT.
struct ScanArgs {
  uint64_t cursor = 0;
  std::string pattern;  // empty = all
  int64_t count = 10;
};

}  // namespace reborn::qdb
