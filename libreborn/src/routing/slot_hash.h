#pragma once

#include <string_view>

// The slot functions beside the public HashTag/SlotOf (reborn/slot.h).
namespace reborn::routing {

// Redis Cluster's slot count, for the slot a cluster-aware client computes.
inline constexpr int kRedisClusterSlots = 16384;

// Redis Cluster's slot of a key: crc16 (XMODEM) of its hash tag, & 16383.
// CLUSTER KEYSLOT answers it, through the proxy and the Client alike.
int RedisClusterKeySlot(std::string_view key);

}  // namespace reborn::routing
