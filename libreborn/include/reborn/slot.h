#pragma once

#include <cstdint>
#include <string_view>

#include "reborn/export.h"

namespace reborn {

// The key space is split into this many slots (Codis' layout).
inline constexpr int kSlotCount = 1024;

// The part of `key` that is hashed: the text between the first '{' and the
// next '}' when it is non-empty, else the whole key (Codis' hash-tag rule).
REBORN_EXPORT std::string_view HashTag(std::string_view key);

// slot = crc32(HashTag(key)) % 1024 with zlib's IEEE crc32. The one function
// the engine, the proxy, the client and the migrator all use.
REBORN_EXPORT int SlotOf(std::string_view key);

// A slot's state in the topology (docs/design.md §4 and §7):
// kOnline serves from its group; kPreMigrate holds commands while every
// proxy learns of a move; kMigrate serves from the new group after moving
// each key touched from the old one first; kOffline has no group.
enum class SlotState { kOffline, kOnline, kPreMigrate, kMigrate };

// "offline", "online", "pre_migrate", "migrate": the coordinator's names.
REBORN_EXPORT std::string_view SlotStateName(SlotState s);

}  // namespace reborn
