// MULTI / EXEC / DISCARD / WATCH / UNWATCH with redis-server 7.0 semantics:
// commands queue after MULTI (a command that fails to queue makes EXEC answer
// EXECABORT), EXEC runs them while holding exec_mu_ exclusively (atomic with
// respect to every other client), and a write to a WATCHed key by any client
// - or the expiry of a watched key - makes EXEC answer a null array.
#include "server/transactions.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <utility>

#include "server/qdb_server_impl.h"

namespace reborn::server {
namespace {

TransactionState& StateOf(Session& session) {
  if (!session.txn) session.txn = std::make_shared<TransactionState>();
  return *session.txn;
}

}  // namespace

void QdbServerImpl::ResetTransaction(Session& session) {
  if (!session.txn) return;
  TransactionState& txn = *session.txn;
  watches_.UnwatchAll(txn);
  txn.in_multi = false;
  txn.aborted = false;
  txn.queued.clear();
  txn.dirty->store(false);
}

void QdbServerImpl::Multi(CommandContext& ctx) {
  TransactionState& txn = StateOf(ctx.session);
  if (txn.in_multi) {
    ctx.reply.Error("ERR MULTI calls can not be nested");
    return;
  }
  txn.in_multi = true;
  ctx.reply.Ok();
}

void QdbServerImpl::Discard(CommandContext& ctx) {
  if (!ctx.session.txn || !ctx.session.txn->in_multi) {
    ctx.reply.Error("ERR DISCARD without MULTI");
    return;
  }
  ResetTransaction(ctx.session);
  ctx.reply.Ok();
}

void QdbServerImpl::Watch(CommandContext& ctx) {
  TransactionState& txn = StateOf(ctx.session);
  if (txn.in_multi) {
    ctx.reply.Error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    const std::string& key = ctx.args[i];
    bool known = false;
    for (const auto& w : txn.watched) {
      known = known || (w.db == ctx.session.db && w.key == key);
    }
    if (known) continue;
    // A positive PTTL now means the key may expire before EXEC.
    std::string pttl = RunInternal(ctx.session.db, 2, {"pttl", key});
    bool had_ttl = pttl.size() > 1 && pttl[0] == ':' && pttl[1] != '-';
    txn.watched.push_back({ctx.session.db, key, had_ttl});
    watches_.Watch(ctx.session.db, key, txn.dirty);
  }
  ctx.reply.Ok();
}

void QdbServerImpl::Unwatch(CommandContext& ctx) {
  if (ctx.session.txn) {
    watches_.UnwatchAll(*ctx.session.txn);
    ctx.session.txn->dirty->store(false);
  }
  ctx.reply.Ok();
}

void QdbServerImpl::Exec(CommandContext& ctx) {
  Session& session = ctx.session;
  if (!session.txn || !session.txn->in_multi) {
    ctx.reply.Error("ERR EXEC without MULTI");
    return;
  }
  TransactionState& txn = *session.txn;
  if (txn.aborted) {
    ResetTransaction(session);
    ctx.reply.Error(
        "EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  std::vector<std::vector<std::string>> queued = std::move(txn.queued);
  auto is_replicaof = [](const std::vector<std::string>& args) {
    return EqualsIgnoreCase(args[0], "replicaof") ||
           EqualsIgnoreCase(args[0], "slaveof");
  };
  const bool changes_role =
      std::any_of(queued.begin(), queued.end(), is_replicaof);
  // The link thread applies the master's stream under exec_mu_: stopped
  // first, so nothing of the old master lands after the role changed. It is
  // started again (to the master the transaction left, if any) below.
  if (changes_role) repl_->StopLink();
  std::unique_lock lock(exec_mu_);
  bool dirty = txn.dirty->load();
  for (const auto& w : txn.watched) {
    if (dirty) break;
    dirty = w.had_ttl && RunInternal(w.db, 2, {"exists", w.key}) == ":0\r\n";
  }
  ResetTransaction(session);
  if (dirty) {
    ctx.reply.NullArray();
    if (changes_role) {
      lock.unlock();
      repl_->ResumeLink();
    }
    return;
  }
  ctx.reply.ArrayHeader(queued.size());
  {
    std::optional<Replication::Scope> scope;
    scope.emplace(*repl_, /*transaction=*/true);
    txn.executing = true;
    for (auto& args : queued) {
      const CommandTable::Entry* entry = table_.Find(args[0]);
      if (std::string denied = AclExecError(session, *entry->spec, args);
          !denied.empty()) {
        ctx.reply.Error(denied);
        error_stats_.Count(denied);
        continue;
      }
      if (is_replicaof(args)) {
        // The Scope holds the replication lock the role change takes; a
        // new one collects what follows (nothing if now a replica).
        scope.reset();
        Run(session, *entry, args, ctx.reply);
        scope.emplace(*repl_, /*transaction=*/true);
        continue;
      }
      Run(session, *entry, args, ctx.reply);
    }
    txn.executing = false;
  }
  // As in Redis, clients blocked on keys the transaction filled are served
  // once it is whole (still under exec_mu_: nobody runs in between); their
  // pops replicate after the transaction.
  Replication::Scope scope(*repl_, /*transaction=*/false);
  for (const auto& [db, key] : std::exchange(txn.to_signal, {})) {
    blocking_.Signal(db, key);
  }
  if (changes_role) {
    lock.unlock();
    repl_->ResumeLink();
  }
}

}  // namespace reborn::server
