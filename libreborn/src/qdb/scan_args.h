#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "command/command_table.h"
#include "qdb/members.h"

// Argument helpers shared by the hash and set command files: HSCAN/SSCAN
// options, random counts (HRANDFIELD/SRANDMEMBER) and sampling.
namespace reborn::qdb {

// Parses "cursor [MATCH pattern] [COUNT count]" from args[2]; replies the
// Redis error and returns false when invalid.
bool ParseScanArgs(CommandContext& ctx, ScanArgs* out);
// Drops the members that do not match the MATCH pattern.
void FilterPage(const ScanArgs& args, MemberPage* page);
// A count in [-LONG_MAX, LONG_MAX], with Redis' error texts.
bool ParseCountArg(CommandContext& ctx, size_t i, int64_t* out);
// HRANDFIELD / SRANDMEMBER with a count: count >= 0 gives distinct members
// (all of them when count >= size), count < 0 gives |count| picks with
// repetitions.
std::vector<MemberPair> SampleMembers(std::vector<MemberPair> all,
                                      int64_t count);

}  // namespace reborn::qdb
