#include "proxy/cluster_face.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "routing/merge.h"

namespace reborn::proxy {
namespace {

std::pair<std::string, int> SplitAddr(std::string_view addr) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) return {std::string(addr), 0};
  int port = 0;
  for (char c : addr.substr(colon + 1)) {
    if (c < '0' || c > '9') return {std::string(addr.substr(0, colon)), 0};
    port = port * 10 + (c - '0');
    if (port > 65535) return {std::string(addr.substr(0, colon)), 0};
  }
  return {std::string(addr.substr(0, colon)), port};
}

std::string MapHeader(size_t n, bool resp3) {
  return resp3 ? absl::StrCat("%", n, "\r\n")
               : absl::StrCat("*", 2 * n, "\r\n");
}

std::string Int(int64_t v) { return absl::StrCat(":", v, "\r\n"); }

}  // namespace

ClusterView MakeClusterView(const std::string& self,
                            std::vector<std::string> proxies) {
  proxies.push_back(self);
  std::sort(proxies.begin(), proxies.end());
  proxies.erase(std::unique(proxies.begin(), proxies.end()), proxies.end());
  ClusterView view;
  view.self = static_cast<size_t>(
      std::find(proxies.begin(), proxies.end(), self) - proxies.begin());
  view.nodes = std::move(proxies);
  return view;
}

std::string ClusterNodeId(std::string_view addr) {
  // FNV-1a over the address, five rounds with different seeds: 5 x 32 bits.
  std::string id;
  for (uint32_t round = 0; round < 5; ++round) {
    uint32_t h = 2166136261u ^ (round * 0x9e3779b9u);
    for (unsigned char c : addr) h = (h ^ c) * 16777619u;
    absl::StrAppend(&id, absl::Hex(h, absl::kZeroPad8));
  }
  return id;
}

std::pair<int, int> ClusterSlotRange(size_t i, size_t n) {
  const int first = static_cast<int>(i * kClusterSlots / n);
  const int last = static_cast<int>((i + 1) * kClusterSlots / n) - 1;
  return {first, last};
}

std::string ClusterSlotsReply(const ClusterView& view, bool resp3) {
  std::string out = absl::StrCat("*", view.nodes.size(), "\r\n");
  for (size_t i = 0; i < view.nodes.size(); ++i) {
    auto [first, last] = ClusterSlotRange(i, view.nodes.size());
    auto [host, port] = SplitAddr(view.nodes[i]);
    absl::StrAppend(&out, "*3\r\n", Int(first), Int(last), "*4\r\n",
                    routing::BulkReply(host), Int(port),
                    routing::BulkReply(ClusterNodeId(view.nodes[i])),
                    MapHeader(0, resp3));
  }
  return out;
}

std::string ClusterShardsReply(const ClusterView& view, bool resp3) {
  std::string out = absl::StrCat("*", view.nodes.size(), "\r\n");
  for (size_t i = 0; i < view.nodes.size(); ++i) {
    auto [first, last] = ClusterSlotRange(i, view.nodes.size());
    auto [host, port] = SplitAddr(view.nodes[i]);
    absl::StrAppend(&out, MapHeader(2, resp3), routing::BulkReply("slots"),
                    "*2\r\n", Int(first), Int(last),
                    routing::BulkReply("nodes"), "*1\r\n", MapHeader(7, resp3));
    absl::StrAppend(&out, routing::BulkReply("id"),
                    routing::BulkReply(ClusterNodeId(view.nodes[i])),
                    routing::BulkReply("port"), Int(port),
                    routing::BulkReply("ip"), routing::BulkReply(host),
                    routing::BulkReply("endpoint"), routing::BulkReply(host));
    absl::StrAppend(&out, routing::BulkReply("role"),
                    routing::BulkReply("master"),
                    routing::BulkReply("replication-offset"), Int(0),
                    routing::BulkReply("health"), routing::BulkReply("online"));
  }
  return out;
}

std::string ClusterNodesText(const ClusterView& view) {
  std::string out;
  for (size_t i = 0; i < view.nodes.size(); ++i) {
    auto [first, last] = ClusterSlotRange(i, view.nodes.size());
    auto [host, port] = SplitAddr(view.nodes[i]);
    // The cluster bus port is not served: Redis' default (port + 10000).
    absl::StrAppend(&out, ClusterNodeId(view.nodes[i]), " ", host, ":", port,
                    "@", port + 10000, " ",
                    i == view.self ? "myself,master" : "master", " - 0 0 ",
                    i + 1, " connected ", first, "-", last, "\n");
  }
  return out;
}

std::string ClusterInfoText(const ClusterView& view) {
  const size_t n = view.nodes.size();
  return absl::StrCat(
      "cluster_state:ok\r\ncluster_slots_assigned:", kClusterSlots,
      "\r\ncluster_slots_ok:", kClusterSlots,
      "\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\n"
      "cluster_known_nodes:",
      n, "\r\ncluster_size:", n, "\r\ncluster_current_epoch:", n,
      "\r\ncluster_my_epoch:", view.self + 1,
      "\r\ncluster_stats_messages_sent:0\r\n"
      "cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_"
      "exceeded:0\r\n");
}

}  // namespace reborn::proxy
