#pragma once

#include <cstdint>
#include <string_view>

namespace reborn {

// Number of slots the key space is split into (Codis).
inline constexpr int kSlotCount = 1024;

// The hash tag of `key`: the text between the first '{' and the next '}' when
// that text is non-empty, otherwise the whole key (Codis' rule).
std::string_view HashTag(std::string_view key);

// slot = crc32(HashTag(key)) % 1024, with zlib's IEEE crc32. Shared by QDB's
// key encoding, the proxy's router and the in-process client.
uint16_t SlotOf(std::string_view key);

}  // namespace reborn
