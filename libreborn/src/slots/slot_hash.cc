#include <zlib.h>

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

}  // namespace reborn
