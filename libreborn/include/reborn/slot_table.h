#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/export.h"
#include "reborn/slot.h"

namespace reborn {

// One replication group: a master and optional replicas, "host:port" each.
struct REBORN_EXPORT TableGroup {
  int id = 0;
  std::string master;
  std::vector<std::string> replicas;
};

struct REBORN_EXPORT TableSlot {
  int group_id = 0;  // 0 = not assigned
  SlotState state = SlotState::kOffline;
  // While kPreMigrate/kMigrate: the keys move from group `migrate_from` to
  // `migrate_to` (== group_id).
  int migrate_from = 0;
  int migrate_to = 0;
  // The coordinator's version of the slot's node: it grows with every change
  // of the slot, so a cluster-wide SCAN can tell that a slot changed between
  // two of its calls. 0 for static tables.
  int64_t version = 0;
};

// An immutable snapshot of the topology: slot -> group -> servers. Shared by
// the proxy and the in-process Client; a topology change builds a new table
// and publishes it by swapping a std::shared_ptr<const SlotTable>, so readers
// never lock and never see a half-applied change.
class REBORN_EXPORT SlotTable {
 public:
  // Validates that every assigned slot names a known group with a master.
  static absl::StatusOr<std::shared_ptr<const SlotTable>> Create(
      std::vector<TableGroup> groups, std::array<TableSlot, kSlotCount> slots,
      uint64_t version = 1);

  // A static topology (twemproxy-style deployments, tests):
  //   {"groups": [{"id": 1, "master": "127.0.0.1:6379",
  //                "replicas": ["127.0.0.1:6479"]}, ...],
  //    "slots": [{"range": "0-511", "group": 1}, ...]}
  // Without "slots" the slots are split evenly between the groups in order.
  static absl::StatusOr<std::shared_ptr<const SlotTable>> FromJson(
      std::string_view json);

  // "host:port,host:port,...": one master-only group per address, slots
  // split evenly (the --backends flag of reborn-proxy).
  static absl::StatusOr<std::shared_ptr<const SlotTable>> FromAddressList(
      std::string_view addresses);

  // Builds a table from the coordinator's JSON nodes (docs/design.md §5): the
  // values of /reborn/P/groups/<gid> and of /reborn/P/slots/NNNN (slot i at
  // index i; an empty string = unassigned). Only masters/slaves whose state is
  // not "offline" are used.
  static absl::StatusOr<std::shared_ptr<const SlotTable>> FromTopologyNodes(
      const std::vector<std::string>& group_nodes,
      const std::vector<std::string>& slot_nodes, uint64_t version);

  // One node of each kind, for a follower that re-reads only the nodes a
  // topology action names and keeps the rest parsed (then calls Create). An
  // empty slot node is an unassigned slot.
  static absl::StatusOr<TableGroup> ParseGroupNode(std::string_view text);
  static absl::StatusOr<TableSlot> ParseSlotNode(std::string_view text);

  const TableSlot& slot(int slot) const { return slots_[slot]; }
  // nullptr when there is no such group.
  const TableGroup* group(int id) const;
  // Sorted by id.
  const std::vector<TableGroup>& groups() const { return groups_; }
  uint64_t version() const { return version_; }

  // The groups that own at least one slot, sorted by id (fan-out targets).
  std::vector<int> ServingGroups() const;

  // {"version":..,"groups":[..],"slots":[{"slot","group_id","state",...}]}
  std::string ToJson() const;

 private:
  SlotTable() = default;

  std::vector<TableGroup> groups_;
  std::array<TableSlot, kSlotCount> slots_{};
  uint64_t version_ = 0;
};

// Where a proxy or Client gets its topology from. Current() is cheap and
// thread-safe; Subscribe() callbacks run on the source's own thread whenever
// a new table (or online state) is published.
class REBORN_EXPORT SlotTableSource {
 public:
  using Listener =
      std::function<void(std::shared_ptr<const SlotTable> table, bool online)>;
  virtual ~SlotTableSource() = default;
  virtual std::shared_ptr<const SlotTable> Current() const = 0;
  // False while the source has lost its authority (coordinator session
  // lost, proxy marked offline): callers must stop serving.
  virtual bool online() const = 0;
  // Registers a listener; it is called once immediately with the current
  // state. Listeners must outlive the source or be removed with Unsubscribe.
  virtual int Subscribe(Listener listener) = 0;
  virtual void Unsubscribe(int id) = 0;
  // The client addresses of the online proxies of the product, for the Redis
  // Cluster face (CLUSTER SLOTS...); empty when the source has no proxy list
  // (a static topology).
  virtual std::vector<std::string> ProxyAddrs() const { return {}; }
};

// A source whose table changes only when Publish() is called (static
// configuration, tests). Thread-safe.
REBORN_EXPORT std::shared_ptr<class StaticSlotTableSource> MakeStaticSource(
    std::shared_ptr<const SlotTable> table);

class REBORN_EXPORT StaticSlotTableSource : public SlotTableSource {
 public:
  virtual void Publish(std::shared_ptr<const SlotTable> table) = 0;
  virtual void SetOnline(bool online) = 0;
};

}  // namespace reborn

namespace reborn {

class Coordinator;

// Topology from the coordinator layout of docs/design.md §5
// (/reborn/<product>/...). Watches slots and groups and publishes a new
// SlotTable on every change; registers `node_json` as the ephemeral
// /reborn/<product>/proxies/<id> (when `id` is not empty) and re-creates it
// when a new session comes up; acks every action under
// /reborn/<product>/actions/<seq>/acks/<id> once the table that follows it is
// published; goes offline when the session expires, while its proxy node says
// "state":"offline", and — registered — when the lease runs out: a registered
// source stays online while it heard from the coordinator within the last
// `lease` (a suspended session alone does not take it offline; no topology
// change can complete without its ack or a fence that waits out the lease, see
// docs/proxy.md). Unregistered, it goes offline while the session is suspended.
struct REBORN_EXPORT CoordinatorSourceOptions {
  std::string product;
  std::string id;         // proxy id; empty = no registration, no acks
  std::string node_json;  // the proxy node's value (a JSON object)
  // Unset: two thirds of the coordinator's session timeout. Must be below the
  // session timeout. Advertised as "lease_ms" in the proxy node.
  std::optional<absl::Duration> lease;
  // Registered sources: probe the groups' masters this often and publish
  // the ones down under /reborn/P/proxy_views/<id>, the proxies' opinion
  // for the HA agents (docs/agent.md). 0 = off (the proxy turns it on).
  absl::Duration health_interval = absl::ZeroDuration();
  absl::Duration health_down_after = absl::Seconds(3);
  std::string health_password;  // the stores' AUTH password
};

REBORN_EXPORT absl::StatusOr<std::shared_ptr<SlotTableSource>>
OpenCoordinatorSource(std::shared_ptr<Coordinator> coordinator,
                      CoordinatorSourceOptions options);

}  // namespace reborn
