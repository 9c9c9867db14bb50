#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "command/command_table.h"
#include "qdb/types/members.h"

// Argument helpers shared by the hash and set command files: HSCAN/SSCAN
// options, random counts (HRANDFIELD/SRANDMEMBER) and sampling.
namespace reborn::qdb {

class EngineCore;

// Parses the cursor (args[2]), then "[MATCH pattern] [COUNT count]"; each
// replies the Redis error and returns false when invalid. Redis checks the
// cursor, then the key, then the options.
bool ParseScanCursor(CommandContext& ctx, ScanArgs* out);
bool ParseScanOptions(CommandContext& ctx, ScanArgs* out);
// HSCAN/SSCAN of `type` over `scan(db, cursor, count)`.
void MemberScanCommand(
    EngineCore& core, CommandContext& ctx, DataType type,
    const std::function<absl::StatusOr<MemberPage>(uint8_t, uint64_t, size_t)>&
        scan);
// Drops the members that do not match the MATCH pattern.
void FilterPage(const ScanArgs& args, MemberPage* page);
// SCAN's and SLOTSSCAN's TYPE argument: the type named (case-insensitive),
// or nullopt with *known = false for a name that is no type (Redis 7.0
// then matches nothing).
std::optional<DataType> TypeFromName(std::string_view name, bool* known);
// A count in [-LONG_MAX, LONG_MAX], with Redis' error texts.
bool ParseCountArg(CommandContext& ctx, size_t i, int64_t* out);
}  // namespace reborn::qdb
