#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reborn/router.h"

// Pure helpers that merge the raw RESP replies of split and fanned-out
// commands, for reborn-proxy and the Client alike. No I/O; every function
// takes whole raw replies.
namespace reborn::routing {

// "-<text>\r\n" with CR/LF replaced.
std::string ErrorReply(std::string_view text);

// The elements of an array reply as raw slices; false when `reply` is not a
// well-formed array.
bool SplitArray(std::string_view reply, std::vector<std::string_view>* out);

// The value of an integer reply.
std::optional<int64_t> ParseIntegerReply(std::string_view reply);
// The value of a bulk string reply.
std::optional<std::string_view> ParseBulkReply(std::string_view reply);

// The first error among `parts`, if any.
const std::string* FirstError(const std::vector<std::string>& parts);

// MGET: parts[i] answers the keys at `positions[i]` of the original request
// (0-based among the keys); `total` keys in all.
std::string MergeMget(const std::vector<std::string>& parts,
                      const std::vector<std::vector<size_t>>& positions,
                      size_t total);
// The reply of a split command (Router::PlanSplit): parts[i] answers
// plan.parts[i]; merged as plan.merge says.
std::string MergeSplit(const SplitPlan& plan,
                       const std::vector<std::string>& parts);
// DEL, UNLINK, EXISTS, TOUCH, DBSIZE: the sum of integer replies.
std::string MergeSum(const std::vector<std::string>& parts);
// MSET, FLUSHDB, FLUSHALL: +OK when every part is +OK.
std::string MergeOk(const std::vector<std::string>& parts);
// SCRIPT LOAD/FLUSH, FUNCTION LOAD/DELETE/FLUSH/RESTORE sent to every group:
// the first error, else the first reply (the groups answer alike).
std::string MergeSame(const std::vector<std::string>& parts);
// SCRIPT EXISTS: per position, 1 only when every group has the script.
std::string MergeMinIntegers(const std::vector<std::string>& parts);
// KEYS: the concatenation of array replies.
std::string MergeArrays(const std::vector<std::string>& parts);
// PUBSUB SHARDCHANNELS: the array replies' distinct elements (a shard
// channel of a migrating slot is held at both ends).
std::string MergeDistinctArrays(const std::vector<std::string>& parts);
// PUBSUB SHARDNUMSUB: [name, count]... with each count the largest the
// groups gave (a channel's subscribers are at its slot's group, at both
// ends while the slot migrates).
std::string MergeNumsubMax(const std::vector<std::string>& parts);
// INFO keyspace: sums "dbN:keys=..,expires=..,avg_ttl=.." over the parts
// (bulk replies) and returns the "# Keyspace" section text.
std::string MergeKeyspace(const std::vector<std::string>& parts);

// INFO: the sum of the numeric field `field` ("used_memory") over the parts
// (bulk replies); nullopt when no part has it.
std::optional<int64_t> SumInfoField(const std::vector<std::string>& parts,
                                    std::string_view field);
// Redis' human-readable byte counts: "1023B", "1.50K", "2.00M", ...
std::string BytesToHuman(uint64_t n);

std::string BulkReply(std::string_view s);

}  // namespace reborn::routing
