// RESP handlers of the keyspace commands (DEL ... SWAPDB), with redis-server
// 7.0's argument rules and error texts.
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/commands/scan_args.h"

namespace reborn::qdb {
namespace {

constexpr std::string_view kDbRangeText = "ERR DB index is out of range";

bool ParseInt32(std::string_view s, int* out) {
  int64_t v;
  if (!ParseInt64(s, &v) || v < std::numeric_limits<int>::min() ||
      v > std::numeric_limits<int>::max()) {
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT.
void ExpireCommand(EngineCore& core, CommandContext& ctx, bool relative,
                   bool seconds) {
  int flags = 0;
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    const std::string& opt = ctx.args[j];
    if (EqualsIgnoreCase(opt, "nx")) {
      flags |= kExpireNx;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      flags |= kExpireXx;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      flags |= kExpireGt;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      flags |= kExpireLt;
    } else {
      return ctx.reply.Error(absl::StrCat("ERR Unsupported option ", opt));
    }
  }
  if ((flags & kExpireNx) && (flags & (kExpireXx | kExpireGt | kExpireLt))) {
    return ctx.reply.Error(
        "ERR NX and XX, GT or LT options at the same time are not "
        "compatible");
  }
  if ((flags & kExpireGt) && (flags & kExpireLt)) {
    return ctx.reply.Error(
        "ERR GT and LT options at the same time are not compatible");
  }
  int64_t when;
  if (!ArgInt64(ctx, 2, &when)) return;
  const std::string error = absl::StrCat(
      "ERR invalid expire time in '", std::string(ctx.spec.name), "' command");
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (seconds) {
    if (when > kMax / 1000 || when < kMin / 1000) return ctx.reply.Error(error);
    when *= 1000;
  }
  const int64_t base = relative ? Keyspace::NowMs() : 0;
  if (when > kMax - base) return ctx.reply.Error(error);
  when += base;
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.keys().ExpireAt(db, ctx.args[1], when, flags);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.reply.Integer(*r);
  });
}

// TTL, PTTL, EXPIRETIME, PEXPIRETIME.
void TtlCommand(EngineCore& core, CommandContext& ctx, bool ms, bool absolute) {
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.keys().ExpireTime(db, ctx.args[1]);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    if (*r < 0) return ctx.reply.Integer(*r);
    int64_t ttl = absolute ? *r : *r - Keyspace::NowMs();
    if (ttl < 0) ttl = 0;
    ctx.reply.Integer(ms ? ttl : (ttl + 500) / 1000);
  });
}

void ScanCommand(EngineCore& core, CommandContext& ctx) {
  const std::string& cs = ctx.args[1];
  errno = 0;
  char* end = nullptr;
  const uint64_t cursor = std::strtoull(cs.c_str(), &end, 10);
  if (cs.empty() || std::isspace(static_cast<unsigned char>(cs[0])) ||
      *end != '\0' || errno == ERANGE) {
    return ctx.reply.Error("ERR invalid cursor");
  }
  int64_t count = 10;
  std::string_view pattern;
  std::optional<DataType> type;
  bool type_known = true;
  for (size_t i = 2; i < ctx.args.size();) {
    const size_t left = ctx.args.size() - i;
    if (EqualsIgnoreCase(ctx.args[i], "count") && left >= 2) {
      if (!ArgInt64(ctx, i + 1, &count)) return;
      if (count < 1) return ctx.reply.Error(kSyntaxText);
      i += 2;
    } else if (EqualsIgnoreCase(ctx.args[i], "match") && left >= 2) {
      pattern = ctx.args[i + 1];
      i += 2;
    } else if (EqualsIgnoreCase(ctx.args[i], "type") && left >= 2) {
      type = TypeFromName(ctx.args[i + 1], &type_known);
      i += 2;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.keyspace().Scan(db, cursor, pattern,
                                  static_cast<size_t>(count), type);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(std::to_string(r->cursor));
    if (!type_known) r->keys.clear();  // an unknown TYPE matches nothing
    ctx.reply.BulkArray(r->keys);
  });
}

bool ParseFlushArgs(CommandContext& ctx) {
  if (ctx.args.size() > 2 ||
      (ctx.args.size() == 2 && !EqualsIgnoreCase(ctx.args[1], "sync") &&
       !EqualsIgnoreCase(ctx.args[1], "async"))) {
    ctx.reply.Error(kSyntaxText);
    return false;
  }
  return true;
}

}  // namespace

void RegisterKeyCommands(EngineCore& core, CommandTable& table,
                         absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;

  auto del = [c](CommandContext& ctx) {
    std::vector<std::string> keys(ctx.args.begin() + 1, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->keys().Del(db, keys);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  };
  reg("del", del);
  reg("unlink", del);
  auto exists = [c](bool touch) {
    return [c, touch](CommandContext& ctx) {
      std::vector<std::string> keys(ctx.args.begin() + 1, ctx.args.end());
      WithDb(*c, ctx, [&](uint8_t db) {
        auto r = c->keys().Exists(db, keys, touch);
        if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
        ctx.reply.Integer(*r);
      });
    };
  };
  reg("exists", exists(false));
  reg("touch", exists(true));
  reg("type", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->keys().Type(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.SimpleString(*r ? TypeName(**r) : "none");
    });
  });
  reg("expire",
      [c](CommandContext& ctx) { ExpireCommand(*c, ctx, true, true); });
  reg("pexpire",
      [c](CommandContext& ctx) { ExpireCommand(*c, ctx, true, false); });
  reg("expireat",
      [c](CommandContext& ctx) { ExpireCommand(*c, ctx, false, true); });
  reg("pexpireat",
      [c](CommandContext& ctx) { ExpireCommand(*c, ctx, false, false); });
  reg("ttl", [c](CommandContext& ctx) { TtlCommand(*c, ctx, false, false); });
  reg("pttl", [c](CommandContext& ctx) { TtlCommand(*c, ctx, true, false); });
  reg("expiretime",
      [c](CommandContext& ctx) { TtlCommand(*c, ctx, false, true); });
  reg("pexpiretime",
      [c](CommandContext& ctx) { TtlCommand(*c, ctx, true, true); });
  reg("persist", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->keys().Persist(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  auto rename = [c](CommandContext& ctx, bool nx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->keys().Rename(db, ctx.args[1], ctx.args[2], nx);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (nx) {
        ctx.reply.Integer(*r);
      } else {
        ctx.reply.Ok();
      }
    });
  };
  reg("rename", [rename](CommandContext& ctx) { rename(ctx, false); });
  reg("renamenx", [rename](CommandContext& ctx) { rename(ctx, true); });
  reg("copy", [c](CommandContext& ctx) {
    bool replace = false;
    int dst_db = ctx.session.db;
    for (size_t j = 3; j < ctx.args.size(); ++j) {
      const size_t additional = ctx.args.size() - j - 1;
      if (EqualsIgnoreCase(ctx.args[j], "replace")) {
        replace = true;
      } else if (EqualsIgnoreCase(ctx.args[j], "db") && additional >= 1) {
        int64_t id;
        if (!ArgInt64(ctx, j + 1, &id)) return;
        if (id < 0 || id >= kNumDbs) return ctx.reply.Error(kDbRangeText);
        dst_db = static_cast<int>(id);
        ++j;
      } else {
        return ctx.reply.Error(kSyntaxText);
      }
    }
    if (dst_db == ctx.session.db && ctx.args[1] == ctx.args[2]) {
      return ctx.reply.Error("ERR source and destination objects are the same");
    }
    Keyspace& ks = c->keyspace();
    absl::ReaderMutexLock lock(&ks.layout_mu());
    auto r = c->keys().Copy(ks.Physical(ctx.session.db), ctx.args[1],
                            ks.Physical(dst_db), ctx.args[2], replace);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.reply.Integer(*r);
  });
  reg("move", [c](CommandContext& ctx) {
    int dst_db;
    if (!ParseInt32(ctx.args[2], &dst_db)) {
      return ctx.reply.Error(kNotIntegerText);
    }
    if (dst_db < 0 || dst_db >= kNumDbs) return ctx.reply.Error(kDbRangeText);
    if (dst_db == ctx.session.db) {
      return ctx.reply.Error("ERR source and destination objects are the same");
    }
    Keyspace& ks = c->keyspace();
    absl::ReaderMutexLock lock(&ks.layout_mu());
    auto r = c->keys().Move(ks.Physical(ctx.session.db), ks.Physical(dst_db),
                            ctx.args[1]);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.reply.Integer(*r);
  });
  reg("scan", [c](CommandContext& ctx) { ScanCommand(*c, ctx); });
  reg("keys", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      std::vector<std::string> keys;
      if (absl::Status s = c->keyspace().Keys(db, ctx.args[1], &keys);
          !s.ok()) {
        return ReplyStatusError(ctx.reply, s);
      }
      ctx.reply.BulkArray(keys);
    });
  });
  reg("randomkey", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->keyspace().RandomKey(db);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (*r) {
        ctx.reply.Bulk(**r);
      } else {
        ctx.reply.Null();
      }
    });
  });
  // COMPACT (as in Kvrocks and Pika): a full compaction in the background;
  // INFO persistence shows compacting:1 until it is done.
  reg("compact", [c](CommandContext& ctx) {
    if (!c->RequestCompaction()) {
      ctx.reply.Error("ERR a compaction is already in progress");
      return;
    }
    ctx.reply.Ok();
  });
  reg("dbsize", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      ctx.reply.Integer(static_cast<int64_t>(c->keyspace().DbSize(db)));
    });
  });
  reg("flushdb", [c](CommandContext& ctx) {
    if (!ParseFlushArgs(ctx)) return;
    Keyspace& ks = c->keyspace();
    absl::MutexLock lock(&ks.layout_mu());
    absl::Status s = ks.FlushDb(ks.Physical(ctx.session.db));
    if (!s.ok()) return ReplyStatusError(ctx.reply, s);
    ctx.reply.Ok();
  });
  reg("flushall", [c](CommandContext& ctx) {
    if (!ParseFlushArgs(ctx)) return;
    Keyspace& ks = c->keyspace();
    absl::MutexLock lock(&ks.layout_mu());
    absl::Status s = ks.FlushAll();
    if (!s.ok()) return ReplyStatusError(ctx.reply, s);
    ctx.reply.Ok();
  });
  reg("select", [](CommandContext& ctx) {
    int id;
    if (!ParseInt32(ctx.args[1], &id)) return ctx.reply.Error(kNotIntegerText);
    if (id < 0 || id >= kNumDbs) return ctx.reply.Error(kDbRangeText);
    ctx.session.db = id;
    ctx.reply.Ok();
  });
  reg("swapdb", [c](CommandContext& ctx) {
    int a, b;
    if (!ParseInt32(ctx.args[1], &a)) {
      return ctx.reply.Error("ERR invalid first DB index");
    }
    if (!ParseInt32(ctx.args[2], &b)) {
      return ctx.reply.Error("ERR invalid second DB index");
    }
    if (a < 0 || a >= kNumDbs || b < 0 || b >= kNumDbs) {
      return ctx.reply.Error(kDbRangeText);
    }
    Keyspace& ks = c->keyspace();
    absl::MutexLock lock(&ks.layout_mu());
    absl::Status s = ks.SwapDb(a, b);
    if (!s.ok()) return ReplyStatusError(ctx.reply, s);
    ctx.reply.Ok();
  });
}

}  // namespace reborn::qdb
