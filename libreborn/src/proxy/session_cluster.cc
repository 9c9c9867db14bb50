#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "command/command_table.h"
#include "net/sync_client.h"
#include "proxy/cluster_face.h"
#include "proxy/session.h"
#include "routing/merge.h"

// The Redis Cluster commands answered by the proxy (cluster_face.h).
namespace reborn::proxy {
namespace {

// Subcommands that change a Redis Cluster's configuration: the proxies' map
// follows the live proxy list instead.
bool IsClusterAdmin(const std::string& sub) {
  static const auto* const kAdmin = new absl::flat_hash_set<std::string>{
      "addslots",   "addslotsrange",
      "bumpepoch",  "count-failure-reports",
      "delslots",   "delslotsrange",
      "failover",   "flushslots",
      "forget",     "meet",
      "replicate",  "reset",
      "saveconfig", "set-config-epoch",
      "setslot",    "slaves",
      "replicas",   "links"};
  return kAdmin->contains(sub);
}

constexpr int kSlotScanCount = 1000;

}  // namespace

std::string Session::SelfAddr() const {
  std::string host =
      proxy_->options().addr.substr(0, proxy_->options().addr.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "::") {
    asio::error_code ec;
    auto local = socket_.local_endpoint(ec);
    if (!ec) host = local.address().to_string();
  }
  return absl::StrCat(host, ":", proxy_->port());
}

void Session::ReplyEncoded(std::string_view reply) {
  PendingPtr p = NewPending();
  p->resp3 = false;  // already in the client's protocol
  Finish(p, reply);
}

void Session::ClusterCmd(std::vector<std::string>& args) {
  if (args.size() < 2) {
    ReplyError(WrongArityError("cluster"));
    return;
  }
  const std::string sub = ToLower(args[1]);
  const size_t n = args.size();
  static constexpr std::pair<std::string_view, size_t> kArity[] = {
      {"slots", 2},        {"shards", 2},  {"nodes", 2}, {"info", 2},
      {"myid", 2},         {"keyslot", 3}, {"help", 2},  {"countkeysinslot", 3},
      {"getkeysinslot", 4}};
  for (const auto& [name, arity] : kArity) {
    if (sub == name && n != arity) {
      ReplyError(WrongArityError(absl::StrCat("cluster|", sub)));
      return;
    }
  }
  const ClusterView view = MakeClusterView(SelfAddr(), proxy_->ProxyAddrs());
  if (sub == "slots" && n == 2) {
    ReplyEncoded(ClusterSlotsReply(view, resp3_));
  } else if (sub == "shards" && n == 2) {
    ReplyEncoded(ClusterShardsReply(view, resp3_));
  } else if (sub == "nodes" && n == 2) {
    Reply(routing::BulkReply(ClusterNodesText(view)));  // verbatim in RESP3
  } else if (sub == "info" && n == 2) {
    Reply(routing::BulkReply(ClusterInfoText(view)));
  } else if (sub == "myid" && n == 2) {
    Reply(routing::BulkReply(ClusterNodeId(view.nodes[view.self])));
  } else if (sub == "keyslot" && n == 3) {
    Reply(absl::StrCat(":", routing::RedisClusterKeySlot(args[2]), "\r\n"));
  } else if ((sub == "countkeysinslot" && n == 3) ||
             (sub == "getkeysinslot" && n == 4)) {
    int64_t slot = 0;
    int64_t max_keys = -1;  // COUNTKEYSINSLOT: count them all
    if (!absl::SimpleAtoi(args[2], &slot) ||
        (n == 4 && !absl::SimpleAtoi(args[3], &max_keys))) {
      ReplyError("ERR value is not an integer or out of range");
      return;
    }
    if (slot < 0 || slot >= kClusterSlots || (n == 4 && max_keys < 0)) {
      ReplyError(n == 4 ? "ERR Invalid slot or number of keys"
                        : "ERR Invalid slot");
      return;
    }
    auto p = NewPending();
    p->command = "cluster";
    auto scan = std::make_shared<SlotScan>();
    scan->slot = static_cast<int>(slot);
    scan->max_keys = max_keys;
    SlotScanStep(p, scan);
  } else if (sub == "help" && n == 2) {
    Reply(absl::StrCat(
        "*10\r\n", routing::BulkReply("CLUSTER <subcommand> (reborn-proxy)"),
        routing::BulkReply("SLOTS | SHARDS | NODES | INFO | MYID"),
        routing::BulkReply(
            "    The proxies, each serving an even share of the 16384 "
            "slots; any proxy serves every key."),
        routing::BulkReply("KEYSLOT <key>"),
        routing::BulkReply("    Redis Cluster's slot of "
                           "the key (crc16)."),
        routing::BulkReply("COUNTKEYSINSLOT <slot>"),
        routing::BulkReply("GETKEYSINSLOT <slot> <count>"),
        routing::BulkReply(
            "    Keys in a Redis Cluster slot (scans every group)."),
        routing::BulkReply("HELP"),
        routing::BulkReply("    Prints this help.")));
  } else if (IsClusterAdmin(sub)) {
    ReplyError(absl::StrCat(
        "ERR CLUSTER ", absl::AsciiStrToUpper(sub),
        " is not supported by reborn-proxy: the proxies' slot map follows "
        "the live proxy list"));
  } else {
    ReplyError(UnknownSubcommandError("cluster", args[1]));
  }
}

// One SCAN of the keys of a Redis Cluster slot: the proxy has no index by
// crc16 slot, so it visits every group's keys (COUNTKEYSINSLOT and
// GETKEYSINSLOT cost a full scan) and keeps those in the slot.
void Session::SlotScanStep(const PendingPtr& p,
                           std::shared_ptr<SlotScan> scan) {
  const auto& table = worker_->table();
  std::vector<int> groups;
  if (table) groups = table->ServingGroups();
  const bool full = scan->max_keys >= 0 &&
                    scan->keys.size() >= static_cast<size_t>(scan->max_keys);
  if (scan->group_index >= groups.size() || full) {
    if (scan->max_keys < 0) {
      Finish(p, absl::StrCat(":", scan->count, "\r\n"));
      return;
    }
    std::string out = absl::StrCat("*", scan->keys.size(), "\r\n");
    for (const std::string& k : scan->keys) out += routing::BulkReply(k);
    Finish(p, out);
    return;
  }
  const TableGroup* g = table->group(groups[scan->group_index]);
  worker_->Pooled(g->master, id_)
      .Send(net::EncodeCommand({"SCAN", std::to_string(scan->cursor), "COUNT",
                                std::to_string(kSlotScanCount)}),
            [self = shared_from_this(), p, scan](std::string_view reply) {
              std::vector<std::string_view> top, keys;
              std::optional<std::string_view> cursor;
              uint64_t next = 0;
              if (!routing::SplitArray(reply, &top) || top.size() != 2 ||
                  !(cursor = routing::ParseBulkReply(top[0])) ||
                  !absl::SimpleAtoi(std::string(*cursor), &next) ||
                  !routing::SplitArray(top[1], &keys)) {
                self->Finish(
                    p, reply[0] == '-'
                           ? std::string(reply)
                           : routing::ErrorReply("ERR proxy: unexpected SCAN "
                                                 "reply from a backend"));
                return;
              }
              for (std::string_view raw : keys) {
                std::optional<std::string_view> key =
                    routing::ParseBulkReply(raw);
                if (!key || routing::RedisClusterKeySlot(*key) != scan->slot)
                  continue;
                ++scan->count;
                if (scan->max_keys >= 0 &&
                    scan->keys.size() < static_cast<size_t>(scan->max_keys)) {
                  scan->keys.emplace_back(*key);
                }
              }
              scan->cursor = next;
              if (next == 0) ++scan->group_index;
              if (!self->closed_) self->SlotScanStep(p, scan);
            });
}

}  // namespace reborn::proxy
