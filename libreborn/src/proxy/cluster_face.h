#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "routing/slot_hash.h"

// The Redis Cluster face of reborn-proxy, for cluster-aware clients (redis-py
// RedisCluster, ioredis Cluster, Jedis/Lettuce cluster mode). Every proxy can
// serve every key, so the 16384 Redis Cluster slots are only a way to spread
// clients: they are split evenly over the online proxies (sorted by address),
// each a master without replicas. A key's Redis Cluster slot (crc16) says
// which proxy a client sends it to; the proxy still routes it by RebornDB's
// own slot (crc32 % 1024). Pure functions: no I/O.
namespace reborn::proxy {

inline constexpr int kClusterSlots = routing::kRedisClusterSlots;

struct ClusterView {
  std::vector<std::string> nodes;  // "host:port", sorted, unique
  size_t self = 0;                 // index of this proxy in `nodes`
};

// `self` among the `proxies` (their client addresses); `self` alone when the
// list is empty (a static topology).
ClusterView MakeClusterView(const std::string& self,
                            std::vector<std::string> proxies);

// A stable 40-hex-digit node id for a proxy address (the same on every
// proxy, so all of them describe the same cluster).
std::string ClusterNodeId(std::string_view addr);

// The slots [first, last] of node `i` of `n`.
std::pair<int, int> ClusterSlotRange(size_t i, size_t n);

// Replies, encoded for the client's protocol (RESP3 when `resp3`).
std::string ClusterSlotsReply(const ClusterView& view, bool resp3);
std::string ClusterShardsReply(const ClusterView& view, bool resp3);
// The text of CLUSTER NODES and CLUSTER INFO.
std::string ClusterNodesText(const ClusterView& view);
std::string ClusterInfoText(const ClusterView& view);

}  // namespace reborn::proxy
