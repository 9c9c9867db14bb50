#include "reborn/client.h"

#include <unistd.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/async_dispatcher.h"
#include "command/command_spec.h"
#include "net/sync_client.h"
#include "reborn/coordinator.h"
#include "reborn/router.h"
#include "resp/reply_parser.h"
#include "routing/cluster_scan.h"
#include "routing/merge.h"
#include "routing/slot_hash.h"

namespace reborn {
namespace {

// A pool of blocking connections per server. `mu_` guards the idle lists;
// a borrowed connection belongs to one caller until it is returned.
class ConnectionPool {
 public:
  explicit ConnectionPool(const ClientOptions& options) : options_(options) {}

  absl::StatusOr<net::SyncClient> Take(const std::string& addr)
      ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      auto& idle = idle_[addr];
      if (!idle.empty()) {
        net::SyncClient c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
    }
    size_t colon = addr.rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(addr.substr(colon + 1), &port)) {
      return absl::InvalidArgumentError(absl::StrCat("bad address ", addr));
    }
    return net::SyncClient::Connect(
        addr.substr(0, colon), port,
        absl::ToChronoMilliseconds(options_.timeout), options_.password);
  }

  void Return(const std::string& addr, net::SyncClient c)
      ABSL_LOCKS_EXCLUDED(mu_) {
    if (!c.connected()) return;
    absl::MutexLock lock(&mu_);
    auto& idle = idle_[addr];
    if (idle.size() < options_.max_idle_connections) {
      idle.push_back(std::move(c));
    }
  }

 private:
  const ClientOptions& options_;
  absl::Mutex mu_;
  std::unordered_map<std::string, std::vector<net::SyncClient>> idle_
      ABSL_GUARDED_BY(mu_);
};

Reply ErrorFrom(const absl::Status& s) {
  return Reply::Error(std::string(s.message()));
}

// The client keeps no mutable state of its own beyond the pool (which locks)
// and the source (thread-safe), so it needs no lock.
class ClientImpl : public Client {
 public:
  ClientImpl(std::shared_ptr<SlotTableSource> source, ClientOptions options)
      : source_(std::move(source)), options_(options), pool_(options_) {}

  absl::StatusOr<Reply> Execute(const std::vector<std::string>& args) override {
    if (args.empty()) return absl::InvalidArgumentError("empty command");
    if (!source_->online()) return Reply::Error("ERR client is offline");
    if (Router::SplitMergeOf(args[0]) != SplitMerge::kNone) return Split(args);
    if (IsScan(args)) return Scan(args);
    if (EqualsIgnoreCase(args[0], "cluster") && args.size() == 3 &&
        EqualsIgnoreCase(args[1], "keyslot")) {
      // Redis Cluster's slot of a key, as reborn-proxy answers it.
      return Reply::Integer(routing::RedisClusterKeySlot(args[2]));
    }
    if (absl::Status admit = Router::Admit(args, RouterFace::kClient);
        !admit.ok()) {
      return ErrorFrom(admit);
    }
    absl::StatusOr<int> slot = Router::CommandSlot(args);
    if (!slot.ok()) return ErrorFrom(slot.status());
    const CommandSpec* spec = FindCommandSpec(args[0]);
    bool readonly = spec != nullptr && spec->has(kCmdReadOnly);
    auto replies = Send(*slot, {args}, readonly);
    return std::move(replies[0]);
  }

  absl::StatusOr<std::vector<Reply>> ExecuteBatch(
      const std::vector<std::vector<std::string>>& commands) override {
    std::vector<Reply> out(commands.size());
    // Single-slot commands are grouped by slot, and the slots of a server
    // pipelined together; a split, invalid or refused command is a barrier:
    // what came before it is sent first, so every command sees the effects of
    // the ones before it.
    std::map<int, std::vector<size_t>> by_slot;
    auto flush = [&] {
      SendBySlot(commands, by_slot, out);
      by_slot.clear();
    };
    for (size_t i = 0; i < commands.size(); ++i) {
      const auto& args = commands[i];
      if (args.empty()) return absl::InvalidArgumentError("empty command");
      bool split = Router::SplitMergeOf(args[0]) != SplitMerge::kNone;
      absl::StatusOr<int> slot = Router::CommandSlot(args);
      // Refused commands answer through Execute, as alone.
      if (split || IsScan(args) || !slot.ok() ||
          !Router::Admit(args, RouterFace::kClient).ok()) {
        flush();
        auto r = Execute(args);
        if (!r.ok()) return r.status();
        out[i] = std::move(*r);
        continue;
      }
      by_slot[*slot].push_back(i);
    }
    flush();
    return out;
  }

  absl::StatusOr<Reply> ExecuteTransaction(
      const std::vector<std::vector<std::string>>& commands) override {
    if (commands.empty()) return absl::InvalidArgumentError("no commands");
    std::vector<int> slots;
    std::vector<std::string> keys;
    for (const auto& args : commands) {
      if (args.empty()) return absl::InvalidArgumentError("empty command");
      for (const char* name :
           {"multi", "exec", "discard", "watch", "unwatch"}) {
        if (EqualsIgnoreCase(args[0], name)) {
          return absl::InvalidArgumentError(absl::StrCat(
              args[0],
              " inside ExecuteTransaction: the client sends MULTI and "
              "EXEC itself"));
        }
      }
      if (absl::Status admit = Router::Admit(args, RouterFace::kClient);
          !admit.ok()) {
        return ErrorFrom(admit);
      }
      for (std::string& key : Router::Keys(args)) {
        if (std::find(slots.begin(), slots.end(), SlotOf(key)) == slots.end()) {
          slots.push_back(SlotOf(key));
        }
        keys.push_back(std::move(key));
      }
    }
    if (!source_->online()) return Reply::Error("ERR client is offline");
    // Every slot's route (keys of a migrating slot moved first); one group.
    if (slots.empty()) slots.push_back(-1);
    std::string addr;
    for (int slot : slots) {
      std::vector<std::string> slot_keys;
      for (const std::string& key : keys) {
        if (SlotOf(key) == slot) slot_keys.push_back(key);
      }
      absl::StatusOr<Route> route = Resolve(slot, slot_keys, false);
      if (!route.ok()) return ErrorFrom(route.status());
      if (!addr.empty() && route->addr != addr) {
        return Reply::Error(Router::kCrossSlotError);
      }
      addr = route->addr;
    }
    std::vector<std::vector<std::string>> batch;
    batch.reserve(commands.size() + 2);
    batch.push_back({"MULTI"});
    batch.insert(batch.end(), commands.begin(), commands.end());
    batch.push_back({"EXEC"});
    auto replies = Call(addr, batch);
    if (!replies.ok()) return ErrorFrom(replies.status());
    return std::move(replies->back());
  }

  void ExecuteAsync(std::vector<std::string> args, Callback done) override {
    absl::StatusOr<int> slot =
        args.empty() ? absl::StatusOr<int>(0) : Router::CommandSlot(args);
    Async().Submit(slot.ok() ? static_cast<size_t>(*slot) : 0, std::move(args),
                   std::move(done));
  }

 private:
  client::AsyncDispatcher& Async() {
    absl::MutexLock lock(&async_mu_);
    if (async_ == nullptr) {
      client::AsyncDispatcher::Options o;
      o.lanes = options_.async_dispatchers;
      o.max_batch = options_.async_max_batch;
      o.max_pending = options_.async_max_pending;
      o.callback_executor = options_.callback_executor;
      async_ = std::make_unique<client::AsyncDispatcher>(
          [this](const client::AsyncDispatcher::Batch& batch) {
            return ExecuteBatch(batch);
          },
          std::move(o));
    }
    return *async_;
  }

  // Sends the commands `by_slot` names: the slots whose route is plain are
  // pipelined per server (one round trip per server), the others (waiting
  // for a migration step, or moving keys first) go through Send().
  void SendBySlot(const std::vector<std::vector<std::string>>& commands,
                  const std::map<int, std::vector<size_t>>& by_slot,
                  std::vector<Reply>& out) {
    if (by_slot.empty()) return;
    auto table = source_->Current();
    std::map<std::string, std::vector<size_t>> by_addr;
    for (const auto& [slot, indexes] : by_slot) {
      if (table != nullptr) {
        absl::StatusOr<Route> route = Router::RouteSlot(*table, slot, false, 0);
        if (route.ok() &&
            Router::NextStep(*route, /*has_keys=*/true) == RouteStep::kSend) {
          auto& list = by_addr[route->addr];
          list.insert(list.end(), indexes.begin(), indexes.end());
          continue;
        }
      }
      std::vector<std::vector<std::string>> batch;
      for (size_t i : indexes) batch.push_back(commands[i]);
      auto replies = Send(slot, batch, false);
      for (size_t j = 0; j < indexes.size(); ++j) {
        out[indexes[j]] = std::move(replies[j]);
      }
    }
    for (const auto& [addr, indexes] : by_addr) {
      std::vector<std::vector<std::string>> batch;
      batch.reserve(indexes.size());
      for (size_t i : indexes) batch.push_back(commands[i]);
      auto replies = Call(addr, batch);
      for (size_t j = 0; j < indexes.size(); ++j) {
        out[indexes[j]] = replies.ok() ? std::move((*replies)[j])
                                       : ErrorFrom(replies.status());
      }
    }
  }

  // Sends `batch` (all in `slot`) to the slot's server; one reply each.
  std::vector<Reply> Send(int slot,
                          const std::vector<std::vector<std::string>>& batch,
                          bool readonly) {
    auto fail = [&](const Reply& err) {
      return std::vector<Reply>(batch.size(), err);
    };
    std::vector<std::string> keys;
    for (const auto& args : batch) {
      for (std::string& key : Router::MoveKeys(args)) {
        keys.push_back(std::move(key));
      }
    }
    absl::StatusOr<Route> route = Resolve(slot, keys, readonly);
    if (!route.ok()) return fail(ErrorFrom(route.status()));
    auto replies = Call(route->addr, batch);
    if (!replies.ok()) return fail(ErrorFrom(replies.status()));
    return std::move(*replies);
  }

  // The server to send commands on `slot` to: waits while the slot is in
  // pre_migrate (at most hold_timeout) and, while it migrates, moves `keys`
  // from the old group first. Errors carry the reply text.
  absl::StatusOr<Route> Resolve(int slot, const std::vector<std::string>& keys,
                                bool readonly) {
    auto deadline = std::chrono::steady_clock::now() +
                    absl::ToChronoMilliseconds(options_.hold_timeout);
    absl::StatusOr<Route> route;
    RouteStep step = RouteStep::kSend;
    for (;;) {
      auto table = source_->Current();
      if (table == nullptr) {
        return absl::UnavailableError(Router::kNoTopologyError);
      }
      route = Router::RouteSlot(
          *table, slot, readonly && options_.read_from_replicas, ++pick_);
      if (!route.ok()) return route.status();
      step = Router::NextStep(*route, !keys.empty());
      if (step != RouteStep::kHold) break;
      if (std::chrono::steady_clock::now() > deadline) {
        return absl::UnavailableError(Router::kHoldTimeoutError);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (step == RouteStep::kPreMove) {
      std::vector<std::vector<std::string>> moves;
      moves.reserve(keys.size());
      for (const std::string& key : keys) {
        moves.push_back(Router::PreMoveCommand(*route, key));
      }
      auto moved = Call(route->migrate_from_addr, moves);
      if (!moved.ok()) return moved.status();
      for (const Reply& r : *moved) {
        if (!r.is_error()) continue;
        return absl::UnavailableError(
            r.str.empty() ? std::string(Router::kKeyMoveFailedError) : r.str);
      }
    }
    return route;
  }

  absl::StatusOr<std::vector<Reply>> Call(
      const std::string& addr,
      const std::vector<std::vector<std::string>>& batch) {
    if (batch.empty()) return std::vector<Reply>();
    auto conn = pool_.Take(addr);
    if (!conn.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "ERR backend ", addr, " is unavailable: ", conn.status().message()));
    }
    auto replies = conn->CallAll(batch);
    if (!replies.ok()) {
      return absl::UnavailableError(
          absl::StrCat("ERR backend ", addr,
                       " is unavailable: ", replies.status().message()));
    }
    pool_.Return(addr, std::move(*conn));
    return replies;
  }

  static bool IsScan(const std::vector<std::string>& args) {
    return args.size() >= 2 && EqualsIgnoreCase(args[0], "scan");
  }

  // SCAN over the whole cluster with the proxy's policy and cursor
  // (routing::ClusterScan, docs/proxy.md "SCAN"), one blocking call per
  // backend step.
  absl::StatusOr<Reply> Scan(const std::vector<std::string>& args) {
    std::optional<routing::ClusterScanCursor> cursor =
        routing::ClusterScanCursor::Parse(args[1]);
    if (!cursor) return Reply::Error("ERR invalid cursor");
    absl::StatusOr<routing::ScanOptions> options =
        routing::ParseScanOptions(args);
    if (!options.ok()) return ErrorFrom(options.status());
    uint64_t value = 1;
    if (scan_by_group_.load(std::memory_order_relaxed) &&
        cursor->Encode(&value) && value == 0) {
      cursor->by_group = true;
    }
    routing::ClusterScan scan(*std::move(options), *cursor,
                              routing::ClusterScan::kMaxSteps);
    while (true) {
      std::shared_ptr<const SlotTable> table = source_->Current();
      if (table == nullptr) return Reply::Error(Router::kNoTopologyError);
      std::optional<routing::ClusterScan::Request> req = scan.Next(*table);
      if (!req) break;
      auto replies = Call(req->addr, {req->args});
      scan.OnReply(replies.ok() ? resp::EncodeReply((*replies)[0])
                                : routing::ErrorReply(
                                      std::string(replies.status().message())));
    }
    if (scan.fell_back_to_groups()) {
      scan_by_group_.store(true, std::memory_order_relaxed);
    }
    const std::string raw = scan.ClientReply();
    Reply out;
    size_t used = 0;
    if (resp::ReplyParser().Parse(raw, &used, &out) !=
        resp::ReplyParser::Result::kReply) {
      return absl::InternalError("SCAN built an unparsable reply");
    }
    return out;
  }

  // A multi-key command split as the proxy splits it (Router::PlanSplit):
  // every part is sent, and the replies merge as the proxy merges them
  // (routing::MergeSplit), so both answer alike.
  absl::StatusOr<Reply> Split(const std::vector<std::string>& args) {
    auto table = source_->Current();
    absl::StatusOr<SplitPlan> plan =
        Router::PlanSplit(args, table.get(), !options_.read_from_replicas);
    if (!plan.ok()) return ErrorFrom(plan.status());
    const bool readonly = FindCommandSpec(args[0])->has(kCmdReadOnly);
    if (plan->parts.size() == 1) {
      return std::move(Send(plan->parts[0].slot, {args}, readonly)[0]);
    }
    std::vector<std::string> parts;
    parts.reserve(plan->parts.size());
    for (size_t i = 0; i < plan->parts.size(); ++i) {
      Reply r =
          std::move(Send(plan->parts[i].slot,
                         {Router::PartCommand(args, *plan, i)}, readonly)[0]);
      parts.push_back(resp::EncodeReply(r));
    }
    std::string merged = routing::MergeSplit(*plan, parts);
    Reply out;
    size_t consumed = 0;
    if (resp::ReplyParser().Parse(merged, &consumed, &out) !=
        resp::ReplyParser::Result::kReply) {
      return Reply::Error("ERR unexpected reply from a backend");
    }
    return out;
  }

  std::shared_ptr<SlotTableSource> source_;
  ClientOptions options_;
  ConnectionPool pool_;
  // A backend had no SLOTSSCAN: new SCAN iterations go by group (a hint
  // shared by every thread; a stale read only costs a restart).
  std::atomic<bool> scan_by_group_{false};
  std::atomic<size_t> pick_{0};
  absl::Mutex async_mu_;
  // Last: destroyed first, so queued commands finish while the pool and the
  // source still exist.
  std::unique_ptr<client::AsyncDispatcher> async_ ABSL_GUARDED_BY(async_mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Open(
    std::shared_ptr<SlotTableSource> source, ClientOptions options) {
  if (source == nullptr) {
    return absl::InvalidArgumentError("a topology source is required");
  }
  return std::unique_ptr<Client>(
      std::make_unique<ClientImpl>(std::move(source), options));
}

absl::StatusOr<std::unique_ptr<Client>> Client::Open(const std::string& uri,
                                                     const std::string& product,
                                                     ClientOptions options) {
  constexpr std::string_view kStatic = "static://";
  if (uri.rfind(kStatic, 0) == 0) {
    auto table = SlotTable::FromAddressList(uri.substr(kStatic.size()));
    if (!table.ok()) return table.status();
    return Open(MakeStaticSource(*table), options);
  }
  auto coord = Coordinator::Open(uri);
  if (!coord.ok()) return coord.status();
  std::shared_ptr<Coordinator> shared(std::move(*coord));
  CoordinatorSourceOptions source_options;
  source_options.product = product;
  if (options.ack_topology_changes) {
    source_options.id = options.participant_id;
    if (source_options.id.empty()) {
      char host[256] = {0};
      if (gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
      source_options.id = absl::StrCat("client-", host, "-", getpid(), "-",
                                       absl::ToUnixNanos(absl::Now()));
    }
    source_options.node_json =
        nlohmann::json{{"id", source_options.id},
                       {"kind", "client"},
                       {"addr", ""},
                       {"admin_addr", ""},
                       {"state", "online"},
                       {"pid", static_cast<int64_t>(getpid())},
                       {"start_at", absl::ToUnixSeconds(absl::Now())}}
            .dump();
  }
  auto source = OpenCoordinatorSource(shared, source_options);
  if (absl::IsFailedPrecondition(source.status()) &&
      !source_options.id.empty()) {
    // A read-only coordinator: its topology never changes.
    source_options.id.clear();
    source_options.node_json.clear();
    source = OpenCoordinatorSource(shared, source_options);
  }
  if (!source.ok()) return source.status();
  return Open(*source, options);
}

}  // namespace reborn
