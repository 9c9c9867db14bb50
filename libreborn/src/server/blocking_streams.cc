// XREAD and XREADGROUP with BLOCK: the engine serves what is there
// (qdb::XReadCommand); when nothing is and BLOCK was given, the client waits
// in the BlockingRegistry on its streams, and each write to one of them runs
// the read again for that stream, as redis-server 7.0 serves clients blocked
// on stream keys (blocked.c).
#include "qdb/commands/cmd_streams.h"
#include "qdb/engine_access.h"
#include "server/blocking.h"
#include "server/qdb_server_impl.h"
#include "server/transactions.h"

namespace reborn::server {
namespace {

bool IsNilReply(const std::string& reply) {
  return reply == "*-1\r\n" || reply == "_\r\n" || reply == "$-1\r\n";
}

}  // namespace

void QdbServerImpl::StreamRead(CommandContext& ctx, bool group) {
  qdb::StreamWait wait;
  qdb::XReadCommand(qdb::CoreOf(*engine_), ctx, group, &wait);
  if (!wait.block) return;
  const int db = ctx.session.db;
  const int protocol = ctx.session.protocol;
  std::string null_array;
  resp::ReplyWriter(&null_array, protocol).NullArray();
  // Inside EXEC a blocking command never blocks: it times out at once.
  if (ctx.session.txn && ctx.session.txn->executing) {
    ctx.reply.Raw(null_array);
    return;
  }
  auto waiter = std::make_shared<BlockingRegistry::Waiter>();
  waiter->db = db;
  waiter->keys = wait.keys;
  waiter->serve_all = true;
  waiter->try_serve = [this, db, protocol, group, wait](
                          bool first, std::string* reply, std::string*) {
    const std::string count = std::to_string(wait.count);
    for (size_t k = 0; k < wait.keys.size(); ++k) {
      const std::string& key = wait.keys[k];
      std::vector<std::string> read;
      if (group) {
        // A deleted stream or group ends the wait with an error.
        if (!first &&
            RunInternal(db, protocol, {"type", key}) != "+stream\r\n") {
          *reply = "-UNBLOCKED the stream key no longer exists\r\n";
          return true;
        }
        read = {"xreadgroup",  "GROUP", wait.group,
                wait.consumer, "COUNT", count};
        if (wait.noack) read.push_back("NOACK");
        read.insert(read.end(), {"STREAMS", key, ">"});
      } else {
        read = {"xread", "COUNT", count, "STREAMS", key, wait.ids[k]};
      }
      std::string out = RunInternal(db, protocol, std::move(read));
      if (out.rfind("-NOGROUP", 0) == 0) {
        if (first) continue;
        *reply =
            "-NOGROUP the consumer group this client was blocked on no "
            "longer exists\r\n";
        return true;
      }
      // XREAD skips a key that is no stream any more (an XREADGROUP waiter
      // got UNBLOCKED above).
      if (out[0] == '-') continue;
      if (IsNilReply(out)) continue;
      *reply = std::move(out);
      return true;
    }
    return false;
  };
  waiter->reply = std::make_shared<DeferredReply>(wait.timeout_ms, null_array);
  std::weak_ptr<BlockingRegistry::Waiter> weak = waiter;
  waiter->reply->OnAbandon([this, weak] {
    if (auto w = weak.lock()) blocking_.Remove(w.get());
  });
  std::string reply;
  if (blocking_.ServeOrPark(waiter, /*may_park=*/true, &reply)) {
    ctx.reply.Raw(reply);
    return;
  }
  ctx.session.deferred = waiter->reply;
}

}  // namespace reborn::server
