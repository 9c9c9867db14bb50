// reborn-proxy sessions: MULTI/EXEC/DISCARD/WATCH/UNWATCH/RESET, run on
// one backend connection of the group the transaction's keys live in.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "command/command_table.h"
#include "net/sync_client.h"
#include "proxy/session.h"
#include "spdlog/spdlog.h"

namespace reborn::proxy {

void Session::Watch(std::vector<std::string>& args) {
  if (in_multi_) {
    ReplyError("ERR WATCH inside MULTI is not allowed");
    return;
  }
  absl::StatusOr<int> slot = Router::CommandSlot(args);
  if (!slot.ok()) {
    ReplyError(std::string(slot.status().message()));
    return;
  }
  if (tx_slot_ >= 0 && *slot != tx_slot_) {
    ReplyError(Router::kCrossSlotError);
    return;
  }
  const auto& table = worker_->table();
  absl::StatusOr<Route> route =
      table ? Router::RouteSlot(*table, *slot)
            : absl::UnavailableError(Router::kNoTopologyError);
  if (!route.ok()) {
    ReplyError(std::string(route.status().message()));
    return;
  }
  tx_slot_ = *slot;
  watching_ = true;
  auto p = NewPending();
  p->command = "watch";
  WithRoute(*slot, false, Router::Keys(args),
            [self = shared_from_this(), p,
             encoded = net::EncodeCommand(args)](absl::StatusOr<Route> route) {
              if (!route.ok()) {
                self->Finish(p, routing::ErrorReply(
                                    std::string(route.status().message())));
                return;
              }
              self->UseTxConnection(route->addr);
              self->tx_watched_ = true;
              self->tx_conn_->Send(encoded, [self, p](std::string_view reply) {
                self->Finish(p, reply);
              });
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
  if (!slot.ok() || (*slot >= 0 && tx_slot_ >= 0 && *slot != tx_slot_)) {
    multi_dirty_ = true;
    ReplyError(slot.ok() ? std::string(Router::kCrossSlotError)
                         : std::string(std::string(slot.status().message())));
    return;
  }
  if (*slot >= 0) tx_slot_ = *slot;
  for (std::string& key : Router::Keys(args)) {
    multi_keys_.push_back(std::move(key));
  }
  multi_queue_.push_back(net::EncodeCommand(args));
  multi_kinds_.push_back(Resp3KindOf(args));
  Reply("+QUEUED\r\n");
}

void Session::ResetTransaction() {
  in_multi_ = false;
  multi_dirty_ = false;
  watching_ = false;
  tx_slot_ = -1;
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
  int slot = tx_slot_;
  std::vector<std::string> keys = std::move(multi_keys_);
  ResetTransaction();
  WithRoute(
      slot, false, std::move(keys),
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
