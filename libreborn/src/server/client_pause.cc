#include "server/client_pause.h"

#include <limits>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"

namespace reborn::server {
namespace {

int64_t NowMs() { return absl::GetCurrentTimeNanos() / 1000000; }

}  // namespace

bool ClientPause::MayReplicate(const CommandSpec& spec) {
  return spec.has(kCmdWrite) || spec.name == "eval" || spec.name == "evalsha" ||
         spec.name == "fcall" || spec.name == "publish" ||
         spec.name == "spublish" || spec.name == "pfcount";
}

ClientPause::Type ClientPause::CurrentLocked(int64_t now_ms) {
  if (type_ != kNone && now_ms >= end_ms_) ReleaseLocked();
  return type_;
}

void ClientPause::ReleaseLocked() {
  type_ = kNone;
  end_ms_ = 0;
  active_.store(false, std::memory_order_relaxed);
  std::vector<std::weak_ptr<DeferredReply>> parked;
  parked.swap(parked_);
  // Each parked client runs its command again on its own thread.
  for (const auto& weak : parked) {
    if (auto reply = weak.lock()) reply->Complete("");
  }
}

void ClientPause::PauseCommand(CommandContext& ctx) {
  const auto& args = ctx.args;
  Type type = kAll;
  if (args.size() == 4) {
    if (EqualsIgnoreCase(args[3], "write")) {
      type = kWrite;
    } else if (!EqualsIgnoreCase(args[3], "all")) {
      ctx.reply.Error("ERR CLIENT PAUSE mode must be WRITE or ALL");
      return;
    }
  }
  int64_t timeout = 0;
  if (!absl::SimpleAtoi(args[2], &timeout)) {
    ctx.reply.Error("ERR timeout is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    ctx.reply.Error("ERR timeout is negative");
    return;
  }
  const int64_t now = NowMs();
  if (timeout > std::numeric_limits<int64_t>::max() - now) {
    ctx.reply.Error("ERR timeout is out of range");
    return;
  }
  const int64_t end = now + timeout;
  absl::MutexLock lock(&mu_);
  // A second pause can only make it stricter and longer (Redis 7.0).
  if (CurrentLocked(now) == kNone) {
    type_ = type;
    end_ms_ = end;
  } else {
    if (type > type_) type_ = type;
    if (end > end_ms_) end_ms_ = end;
  }
  active_.store(type_ != kNone, std::memory_order_relaxed);
  ctx.reply.Ok();
}

void ClientPause::Unpause() {
  absl::MutexLock lock(&mu_);
  ReleaseLocked();
}

bool ClientPause::Postpone(Session& session, bool writes) {
  if (!active_.load(std::memory_order_relaxed) || session.push) return false;
  const int64_t now = NowMs();
  absl::MutexLock lock(&mu_);
  const Type type = CurrentLocked(now);
  if (type == kNone || (type == kWrite && !writes)) {
    return false;
  }
  // Timed out at the end of the pause: the command then runs again (and
  // parks again if the pause was extended meanwhile).
  auto reply =
      std::make_shared<DeferredReply>(std::max<int64_t>(1, end_ms_ - now), "");
  reply->set_retry(true);
  parked_.push_back(reply);
  session.deferred = std::move(reply);
  return true;
}

}  // namespace reborn::server
