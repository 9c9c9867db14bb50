#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "command/command_spec.h"

// Commands whose keys cannot be described by a (first, last, step) triple or
// a numkeys argument: their keys are found by reading the options, as Redis'
// getkeys procedures do (db.c). Kept by command name, so a spec entry added
// for one of these commands gets the right keys whatever triple it carries.
namespace reborn {

// Appends the key positions of `args` to `keys`.
using KeyFinder = void (*)(const std::vector<std::string>& args,
                           KeyPositionList* keys);

// The finder of the command `name` (lower case); nullptr when the command's
// spec describes its keys.
KeyFinder SpecialKeyFinder(std::string_view name);

// SORT key [... STORE dst]: the key and the last STORE's destination.
void SortKeys(const std::vector<std::string>& args, KeyPositionList* keys);
// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw]
// [AUTH2 user pw] [KEYS key...]: the key, or the keys after KEYS when the
// key argument is empty.
void MigrateKeys(const std::vector<std::string>& args, KeyPositionList* keys);
// MEMORY USAGE key [SAMPLES n].
void MemoryKeys(const std::vector<std::string>& args, KeyPositionList* keys);
// XREAD/XREADGROUP [GROUP g c] [COUNT n] [BLOCK ms] [NOACK] STREAMS k... id...
void XreadKeys(const std::vector<std::string>& args, KeyPositionList* keys);
// GEORADIUS[BYMEMBER] key ... [STORE k] [STOREDIST k]: the key and the last
// STORE/STOREDIST destination.
void GeoradiusKeys(const std::vector<std::string>& args, KeyPositionList* keys);

// SORT/SORT_RO read other keys through their BY and GET patterns: the keys
// the pattern forms must be in the slot of the sorted key, as Redis Cluster
// requires (a pattern whose {hash tag} comes before any '*' and equals the
// key's slot; GET # and a BY without '*' read nothing else). `key_slot` is
// the slot of args[1]. Returns the Redis Cluster error otherwise.
absl::Status CheckSortPatterns(const std::vector<std::string>& args,
                               int key_slot);

// The one slot every key formed by `pattern` hashes to, when it can be
// known ({tag} before any wildcard, or no wildcard at all); -1 otherwise.
int PatternSlot(std::string_view pattern);

}  // namespace reborn
