#include "routing/slot_hash.h"

#include <zlib.h>

#include <cstdint>

#include "reborn/slot.h"

namespace reborn {

std::string_view HashTag(std::string_view key) {
  size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

int SlotOf(std::string_view key) {
  std::string_view tag = HashTag(key);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(tag.data()),
              static_cast<uInt>(tag.size()));
  return static_cast<int>(crc % kSlotCount);
}

namespace routing {
namespace {

uint16_t Crc16(std::string_view data) {
  uint16_t crc = 0;  // CRC-16/XMODEM, as Redis Cluster
  for (unsigned char byte : data) {
    crc ^= static_cast<uint16_t>(byte) << 8;
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

}  // namespace

int RedisClusterKeySlot(std::string_view key) {
  return Crc16(HashTag(key)) & (kRedisClusterSlots - 1);
}

}  // namespace routing
}  // namespace reborn
