#include <algorithm>
#include <memory>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "command/command_spec.h"
#include "command/command_table.h"
#include "net/sync_client.h"
#include "proxy/session.h"
#include "routing/merge.h"

// The commands over the whole keyspace: split multi-key commands, fan-outs,
// SCAN and RANDOMKEY.
namespace reborn::proxy {

void Session::Split(std::vector<std::string>& args) {
  const auto& table = worker_->table();
  absl::StatusOr<SplitPlan> plan = Router::PlanSplit(
      args, table.get(), !proxy_->options().read_from_replicas);
  if (!plan.ok()) {
    ReplyError(std::string(plan.status().message()));
    return;
  }
  const CommandSpec* spec = FindCommandSpec(args[0]);
  const bool readonly = spec->has(kCmdReadOnly);
  auto p = NewPending();
  p->command = spec->name;
  if (plan->parts.size() == 1) {  // one server: pass through unchanged
    SendSlot(
        plan->parts[0].slot, args, readonly,
        [self = shared_from_this(), p](std::string_view reply) {
          self->Finish(p, reply);
        },
        raw_request_);
    return;
  }
  proxy_->counters().split_commands.fetch_add(1, std::memory_order_relaxed);
  auto shared_plan = std::make_shared<SplitPlan>(*std::move(plan));
  std::function<std::string(Pending&)> merge = [shared_plan](Pending& pend) {
    return routing::MergeSplit(*shared_plan, pend.parts);
  };
  p->parts.resize(shared_plan->parts.size());
  p->outstanding = static_cast<int>(shared_plan->parts.size());
  for (size_t i = 0; i < shared_plan->parts.size(); ++i) {
    SendSlot(shared_plan->parts[i].slot,
             Router::PartCommand(args, *shared_plan, i), readonly,
             PartCallback(p, i, merge));
  }
}

void Session::FanOut(std::vector<std::string> args,
                     std::function<std::string(Pending&)> merge) {
  const auto& table = worker_->table();
  auto p = NewPending();
  if (const CommandSpec* spec = FindCommandSpec(args[0])) {
    p->command = spec->name;
  }
  std::vector<int> groups;
  if (table) groups = table->ServingGroups();
  if (groups.empty()) {
    Finish(p, routing::ErrorReply("CLUSTERDOWN no group is serving slots"));
    return;
  }
  proxy_->counters().fanout_commands.fetch_add(1, std::memory_order_relaxed);
  std::string encoded = net::EncodeCommand(args);
  p->parts.resize(groups.size());
  p->outstanding = static_cast<int>(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    const TableGroup* g = table->group(groups[i]);
    worker_->Pooled(g->master, id_).Send(encoded, PartCallback(p, i, merge));
  }
}

void Session::Scan(std::vector<std::string>& args) {
  std::optional<routing::ClusterScanCursor> cursor =
      routing::ClusterScanCursor::Parse(args[1]);
  if (!cursor) {
    ReplyError("ERR invalid cursor");
    return;
  }
  absl::StatusOr<routing::ScanOptions> options =
      routing::ParseScanOptions(args);
  if (!options.ok()) {
    ReplyError(std::string(options.status().message()));
    return;
  }
  uint64_t value = 1;
  if (scan_by_group_ && cursor->Encode(&value) && value == 0) {
    cursor->by_group = true;  // a new iteration, where slots cannot work
  }
  auto p = NewPending();
  p->command = "scan";
  ScanStep(p, std::make_shared<routing::ClusterScan>(*std::move(options),
                                                     *cursor, kMaxScanSteps));
}

// One backend call of a SCAN. Each step reads the table the source
// published last (not the worker's copy, which may lag behind it): keys of a
// slot move only after this proxy published the migration, so a slot walk
// that still sees its version after the reply missed nothing.
void Session::ScanStep(const PendingPtr& p,
                       std::shared_ptr<routing::ClusterScan> scan) {
  std::shared_ptr<const SlotTable> table = proxy_->CurrentTable();
  if (table == nullptr) {
    Finish(p, routing::ErrorReply(Router::kNoTopologyError));
    return;
  }
  std::optional<routing::ClusterScan::Request> req = scan->Next(*table);
  if (!req) {
    if (scan->fell_back_to_groups()) scan_by_group_ = true;
    Finish(p, scan->ClientReply());
    return;
  }
  worker_->Pooled(req->addr, id_)
      .Send(net::EncodeCommand(req->args),
            [self = shared_from_this(), p, scan](std::string_view reply) {
              scan->OnReply(reply);
              if (self->closed_) {
                self->Finish(p, scan->ClientReply());
                return;
              }
              self->ScanStep(p, scan);
            });
}

// RANDOMKEY: the groups in random order until one has a key; nil only when
// every group is empty (the first error when none answered a key and one
// failed).
void Session::RandomKey() {
  const auto& table = worker_->table();
  std::vector<int> groups;
  if (table) groups = table->ServingGroups();
  if (groups.empty()) {
    ReplyError("CLUSTERDOWN no group is serving slots");
    return;
  }
  std::shuffle(groups.begin(), groups.end(), worker_->random());
  auto p = NewPending();
  p->command = "randomkey";
  RandomKeyStep(p, std::make_shared<std::vector<int>>(std::move(groups)), 0);
}

void Session::RandomKeyStep(const PendingPtr& p,
                            std::shared_ptr<std::vector<int>> groups,
                            size_t next) {
  const auto& table = worker_->table();
  const TableGroup* g = nullptr;
  while (next < groups->size() && table &&
         (g = table->group((*groups)[next])) == nullptr) {
    ++next;  // gone since: skip it
  }
  if (g == nullptr || next >= groups->size()) {
    Finish(p, p->parts.empty() ? std::string("$-1\r\n") : p->parts[0]);
    return;
  }
  worker_->Pooled(g->master, id_)
      .Send(
          net::EncodeCommand({"RANDOMKEY"}),
          [self = shared_from_this(), p, groups, next](std::string_view reply) {
            if (!reply.empty() && reply[0] == '$' && reply != "$-1\r\n") {
              self->Finish(p, reply);
              return;
            }
            if (!reply.empty() && reply[0] == '-' && p->parts.empty()) {
              p->parts.emplace_back(reply);
            }
            if (self->closed_) return;
            self->RandomKeyStep(p, groups, next + 1);
          });
}

}  // namespace reborn::proxy
