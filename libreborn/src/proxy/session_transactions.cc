// reborn-proxy sessions: MULTI/EXEC/DISCARD/WATCH/UNWATCH/RESET, run on
// one backend connection of the group the transaction's keys live in. The
// keys may span slots as long as those slots live on one group: the group
// runs the transaction atomically (Redis Cluster would say CROSSSLOT).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "command/command_table.h"
#include "net/sync_client.h"
#include "proxy/session.h"
#include "reborn/slot.h"
#include "spdlog/spdlog.h"

namespace reborn::proxy {

void Session::Watch(std::vector<std::string>& args) {
  if (in_multi_) {
    ReplyError("ERR WATCH inside MULTI is not allowed");
    return;
  }
  if (worker_->table() == nullptr) {
    ReplyError(Router::kNoTopologyError);
    return;
  }
  std::vector<std::string> keys = Router::Keys(args);
  if (std::string error = JoinTx(Router::CommandSlot(args), keys);
      !error.empty()) {
    ReplyError(error);
    return;
  }
  watching_ = true;
  auto p = NewPending();
  p->command = "watch";
  // Keys of other slots are on the same server (JoinTx); a migrating
  // slot's keys are moved before they are watched.
  auto slots = std::make_shared<std::vector<int>>();
  for (const std::string& k : keys) {
    if (std::find(slots->begin(), slots->end(), SlotOf(k)) == slots->end()) {
      slots->push_back(SlotOf(k));
    }
  }
  RouteTxSlots(
      std::move(slots), 0,
      std::make_shared<std::vector<std::string>>(std::move(keys)), "",
      [self = shared_from_this(), p,
       encoded = net::EncodeCommand(args)](absl::StatusOr<Route> route) {
        if (!route.ok()) {
          self->Finish(
              p, routing::ErrorReply(std::string(route.status().message())));
          return;
        }
        self->UseTxConnection(route->addr);
        self->tx_watched_ = true;
        self->tx_conn_->Send(encoded, [self, p](std::string_view reply) {
          self->Finish(p, reply);
        });
      });
}

std::string Session::JoinTx(const absl::StatusOr<int>& slot,
                            const std::vector<std::string>& keys) {
  std::string error =
      slot.ok() ? TxSlotError(*slot) : std::string(slot.status().message());
  if (error.empty() && slot.ok()) AddTxSlot(*slot);
  if (!slot.ok() && error == Router::kCrossSlotError) {
    // One command's keys in several slots of one group run there too.
    error.clear();
    for (const std::string& key : keys) {
      error = TxSlotError(SlotOf(key));
      if (!error.empty()) break;
      AddTxSlot(SlotOf(key));
    }
  }
  return error;
}

void Session::AddTxSlot(int slot) {
  if (slot >= 0 &&
      std::find(tx_slots_.begin(), tx_slots_.end(), slot) == tx_slots_.end()) {
    tx_slots_.push_back(slot);
  }
}

std::string Session::TxSlotError(int slot) const {
  if (slot < 0 || tx_slots_.empty() ||
      std::find(tx_slots_.begin(), tx_slots_.end(), slot) != tx_slots_.end()) {
    return "";
  }
  // A group runs MULTI/EXEC atomically whatever the keys' slots: slots that
  // live on one group (where a migrating slot's keys go) may share it.
  absl::StatusOr<Route> first = CurrentRoute(tx_slots_.front(), false);
  absl::StatusOr<Route> here = CurrentRoute(slot, false);
  if (!first.ok()) return std::string(first.status().message());
  if (!here.ok()) return std::string(here.status().message());
  return first->addr == here->addr ? "" : Router::kCrossSlotError;
}

void Session::RouteTxSlots(std::shared_ptr<std::vector<int>> slots, size_t next,
                           std::shared_ptr<std::vector<std::string>> keys,
                           std::string addr, RouteCallback then) {
  if (next == slots->size()) {
    Route route;
    route.slot = slots->front();
    route.addr = std::move(addr);
    then(std::move(route));
    return;
  }
  const int slot = (*slots)[next];
  std::vector<std::string> slot_keys;
  if (slot >= 0) {
    for (const std::string& k : *keys) {
      if (SlotOf(k) == slot) slot_keys.push_back(k);
    }
  }
  WithRoute(
      slot, false, std::move(slot_keys),
      [self = shared_from_this(), slots, next, keys, addr = std::move(addr),
       then = std::move(then)](absl::StatusOr<Route> route) mutable {
        if (!route.ok()) {
          then(std::move(route));
          return;
        }
        if (!addr.empty() && route->addr != addr) {
          // A slot moved to another group since it was queued.
          then(absl::UnavailableError(
              "TRYAGAIN Multiple keys request during rehashing of "
              "slot"));
          return;
        }
        self->RouteTxSlots(slots, next + 1, keys, route->addr, std::move(then));
      });
}

void Session::UseTxConnection(const std::string& addr) {
  if (tx_conn_ != nullptr && tx_conn_->addr() == addr) return;
  if (tx_conn_ != nullptr) {
    // Keys watched on the old server moved away (their slot migrated): to
    // the transaction that is a change, so its EXEC must fail.
    if (tx_watched_) watch_broken_ = true;
    tx_conn_->Close();
  }
  tx_watched_ = false;
  tx_conn_ = worker_->Dedicated(addr);
}

void Session::QueueInMulti(const CommandSpec* spec,
                           std::vector<std::string>& args) {
  if (spec == nullptr) {
    multi_dirty_ = true;
    ReplyError(UnknownCommandError(args));
    return;
  }
  if (!spec->ArityOk(args.size())) {
    multi_dirty_ = true;
    ReplyError(WrongArityError(spec->name));
    return;
  }
  if (spec->has(kCmdNoProxy) || spec->has(kCmdPubSub) || spec->has(kCmdSlot)) {
    multi_dirty_ = true;
    ReplyError(spec->has(kCmdPubSub)
                   ? absl::StrCat(
                         "ERR ", absl::AsciiStrToUpper(std::string(spec->name)),
                         " is not supported by reborn-proxy: not "
                         "inside MULTI (Pub/Sub has its own backend "
                         "connection)")
                   : Router::NotSupportedError(spec->name, RouterFace::kProxy));
    return;
  }
  absl::StatusOr<int> slot = Router::CommandSlot(args);
  std::vector<std::string> keys = Router::Keys(args);
  if (std::string error = JoinTx(slot, keys); !error.empty()) {
    multi_dirty_ = true;
    ReplyError(error);
    return;
  }
  for (std::string& key : keys) multi_keys_.push_back(std::move(key));
  multi_queue_.push_back(net::EncodeCommand(args));
  multi_kinds_.push_back(Resp3KindOf(args));
  Reply("+QUEUED\r\n");
}

void Session::ResetTransaction() {
  in_multi_ = false;
  multi_dirty_ = false;
  watching_ = false;
  tx_slots_.clear();
  multi_queue_.clear();
  multi_keys_.clear();
  multi_kinds_.clear();
}

void Session::Exec() {
  if (!in_multi_) {
    ReplyError("ERR EXEC without MULTI");
    return;
  }
  if (multi_dirty_) {
    Unwatch();
    ResetTransaction();
    ReplyError("EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  auto p = NewPending();
  p->command = "exec";
  p->exec_kinds =
      std::make_shared<const std::vector<Resp3Kind>>(std::move(multi_kinds_));
  std::string batch = net::EncodeCommand({"MULTI"});
  for (const std::string& c : multi_queue_) batch += c;
  size_t queued = multi_queue_.size();
  auto slots = std::make_shared<std::vector<int>>(std::move(tx_slots_));
  if (slots->empty()) slots->push_back(-1);  // no keys: any group
  auto keys =
      std::make_shared<std::vector<std::string>>(std::move(multi_keys_));
  ResetTransaction();
  RouteTxSlots(
      std::move(slots), 0, std::move(keys), "",
      [self = shared_from_this(), p, batch = std::move(batch),
       queued](absl::StatusOr<Route> route) {
        if (!route.ok()) {
          self->Finish(
              p, routing::ErrorReply(std::string(route.status().message())));
          return;
        }
        self->UseTxConnection(route->addr);
        if (self->watch_broken_) {
          self->watch_broken_ = false;
          self->tx_watched_ = false;
          self->Finish(p, "*-1\r\n");  // as when a watched key changed
          return;
        }
        self->tx_watched_ = false;  // EXEC unwatches
        // The replies of MULTI and of the queued commands (+OK, +QUEUED)
        // were given by the proxy already; only EXEC's is relayed.
        for (size_t i = 0; i <= queued; ++i) {
          self->tx_conn_->Send(
              i == 0 ? std::string_view(batch) : std::string_view(), nullptr);
        }
        self->tx_conn_->Send(
            net::EncodeCommand({"EXEC"}),
            [self, p](std::string_view reply) { self->Finish(p, reply); });
      });
}

void Session::Discard() {
  if (!in_multi_) {
    ReplyError("ERR DISCARD without MULTI");
    return;
  }
  Unwatch();
  ResetTransaction();
  Reply("+OK\r\n");
}

void Session::Unwatch() {
  if (watching_ && tx_conn_) {
    tx_conn_->Send(net::EncodeCommand({"UNWATCH"}), nullptr);
  }
  watching_ = false;
  tx_watched_ = false;
  watch_broken_ = false;
}

void Session::Reset() {
  Unwatch();
  ResetTransaction();
  DropSubscriptions();  // RESET confirms nothing more than +RESET
  authed_ = proxy_->options().requirepass.empty();
  resp3_ = false;
  entry_->protocol.store(2, std::memory_order_relaxed);
  name_.clear();
  entry_->set_name("");
  Reply("+RESET\r\n");
}

}  // namespace reborn::proxy
