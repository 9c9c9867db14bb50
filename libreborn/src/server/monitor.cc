#include "server/monitor.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/slowlog.h"
#include "server/transactions.h"
#include "util/repr.h"

namespace reborn::server {

void Monitors::Start(CommandContext& ctx) {
  Session& session = ctx.session;
  if ((session.txn && session.txn->executing) || session.script) {
    ctx.reply.Error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    return;
  }
  if (!session.messages) {
    ctx.reply.Error("ERR MONITOR needs a client connection");
    return;
  }
  absl::MutexLock lock(&mu_);
  for (const Monitor& m : monitors_) {
    if (m.id == session.id) return;  // already monitoring: Redis says nothing
  }
  monitors_.push_back({session.id, session.messages});
  count_.store(monitors_.size(), std::memory_order_relaxed);
  ctx.reply.Ok();
}

void Monitors::Stop(Session& session) {
  if (!active()) return;
  absl::MutexLock lock(&mu_);
  monitors_.erase(
      std::remove_if(monitors_.begin(), monitors_.end(),
                     [&](const Monitor& m) { return m.id == session.id; }),
      monitors_.end());
  count_.store(monitors_.size(), std::memory_order_relaxed);
}

bool Monitors::ShownBefore(const CommandSpec& spec) {
  return spec.name == "eval" || spec.name == "evalsha" ||
         spec.name == "eval_ro" || spec.name == "evalsha_ro" ||
         spec.name == "fcall" || spec.name == "fcall_ro";
}

bool Monitors::ShownAfter(const CommandSpec& spec,
                          const std::vector<std::string>& args) {
  const CommandSpec* sub = FindSubcommandSpec(spec, args);
  return !(sub != nullptr ? *sub : spec).has(kCmdAdmin) && !ShownBefore(spec);
}

void Monitors::Feed(const Session& session, int db, const CommandSpec& spec,
                    const std::vector<std::string>& args) {
  if (!active()) return;
  const int64_t us = absl::GetCurrentTimeNanos() / 1000;
  char stamp[40];
  std::snprintf(stamp, sizeof(stamp), "+%ld.%06ld ",
                static_cast<long>(us / 1000000),
                static_cast<long>(us % 1000000));
  std::string line = stamp;
  if (session.script) {
    absl::StrAppend(&line, "[", db, " lua]");
  } else {
    absl::StrAppend(&line, "[", db, " ", session.peer, "]");
  }
  std::vector<size_t> redacted;
  RedactedArgs(spec, args, &redacted);
  for (size_t i = 0; i < args.size(); ++i) {
    line.push_back(' ');
    if (std::find(redacted.begin(), redacted.end(), i) != redacted.end()) {
      line += "\"(redacted)\"";
    } else {
      line += QuotedRepr(args[i]);
    }
  }
  line += "\r\n";
  absl::MutexLock lock(&mu_);
  for (const Monitor& m : monitors_) m.out->Push(line);
}

}  // namespace reborn::server
