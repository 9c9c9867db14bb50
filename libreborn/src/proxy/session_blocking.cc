// reborn-proxy sessions: blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK,
// ...) parked on a dedicated backend connection, moved when their slot
// moves, and unblocked on timeout or disconnect.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "command/command_table.h"
#include "net/sync_client.h"
#include "proxy/block_timeout.h"
#include "proxy/session.h"
#include "spdlog/spdlog.h"

namespace reborn::proxy {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kUnblocked = "-UNBLOCKED";

}  // namespace

void Session::Blocking(int slot, std::vector<std::string>& args) {
  auto p = NewPending();
  p->command = "blocking";
  if (const CommandSpec* spec = FindCommandSpec(args[0])) {
    p->command = spec->name;
  }
  if (!watching_table_) {
    watching_table_ = true;
    worker_->WatchTable([weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self) return false;
      self->MoveParked();
      return true;
    });
  }
  SendBlocking(slot, args, p, BlockDeadline(args));
}

void Session::SendBlocking(int slot, std::vector<std::string> args,
                           const PendingPtr& p, Clock::time_point deadline) {
  std::vector<std::string> keys = Router::Keys(args);
  WithRoute(
      slot, false, std::move(keys),
      [self = shared_from_this(), p, slot, deadline,
       args = std::move(args)](absl::StatusOr<Route> route) mutable {
        if (!route.ok()) {
          self->Finish(
              p, routing::ErrorReply(std::string(route.status().message())));
          return;
        }
        auto& conn = self->block_conn_;
        if (conn == nullptr || conn->addr() != route->addr) {
          if (conn) conn->Close();
          conn = self->worker_->Dedicated(route->addr);
          self->block_conn_id_ = -1;
          conn->Send(net::EncodeCommand({"CLIENT", "ID"}),
                     [self, c = conn.get()](std::string_view reply) {
                       std::optional<int64_t> id =
                           routing::ParseIntegerReply(reply);
                       if (self->block_conn_.get() == c && id) {
                         self->block_conn_id_ = *id;
                       }
                     });
        }
        const uint64_t generation = ++self->parked_generation_;
        self->entry_->blocked.store(true, std::memory_order_relaxed);
        const std::string encoded = net::EncodeCommand(args);
        self->parked_ = Parked{
            generation, slot, std::move(args), p, route->addr, deadline, false};
        // The command's own timeout plus the backend timeout; one that
        // waits forever is not timed out by the proxy either.
        std::chrono::milliseconds timeout{0};
        const auto backend_timeout =
            absl::ToChronoMilliseconds(self->proxy_->options().backend_timeout);
        if (deadline != Clock::time_point::max() &&
            backend_timeout.count() > 0) {
          timeout = backend_timeout +
                    std::chrono::ceil<std::chrono::milliseconds>(
                        std::max(deadline - Clock::now(), Clock::duration{}));
        }
        conn->Send(
            encoded,
            [self, generation](std::string_view reply) {
              self->OnBlockingReply(generation, reply);
            },
            timeout);
      });
}

void Session::OnBlockingReply(uint64_t generation, std::string_view reply) {
  if (parked_.generation != generation) return;
  Parked parked = std::move(parked_);
  parked_ = Parked{};
  entry_->blocked.store(false, std::memory_order_relaxed);
  if (parked.unblocking && reply.substr(0, kUnblocked.size()) == kUnblocked) {
    SendBlocking(parked.slot,
                 WithRemainingTimeout(std::move(parked.args), parked.deadline),
                 parked.p, parked.deadline);
    return;
  }
  Finish(parked.p, reply);
}

void Session::MoveParked() {
  if (parked_.generation == 0 || parked_.unblocking) return;
  if (const auto& table = worker_->table()) {
    const TableSlot& info = table->slot(parked_.slot);
    const TableGroup* g = table->group(info.group_id);
    if (info.state == SlotState::kOnline && g != nullptr &&
        g->master == parked_.addr) {
      return;  // still served where it waits
    }
  }
  parked_.unblocking = true;
  SendUnblock(parked_.generation, 50);
}

// CLIENT UNBLOCK at the server the command waits on. ":0" means the server
// had not parked it yet, or already answered: ask again a little later
// while no reply came (bounded: 50 tries, 5 s).
void Session::SendUnblock(uint64_t generation, int attempts_left) {
  if (parked_.generation != generation || attempts_left == 0) return;
  if (block_conn_id_ < 0) {  // its CLIENT ID is not back yet
    RetryUnblockLater(generation, attempts_left - 1);
    return;
  }
  worker_->Pooled(parked_.addr, id_)
      .Send(net::EncodeCommand(
                {"CLIENT", "UNBLOCK", absl::StrCat(block_conn_id_), "ERROR"}),
            [self = shared_from_this(), generation,
             attempts_left](std::string_view reply) {
              if (routing::ParseIntegerReply(reply) == 0) {
                self->RetryUnblockLater(generation, attempts_left - 1);
              }
            });
}

void Session::RetryUnblockLater(uint64_t generation, int attempts_left) {
  if (!unblock_retry_) {
    unblock_retry_ = std::make_unique<asio::steady_timer>(worker_->io());
  }
  unblock_retry_->expires_after(std::chrono::milliseconds(100));
  unblock_retry_->async_wait([weak = weak_from_this(), generation,
                              attempts_left](const asio::error_code& ec) {
    if (auto self = weak.lock(); !ec && self) {
      self->SendUnblock(generation, attempts_left);
    }
  });
}

// ---------------------------------------------------------------- local

}  // namespace reborn::proxy
