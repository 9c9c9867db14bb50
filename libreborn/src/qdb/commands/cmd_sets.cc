// RESP handlers of the set commands: argument parsing and replies as
// redis-server 7.0 does them, over qdb::Sets.
#include "qdb/commands/cmd_util.h"
#include "qdb/commands/scan_args.h"
#include "qdb/types/sets.h"

namespace reborn::qdb {
namespace {

// SMEMBERS, SINTER, SPOP with count...: a RESP3 set, a RESP2 array.
void ReplySet(resp::ReplyWriter& reply, const std::vector<std::string>& items) {
  reply.SetHeader(items.size());
  for (const std::string& m : items) reply.Bulk(m);
}

void SRandMemberCommand(EngineCore& core, CommandContext& ctx) {
  WithDb(core, ctx, [&](uint8_t db) {
    if (ctx.args.size() == 2) {
      auto r = core.sets().RandomOne(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (!*r) return ctx.reply.Null();
      return ctx.reply.Bulk(**r);
    }
    if (ctx.args.size() > 3) return ctx.reply.Error(kSyntaxText);
    int64_t count;
    if (!ParseCountArg(ctx, 2, &count)) return;
    auto picked = core.sets().Sample(db, ctx.args[1], count);
    if (!picked.ok()) return ReplyStatusError(ctx.reply, picked.status());
    ctx.reply.ArrayHeader(picked->size());
    for (const std::string& m : *picked) ctx.reply.Bulk(m);
  });
}

void SPopCommand(EngineCore& core, CommandContext& ctx) {
  WithDb(core, ctx, [&](uint8_t db) {
    if (ctx.args.size() == 2) {
      auto r = core.sets().PopOne(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (!*r) return ctx.reply.Null();
      return ctx.reply.Bulk(**r);
    }
    if (ctx.args.size() > 3) return ctx.reply.Error(kSyntaxText);
    int64_t count;
    if (!ArgInt64(ctx, 2, &count,
                  "ERR value is out of range, must be positive")) {
      return;
    }
    if (count < 0) {
      return ctx.reply.Error("ERR value is out of range, must be positive");
    }
    auto r = core.sets().Pop(db, ctx.args[1], static_cast<uint64_t>(count));
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ReplySet(ctx.reply, *r);
  });
}

void CombineCommand(EngineCore& core, CommandContext& ctx, SetCombine op,
                    bool store) {
  const size_t first = store ? 2 : 1;
  std::vector<std::string> keys(ctx.args.begin() + first, ctx.args.end());
  WithDb(core, ctx, [&](uint8_t db) {
    if (store) {
      auto r = core.sets().CombineStore(db, op, ctx.args[1], keys);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      return ctx.reply.Integer(*r);
    }
    auto r = core.sets().Combine(db, op, keys);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ReplySet(ctx.reply, *r);
  });
}

void SInterCardCommand(EngineCore& core, CommandContext& ctx) {
  int64_t numkeys;
  if (!ParseInt64(ctx.args[1], &numkeys) || numkeys <= 0) {
    return ctx.reply.Error("ERR numkeys should be greater than 0");
  }
  if (static_cast<uint64_t>(numkeys) > ctx.args.size() - 2) {
    return ctx.reply.Error(
        "ERR Number of keys can't be greater than number of args");
  }
  int64_t limit = 0;
  for (size_t j = 2 + static_cast<size_t>(numkeys); j < ctx.args.size(); ++j) {
    if (EqualsIgnoreCase(ctx.args[j], "limit") && j + 1 < ctx.args.size()) {
      if (!ParseInt64(ctx.args[j + 1], &limit) || limit < 0) {
        return ctx.reply.Error("ERR LIMIT can't be negative");
      }
      ++j;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
  }
  std::vector<std::string> keys(ctx.args.begin() + 2,
                                ctx.args.begin() + 2 + numkeys);
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.sets().InterCard(db, keys, static_cast<uint64_t>(limit));
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.reply.Integer(*r);
  });
}

}  // namespace

void RegisterSetCommands(EngineCore& core, CommandTable& table,
                         absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;
  auto add_rem = [c](CommandContext& ctx, bool add) {
    std::vector<std::string> members(ctx.args.begin() + 2, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = add ? c->sets().Add(db, ctx.args[1], members)
                   : c->sets().Rem(db, ctx.args[1], members);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  };
  reg("sadd", [add_rem](CommandContext& ctx) { add_rem(ctx, true); });
  reg("srem", [add_rem](CommandContext& ctx) { add_rem(ctx, false); });
  reg("smembers", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->sets().Members(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ReplySet(ctx.reply, *r);
    });
  });
  auto is_member = [c](CommandContext& ctx, bool multi) {
    std::vector<std::string> members(ctx.args.begin() + 2, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->sets().IsMember(db, ctx.args[1], members);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (!multi) return ctx.reply.Integer((*r)[0] ? 1 : 0);
      ctx.reply.ArrayHeader(r->size());
      for (bool b : *r) ctx.reply.Integer(b ? 1 : 0);
    });
  };
  reg("sismember", [is_member](CommandContext& ctx) { is_member(ctx, false); });
  reg("smismember", [is_member](CommandContext& ctx) { is_member(ctx, true); });
  reg("scard", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->sets().Card(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("spop", [c](CommandContext& ctx) { SPopCommand(*c, ctx); });
  reg("srandmember", [c](CommandContext& ctx) { SRandMemberCommand(*c, ctx); });
  reg("smove", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->sets().Move(db, ctx.args[1], ctx.args[2], ctx.args[3]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  struct Op {
    const char* name;
    SetCombine op;
    bool store;
  };
  for (const Op& o : {Op{"sinter", SetCombine::kInter, false},
                      Op{"sunion", SetCombine::kUnion, false},
                      Op{"sdiff", SetCombine::kDiff, false},
                      Op{"sinterstore", SetCombine::kInter, true},
                      Op{"sunionstore", SetCombine::kUnion, true},
                      Op{"sdiffstore", SetCombine::kDiff, true}}) {
    reg(o.name, [c, o](CommandContext& ctx) {
      CombineCommand(*c, ctx, o.op, o.store);
    });
  }
  reg("sintercard", [c](CommandContext& ctx) { SInterCardCommand(*c, ctx); });
  reg("sscan", [c](CommandContext& ctx) {
    MemberScanCommand(*c, ctx, DataType::kSet,
                      [&](uint8_t db, uint64_t cursor, size_t count) {
                        return c->sets().Scan(db, ctx.args[1], cursor, count);
                      });
  });
}

}  // namespace reborn::qdb
