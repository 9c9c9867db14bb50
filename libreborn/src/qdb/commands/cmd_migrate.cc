// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
// [AUTH password | AUTH2 username password] [KEYS key ...], as redis-server
// 7.0's migrateCommand (cluster.c): the live keys are sent as one pipeline
// of [AUTH] SELECT RESTORE... on a new connection to the target, and each key
// the target acknowledged leaves the source (unless COPY), replicated as one
// DEL. The source holds the key locks from the read to the delete, so no
// write to a moving key is lost. The command runs on the client's thread,
// as Redis runs it in its only thread: every connect, write and read is
// bounded by the timeout, itself capped (kMaxTimeoutMs).
#include <algorithm>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "net/sync_client.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/slots/dump_restore.h"
#include "rdb/dump.h"

namespace reborn::qdb {
namespace {

// A client names any timeout; one MIGRATE must not hold a connection thread
// (and the key locks) for longer than this per network step.
constexpr int64_t kMaxTimeoutMs = 60000;

constexpr std::string_view kConnectError =
    "IOERR error or timeout connecting to the client";
constexpr std::string_view kWriteError =
    "IOERR error or timeout writing to target instance";
constexpr std::string_view kReadError =
    "IOERR error or timeout reading to target instance";

struct MigrateArgs {
  bool copy = false;
  bool replace = false;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::vector<std::string> keys;
  int64_t db = 0;
  int64_t timeout_ms = 1000;
};

// Redis' option loop, then the timeout and db checks, in its order.
bool ParseMigrate(CommandContext& ctx, MigrateArgs* out) {
  const std::vector<std::string>& a = ctx.args;
  size_t first_key = 3;
  size_t num_keys = 1;
  for (size_t j = 6; j < a.size(); ++j) {
    const size_t more = a.size() - 1 - j;
    if (EqualsIgnoreCase(a[j], "copy")) {
      out->copy = true;
    } else if (EqualsIgnoreCase(a[j], "replace")) {
      out->replace = true;
    } else if (EqualsIgnoreCase(a[j], "auth")) {
      if (more < 1) {
        ctx.reply.Error(kSyntaxText);
        return false;
      }
      out->password = a[++j];
    } else if (EqualsIgnoreCase(a[j], "auth2")) {
      if (more < 2) {
        ctx.reply.Error(kSyntaxText);
        return false;
      }
      out->username = a[++j];
      out->password = a[++j];
    } else if (EqualsIgnoreCase(a[j], "keys")) {
      if (!a[3].empty()) {
        ctx.reply.Error(
            "ERR When using MIGRATE KEYS option, the key argument must be set "
            "to the empty string");
        return false;
      }
      first_key = j + 1;
      num_keys = a.size() - j - 1;
      break;
    } else {
      ctx.reply.Error(kSyntaxText);
      return false;
    }
  }
  if (!ArgInt64(ctx, 5, &out->timeout_ms) || !ArgInt64(ctx, 4, &out->db)) {
    return false;
  }
  if (out->timeout_ms <= 0) out->timeout_ms = 1000;
  out->timeout_ms = std::min(out->timeout_ms, kMaxTimeoutMs);
  out->keys.assign(a.begin() + static_cast<std::ptrdiff_t>(first_key),
                   a.begin() + static_cast<std::ptrdiff_t>(first_key) +
                       static_cast<std::ptrdiff_t>(num_keys));
  return true;
}

// Redis connects without blocking and only waits for the socket to turn
// writable: a refused connection (also to port atoi("x") = 0) shows as a
// failed write, only a timeout or an unresolvable name as a failed connect.
// Returns the error to reply, or a client.
absl::StatusOr<net::SyncClient> ConnectTarget(CommandContext& ctx,
                                              int64_t timeout_ms,
                                              std::string_view* error) {
  int64_t port;
  if (!ParseInt64(ctx.args[2], &port) || port <= 0 || port > 65535) {
    *error = kWriteError;
    return absl::UnavailableError("bad port");
  }
  absl::StatusOr<net::SyncClient> client =
      net::SyncClient::Connect(ctx.args[1], static_cast<int>(port),
                               std::chrono::milliseconds(timeout_ms));
  if (!client.ok()) {
    const absl::string_view why = client.status().message();
    *error =
        absl::StartsWith(why, "resolve ") || absl::StrContains(why, "timed out")
            ? kConnectError
            : kWriteError;
  }
  return client;
}

void MigrateCommand(EngineCore& core, CommandContext& ctx) {
  MigrateArgs args;
  if (!ParseMigrate(ctx, &args)) return;
  // What replicas get: DEL of the keys that left, or nothing.
  ctx.session.effects.emplace();
  WithDb(core, ctx, [&](uint8_t db) {
    Keyspace& ks = core.keyspace();
    std::vector<std::pair<uint8_t, std::string_view>> lock_keys;
    absl::flat_hash_set<std::string_view> unique;
    for (const std::string& k : args.keys) {
      if (unique.insert(k).second) lock_keys.emplace_back(db, k);
    }
    KeyLocks::Guard guard = ks.locks().LockMany(lock_keys);
    Txn txn(&ks);
    std::vector<std::string_view> views(args.keys.begin(), args.keys.end());
    auto metas = ks.LookupManyForWrite(txn, db, views);
    if (!metas.ok()) return ReplyStatusError(ctx.reply, metas.status());

    const int64_t now = Keyspace::NowMs();
    std::vector<std::vector<std::string>> cmds;
    if (args.password) {
      std::vector<std::string> auth = {"AUTH"};
      if (args.username) auth.push_back(*args.username);
      auth.push_back(*args.password);
      cmds.push_back(std::move(auth));
    }
    cmds.push_back({"SELECT", absl::StrCat(args.db)});
    const size_t first_restore = cmds.size();
    std::vector<size_t> sent;  // index into args.keys of each RESTORE
    for (size_t i = 0; i < args.keys.size(); ++i) {
      const std::optional<Metadata>& meta = (*metas)[i];
      if (!meta) continue;
      int64_t ttl = 0;
      if (meta->expire_ms != 0) {
        ttl = meta->expire_ms - now;
        if (ttl <= 0) continue;
      }
      absl::StatusOr<rdb::Value> value =
          ReadValue(core, db, args.keys[i], *meta);
      if (!value.ok()) return ReplyStatusError(ctx.reply, value.status());
      std::vector<std::string> restore = {
          "RESTORE", args.keys[i], absl::StrCat(ttl), rdb::EncodeDump(*value)};
      if (args.replace) restore.push_back("REPLACE");
      cmds.push_back(std::move(restore));
      sent.push_back(i);
    }
    if (sent.empty()) return ctx.reply.SimpleString("NOKEY");

    std::string_view connect_error;
    absl::StatusOr<net::SyncClient> client =
        ConnectTarget(ctx, args.timeout_ms, &connect_error);
    if (!client.ok()) return ctx.reply.Error(connect_error);
    for (const std::vector<std::string>& cmd : cmds) {
      if (!client->Send(cmd).ok()) return ctx.reply.Error(kWriteError);
    }
    // Replies in order; the first error of AUTH, SELECT or a RESTORE is the
    // one reported, and after an AUTH or SELECT error no key is deleted.
    std::optional<std::string> target_error;
    bool prefix_failed = false;
    bool socket_error = false;
    absl::flat_hash_set<std::string_view> deleted;
    std::vector<std::string> del = {"DEL"};
    for (size_t c = 0; c < cmds.size(); ++c) {
      absl::StatusOr<Reply> reply = client->Receive();
      if (!reply.ok()) {
        socket_error = true;
        break;
      }
      if (reply->is_error()) {
        if (!target_error) target_error = reply->str;
        if (c < first_restore) prefix_failed = true;
        continue;
      }
      if (c < first_restore || prefix_failed || args.copy) continue;
      const size_t i = sent[c - first_restore];
      if (deleted.insert(args.keys[i]).second) {
        txn.DeleteKey(db, args.keys[i], *(*metas)[i]);
        del.push_back(args.keys[i]);
      }
    }
    if (del.size() > 1) {
      if (absl::Status s = txn.Commit(); !s.ok()) {
        return ReplyStatusError(ctx.reply, s);
      }
      ctx.session.effects->push_back(std::move(del));
    }
    if (target_error) {
      return ctx.reply.Error(absl::StrCat(
          "ERR Target instance replied with error: ", *target_error));
    }
    if (socket_error) return ctx.reply.Error(kReadError);
    ctx.reply.Ok();
  });
}

}  // namespace

void RegisterMigrateCommand(EngineCore& core, CommandTable& table,
                            absl::Status* status) {
  EngineCore* c = &core;
  if (absl::Status s = table.Register(
          "migrate", [c](CommandContext& ctx) { MigrateCommand(*c, ctx); });
      !s.ok()) {
    status->Update(s);
  }
}

}  // namespace reborn::qdb
