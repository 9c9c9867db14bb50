#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "command/command_table.h"

// SORT and SORT_RO as redis-server 7.0 does them (sort.c): lists, sets and
// sorted sets, BY / GET patterns with "#" and "key->field", LIMIT, ASC/DESC,
// ALPHA and STORE.
namespace reborn::qdb {

class EngineCore;

struct SortOptions {
  bool desc = false;
  bool alpha = false;
  // BY a pattern without '*': keep the type's natural order.
  bool dontsort = false;
  int64_t limit_start = 0;
  int64_t limit_count = -1;
  std::optional<std::string> by;  // only a pattern with '*'
  std::vector<std::string> gets;
  std::optional<std::string> store;
};

// Parses args[2..] as Redis does; returns the error text ("" on success).
std::string ParseSortOptions(const std::vector<std::string>& args,
                             bool readonly, SortOptions* out);

// Where a BY/GET pattern points for one element: the element itself ("#"),
// nothing (no '*' in the pattern), or a string key / a hash field.
struct PatternTarget {
  enum class Kind { kSelf, kNone, kKey };
  Kind kind = Kind::kNone;
  std::string key;
  std::optional<std::string> field;
};
PatternTarget ResolveSortPattern(std::string_view pattern,
                                 std::string_view element);

void RegisterSortCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status);

}  // namespace reborn::qdb
