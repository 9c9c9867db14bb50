// RESP handlers of the hash commands: argument parsing and replies as
// redis-server 7.0 does them, over qdb::Hashes.
#include <cmath>
#include <random>

#include "qdb/commands/cmd_util.h"
#include "qdb/commands/scan_args.h"
#include "qdb/types/hashes.h"

namespace reborn::qdb {
namespace {

void ReplyPairs(resp::ReplyWriter& reply, const std::vector<MemberPair>& pairs,
                bool with_values, bool as_map) {
  if (!with_values) {
    reply.ArrayHeader(pairs.size());
    for (const auto& p : pairs) reply.Bulk(p.first);
    return;
  }
  if (as_map) {
    reply.MapHeader(pairs.size());
  } else if (reply.protocol() < 3) {
    reply.ArrayHeader(pairs.size() * 2);
  } else {
    reply.ArrayHeader(pairs.size());
  }
  for (const auto& [f, v] : pairs) {
    if (!as_map && reply.protocol() >= 3) reply.ArrayHeader(2);
    reply.Bulk(f);
    reply.Bulk(v);
  }
}

void HSetCommand(EngineCore& core, CommandContext& ctx, bool nx, bool ok) {
  if (ctx.args.size() % 2 != 0) {
    return ctx.reply.Error(absl::StrCat("ERR wrong number of arguments for '",
                                        std::string(ctx.spec.name),
                                        "' command"));
  }
  std::vector<MemberPair> pairs;
  for (size_t i = 2; i + 1 < ctx.args.size(); i += 2) {
    pairs.emplace_back(ctx.args[i], ctx.args[i + 1]);
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.hashes().Set(db, ctx.args[1], pairs, nx);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    if (ok) return ctx.reply.Ok();
    ctx.reply.Integer(*r);
  });
}

void HRandFieldCommand(EngineCore& core, CommandContext& ctx) {
  WithDb(core, ctx, [&](uint8_t db) {
    if (ctx.args.size() == 2) {
      auto r = core.hashes().RandomField(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (!*r) return ctx.reply.Null();
      return ctx.reply.Bulk((*r)->first);
    }
    int64_t count;
    if (!ParseCountArg(ctx, 2, &count)) return;
    bool with_values = false;
    if (ctx.args.size() == 4 && EqualsIgnoreCase(ctx.args[3], "withvalues")) {
      with_values = true;
    } else if (ctx.args.size() >= 4) {
      return ctx.reply.Error(kSyntaxText);
    }
    auto picked = core.hashes().Sample(db, ctx.args[1], count);
    if (!picked.ok()) return ReplyStatusError(ctx.reply, picked.status());
    ReplyPairs(ctx.reply, *picked, with_values, false);
  });
}

}  // namespace

void RegisterHashCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;
  reg("hset", [c](CommandContext& ctx) { HSetCommand(*c, ctx, false, false); });
  reg("hmset", [c](CommandContext& ctx) { HSetCommand(*c, ctx, false, true); });
  reg("hsetnx",
      [c](CommandContext& ctx) { HSetCommand(*c, ctx, true, false); });
  reg("hget", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->hashes().Get(db, ctx.args[1], ctx.args[2]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (!*r) return ctx.reply.Null();
      ctx.reply.Bulk(**r);
    });
  });
  reg("hmget", [c](CommandContext& ctx) {
    std::vector<std::string> fields(ctx.args.begin() + 2, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->hashes().MGet(db, ctx.args[1], fields);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.ArrayHeader(r->size());
      for (const auto& v : *r) {
        if (v) {
          ctx.reply.Bulk(*v);
        } else {
          ctx.reply.Null();
        }
      }
    });
  });
  reg("hdel", [c](CommandContext& ctx) {
    std::vector<std::string> fields(ctx.args.begin() + 2, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->hashes().Del(db, ctx.args[1], fields);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("hlen", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->hashes().Len(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  auto field_read = [c](CommandContext& ctx, bool strlen) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->hashes().Get(db, ctx.args[1], ctx.args[2]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (strlen) return ctx.reply.Integer(*r ? (*r)->size() : 0);
      ctx.reply.Integer(r->has_value() ? 1 : 0);
    });
  };
  reg("hstrlen", [field_read](CommandContext& ctx) { field_read(ctx, true); });
  reg("hexists", [field_read](CommandContext& ctx) { field_read(ctx, false); });
  auto get_all = [c](CommandContext& ctx, bool keys, bool values) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->hashes().GetAll(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (keys && values) return ReplyPairs(ctx.reply, *r, true, true);
      ctx.reply.ArrayHeader(r->size());
      for (const auto& [f, v] : *r) ctx.reply.Bulk(keys ? f : v);
    });
  };
  reg("hgetall", [get_all](CommandContext& ctx) { get_all(ctx, true, true); });
  reg("hkeys", [get_all](CommandContext& ctx) { get_all(ctx, true, false); });
  reg("hvals", [get_all](CommandContext& ctx) { get_all(ctx, false, true); });
  reg("hincrby", [c](CommandContext& ctx) {
    int64_t delta;
    if (!ArgInt64(ctx, 3, &delta)) return;
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->hashes().IncrBy(db, ctx.args[1], ctx.args[2], delta);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("hincrbyfloat", [c](CommandContext& ctx) {
    long double delta;
    if (!ParseLongDouble(ctx.args[3], &delta)) {
      return ctx.reply.Error("ERR value is not a valid float");
    }
    if (std::isinf(delta))
      return ctx.reply.Error("ERR value is NaN or Infinity");
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->hashes().IncrByFloat(db, ctx.args[1], ctx.args[2], delta);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Bulk(*r);
    });
  });
  reg("hrandfield", [c](CommandContext& ctx) { HRandFieldCommand(*c, ctx); });
  reg("hscan", [c](CommandContext& ctx) {
    MemberScanCommand(*c, ctx, DataType::kHash,
                      [&](uint8_t db, uint64_t cursor, size_t count) {
                        return c->hashes().Scan(db, ctx.args[1], cursor, count);
                      });
  });
}

}  // namespace reborn::qdb
