// Blocking list and sorted-set commands. Each is its non-blocking sibling
// (BLPOP -> LPOP, BLMOVE -> LMOVE, BZPOPMIN -> ZPOPMIN, BLMPOP -> LMPOP, ...)
// run by a waiter that the BlockingRegistry serves when a write touches one
// of its keys, with redis-server 7.0's replies, timeouts and FIFO order.
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "qdb/numbers.h"
#include "server/blocking.h"
#include "server/qdb_server_impl.h"
#include "server/write_effect.h"

namespace reborn::server {
namespace {

bool IsNil(const std::string& reply) {
  return reply == "$-1\r\n" || reply == "*-1\r\n" || reply == "_\r\n";
}

// The timeout argument in seconds (decimals allowed) as milliseconds;
// 0 waits forever. As redis-server 7.0: strtold (so "inf" and hex parse),
// then ceil(seconds * 1000) as a long long, where a value past its range
// (x86 gives LLONG_MIN) is "negative"; a deadline past the clock's range is
// "out of range". Waits longer than kForeverMs are waits forever.
bool ParseTimeout(const std::string& text, int64_t* ms, std::string* error) {
  long double seconds = 0;
  if (!qdb::ParseLongDouble(text, &seconds)) {
    *error = "ERR timeout is not a float or out of range";
    return false;
  }
  constexpr long double kLongLongRange = 9223372036854775808.0L;  // 2^63
  const long double millis = std::ceil(seconds * 1000.0L);
  if (!(millis < kLongLongRange) || millis < 0) {
    *error = "ERR timeout is negative";
    return false;
  }
  *ms = static_cast<int64_t>(millis);
  if (*ms > INT64_MAX - absl::ToUnixMillis(absl::Now())) {
    *error = "ERR timeout is out of range";
    return false;
  }
  constexpr int64_t kForeverMs = int64_t{100} * 365 * 24 * 3600 * 1000;
  if (*ms > kForeverMs) *ms = 0;
  return true;
}

struct BlockingForm {
  const char* name;
  const char* inner;  // the non-blocking command it runs
  enum Shape { kKeyValue, kRaw, kKeyMemberScore } shape;
};

constexpr BlockingForm kForms[] = {
    {"blpop", "lpop", BlockingForm::kKeyValue},
    {"brpop", "rpop", BlockingForm::kKeyValue},
    {"brpoplpush", "rpoplpush", BlockingForm::kRaw},
    {"blmove", "lmove", BlockingForm::kRaw},
    {"blmpop", "lmpop", BlockingForm::kRaw},
    {"bzpopmin", "zpopmin", BlockingForm::kKeyMemberScore},
    {"bzpopmax", "zpopmax", BlockingForm::kKeyMemberScore},
    {"bzmpop", "zmpop", BlockingForm::kRaw},
};

}  // namespace

std::string QdbServerImpl::RunInternal(int db, int protocol,
                                       std::vector<std::string> args,
                                       uint64_t client, bool exec_held) {
  const CommandTable::Entry* entry = table_.Find(args[0]);
  if (entry == nullptr) return "-ERR unknown command\r\n";
  std::string out;
  resp::ReplyWriter writer(&out, protocol);
  Session internal;
  internal.db = db;
  internal.protocol = protocol;
  if (exec_held) {
    internal.txn = std::make_shared<TransactionState>();
    internal.txn->executing = true;
  }
  CommandContext ctx{internal, *entry->spec, args, writer};
  const bool notify = entry->spec->has(kCmdWrite) && notifications_.enabled();
  auto run_internal = [this](int d, std::vector<std::string> a) {
    return RunInternal(d, 2, std::move(a));
  };
  Notifications::Before before;
  if (notify)
    before = notifications_.Probe(db, *entry->spec, args, run_internal);
  const int64_t flushed_keys = KeysToFlush(*entry->spec, args, db);
  entry->handler(ctx);
  const std::optional<int64_t> own_changes = internal.changes;
  if (!out.empty() && out[0] != '-') {
    CountChanges(*entry->spec, args, out, own_changes, flushed_keys);
  }
  // A write that changed nothing (a blocked client's LMOVE of a list still
  // empty) is not notified, propagated, nor seen by WATCH and tracking: the
  // waiter's own destination is invalidated only once something moved,
  // after its reply.
  if ((own_changes && *own_changes == 0) ||
      WriteChangedNothing(entry->spec->name, out)) {
    if (notify && !out.empty() && out[0] != '-') {
      notifications_.AfterUnchangedWrite(db, before, run_internal);
    }
    return out;
  }
  if (notify && !out.empty() && out[0] != '-') {
    notifications_.AfterWrite(db, *entry->spec, args, out, before,
                              run_internal);
  }
  if (!out.empty() && out[0] != '-' && entry->spec->has(kCmdWrite)) {
    if (internal.effects) {
      for (const auto& effect : *internal.effects) {
        repl_->Record(db, effect, "+OK\r\n");
      }
    } else {
      repl_->Record(db, args, out);
    }
    if (!watches_.empty()) TouchWatchedKeys(internal, *entry->spec, args, {});
    if (tracking_->busy()) {
      // No client wrote it (the master's stream, a blocked client served):
      // nobody's NOLOOP applies and BCAST messages go out at once.
      if (entry->spec->name == "flushall" || entry->spec->name == "flushdb") {
        tracking_->InvalidateAll(client);
      } else {
        tracking_->InvalidateWrite(*entry->spec, args, client);
      }
      tracking_->FlushBroadcast();
    }
  }
  return out;
}

void QdbServerImpl::Blocking(CommandContext& ctx) {
  auto& args = ctx.args;
  const std::string name = absl::AsciiStrToLower(args[0]);
  const BlockingForm* form = nullptr;
  for (const auto& f : kForms) {
    if (name == f.name) form = &f;
  }
  // Where the timeout is, and which arguments are the keys to wait on.
  size_t timeout_at;
  std::vector<std::string> keys;
  std::vector<std::string> inner_tail;  // arguments of the inner command
  if (name == "blmpop" || name == "bzmpop") {
    timeout_at = 1;
    inner_tail.assign(args.begin() + 2, args.end());
    int64_t numkeys = 0;
    if (absl::SimpleAtoi(args[2], &numkeys) && numkeys > 0 &&
        static_cast<size_t>(numkeys) + 3 <= args.size()) {
      keys.assign(args.begin() + 3, args.begin() + 3 + numkeys);
    }
  } else {
    timeout_at = args.size() - 1;
    inner_tail.assign(args.begin() + 1, args.end() - 1);
    if (form->shape == BlockingForm::kRaw) {
      keys = {args[1]};  // BRPOPLPUSH / BLMOVE wait on the source
    } else {
      keys = inner_tail;
    }
  }
  int64_t timeout_ms = 0;
  std::string error;
  if (!ParseTimeout(args[timeout_at], &timeout_ms, &error)) {
    ctx.reply.Error(error);
    return;
  }

  auto waiter = std::make_shared<BlockingRegistry::Waiter>();
  waiter->db = ctx.session.db;
  waiter->keys = keys;
  const int db = ctx.session.db;
  const int protocol = ctx.session.protocol;
  const uint64_t id = ctx.session.id;
  waiter->try_serve = [this, form, db, protocol, keys, inner_tail, id](
                          bool first, std::string* reply, std::string* also) {
    if (form->shape == BlockingForm::kRaw) {
      std::vector<std::string> inner = {form->inner};
      inner.insert(inner.end(), inner_tail.begin(), inner_tail.end());
      std::string out = RunInternal(db, protocol, inner, id);
      if (IsNil(out)) return false;
      bool moves = form->inner == std::string_view("lmove") ||
                   form->inner == std::string_view("rpoplpush");
      if (!first && out[0] == '-') {
        // A source that turned into another type is skipped; but when the
        // source is a list the error is the destination's (WRONGTYPE), and
        // Redis gives it to the waiter, leaving the element in place.
        if (!moves ||
            RunInternal(db, protocol, {"type", inner_tail[0]}) != "+list\r\n") {
          return false;
        }
      }
      *reply = std::move(out);
      if (moves && reply->front() != '-') *also = inner_tail[1];
      return true;
    }
    for (const auto& key : keys) {
      std::string out = RunInternal(db, protocol, {form->inner, key}, id);
      if (out[0] == '-') {
        if (!first) continue;
        *reply = std::move(out);
        return true;
      }
      std::string encoded;
      resp::ReplyWriter w(&encoded, protocol);
      if (form->shape == BlockingForm::kKeyValue) {
        if (IsNil(out)) continue;
        w.ArrayHeader(2);
        w.Bulk(key);
        w.Raw(out);
      } else {
        if (out == "*0\r\n") continue;  // ZPOPMIN of a missing key
        // "*2\r\n<member><score>" -> [key, member, score]
        w.ArrayHeader(3);
        w.Bulk(key);
        w.Raw(std::string_view(out).substr(out.find('\n') + 1));
      }
      *reply = std::move(encoded);
      return true;
    }
    return false;
  };

  waiter->after_serve = [this, id] { tracking_->FlushPending(id); };
  std::string null_array;
  resp::ReplyWriter(&null_array, protocol).NullArray();
  // Inside EXEC a blocking command never blocks: it times out at once.
  bool may_park = !(ctx.session.txn && ctx.session.txn->executing);
  waiter->reply = std::make_shared<DeferredReply>(timeout_ms, null_array);
  std::weak_ptr<BlockingRegistry::Waiter> weak = waiter;
  waiter->reply->OnAbandon([this, weak] {
    if (auto w = weak.lock()) blocking_.Remove(w.get());
  });
  std::string reply;
  if (blocking_.ServeOrPark(waiter, may_park, &reply)) {
    ctx.reply.Raw(reply);
    return;
  }
  if (!may_park) {
    ctx.reply.Raw(null_array);
    return;
  }
  ctx.session.deferred = waiter->reply;
}

}  // namespace reborn::server
