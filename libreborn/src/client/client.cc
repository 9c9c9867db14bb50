#include "reborn/client.h"

#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/async_dispatcher.h"
#include "command/command_spec.h"
#include "net/sync_client.h"
#include "proxy/cluster_face.h"
#include "reborn/coordinator.h"
#include "reborn/router.h"

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
    return net::SyncClient::Connect(addr.substr(0, colon), port,
                                    options_.timeout, options_.password);
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
    std::string cmd = ToLower(args[0]);
    if (cmd == "mget" || cmd == "mset" || cmd == "del" || cmd == "unlink" ||
        cmd == "exists" || cmd == "touch") {
      return Split(cmd, args);
    }
    if (cmd == "cluster" && args.size() == 3 &&
        EqualsIgnoreCase(args[1], "keyslot")) {
      // Redis Cluster's slot of a key, as reborn-proxy answers it.
      return Reply::Integer(proxy::RedisClusterKeySlot(args[2]));
    }
    const CommandSpec* spec = FindCommandSpec(cmd);
    if (spec != nullptr &&
        (spec->has(kCmdBlocking) || spec->has(kCmdNoProxy) ||
         spec->has(kCmdPubSub) || spec->has(kCmdSlot)) &&
        cmd != "publish") {
      if (!spec->has(kCmdBlocking)) {
        return Reply::Error(absl::StrCat("ERR command '", cmd,
                                         "' is not supported by the client"));
      }
    }
    absl::StatusOr<int> slot = Router::CommandSlot(args);
    if (!slot.ok()) return ErrorFrom(slot.status());
    bool readonly = spec != nullptr && spec->has(kCmdReadOnly);
    auto replies = Send(*slot, {args}, readonly);
    return std::move(replies[0]);
  }

  absl::StatusOr<std::vector<Reply>> ExecuteBatch(
      const std::vector<std::vector<std::string>>& commands) override {
    std::vector<Reply> out(commands.size());
    // Single-slot commands are grouped by slot, and the slots of a server
    // pipelined together; a split or invalid command is a barrier: what came
    // before it is sent first, so every command sees the effects of the
    // ones before it.
    std::map<int, std::vector<size_t>> by_slot;
    auto flush = [&] {
      SendBySlot(commands, by_slot, out);
      by_slot.clear();
    };
    for (size_t i = 0; i < commands.size(); ++i) {
      const auto& args = commands[i];
      if (args.empty()) return absl::InvalidArgumentError("empty command");
      std::string cmd = ToLower(args[0]);
      bool split = cmd == "mget" || cmd == "mset" || cmd == "del" ||
                   cmd == "unlink" || cmd == "exists" || cmd == "touch";
      absl::StatusOr<int> slot = Router::CommandSlot(args);
      if (split || !slot.ok()) {
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
        if (route.ok() && route->state != SlotState::kPreMigrate &&
            route->migrate_from_addr.empty()) {
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
    auto deadline = std::chrono::steady_clock::now() + options_.hold_timeout;
    absl::StatusOr<Route> route;
    for (;;) {
      auto table = source_->Current();
      if (table == nullptr)
        return fail(Reply::Error("CLUSTERDOWN no topology"));
      route = Router::RouteSlot(
          *table, slot, readonly && options_.read_from_replicas, ++pick_);
      if (!route.ok()) return fail(ErrorFrom(route.status()));
      if (route->state != SlotState::kPreMigrate) break;
      if (std::chrono::steady_clock::now() > deadline) {
        return fail(Reply::Error("TRYAGAIN slot is being migrated"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!route->migrate_from_addr.empty()) {
      // Move the keys to the target first (Codis' SLOTSMGRTTAGONE).
      size_t colon = route->addr.rfind(':');
      std::vector<std::vector<std::string>> moves;
      for (const auto& args : batch) {
        for (const auto& key : Router::Keys(args)) {
          moves.push_back({"SLOTSMGRTTAGONE", route->addr.substr(0, colon),
                           route->addr.substr(colon + 1), "3000", key});
        }
      }
      auto moved = Call(route->migrate_from_addr, moves);
      if (!moved.ok()) return fail(ErrorFrom(moved.status()));
      for (const Reply& r : *moved) {
        if (r.is_error()) return fail(r);
      }
    }
    auto replies = Call(route->addr, batch);
    if (!replies.ok()) return fail(ErrorFrom(replies.status()));
    return std::move(*replies);
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

  absl::StatusOr<Reply> Split(const std::string& cmd,
                              const std::vector<std::string>& args) {
    const CommandSpec* spec = FindCommandSpec(cmd);
    bool is_mset = cmd == "mset";
    size_t step = is_mset ? 2 : 1;
    if (!spec->ArityOk(args.size()) || (is_mset && args.size() % 2 == 0)) {
      return Reply::Error(absl::StrCat("ERR wrong number of arguments for '",
                                       cmd, "' command"));
    }
    size_t nkeys = (args.size() - 1) / step;
    std::map<int, std::vector<size_t>> by_slot;
    for (size_t k = 0; k < nkeys; ++k) {
      by_slot[SlotOf(args[1 + k * step])].push_back(k);
    }
    std::vector<Reply> mget(nkeys);
    int64_t sum = 0;
    for (auto& [slot, keys] : by_slot) {
      std::vector<std::string> sub = {args[0]};
      for (size_t k : keys) {
        sub.push_back(args[1 + k * step]);
        if (is_mset) sub.push_back(args[2 + k * step]);
      }
      Reply r = std::move(Send(slot, {sub}, spec->has(kCmdReadOnly))[0]);
      if (r.is_error()) return r;
      if (cmd == "mget") {
        if (r.type != Reply::Type::kArray || r.elements.size() != keys.size()) {
          return Reply::Error("ERR unexpected MGET reply");
        }
        for (size_t j = 0; j < keys.size(); ++j) {
          mget[keys[j]] = std::move(r.elements[j]);
        }
      } else if (!is_mset) {
        sum += r.integer;
      }
    }
    if (cmd == "mget") {
      Reply out;
      out.type = Reply::Type::kArray;
      out.elements = std::move(mget);
      return out;
    }
    if (is_mset) return Reply::Status("OK");
    return Reply::Integer(sum);
  }

  std::shared_ptr<SlotTableSource> source_;
  ClientOptions options_;
  ConnectionPool pool_;
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
