// RESP handlers of the list commands (non-blocking): argument parsing and
// replies as redis-server 7.0 does them, over qdb::Lists.
#include <limits>

#include "absl/strings/str_cat.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/types/lists.h"

namespace reborn::qdb {
namespace {

using End = Lists::End;

bool ParseEnd(std::string_view s, End* end) {
  if (EqualsIgnoreCase(s, "left")) {
    *end = End::kLeft;
  } else if (EqualsIgnoreCase(s, "right")) {
    *end = End::kRight;
  } else {
    return false;
  }
  return true;
}

void ReplyOptionalBulk(resp::ReplyWriter& reply,
                       const std::optional<std::string>& v) {
  if (v) {
    reply.Bulk(*v);
  } else {
    reply.Null();
  }
}

void Push(EngineCore& core, CommandContext& ctx, End end, bool only_if_exists) {
  std::vector<std::string> values(ctx.args.begin() + 2, ctx.args.end());
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.lists().Push(db, ctx.args[1], end, values, only_if_exists);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.reply.Integer(*r);
  });
}

void Pop(EngineCore& core, CommandContext& ctx, End end) {
  if (ctx.args.size() > 3) {
    ctx.reply.Error(absl::StrCat("ERR wrong number of arguments for '",
                                 std::string(ctx.spec.name), "' command"));
    return;
  }
  const bool has_count = ctx.args.size() == 3;
  int64_t count = 1;
  if (has_count &&
      !ArgRange(ctx, 2, 0, std::numeric_limits<int64_t>::max(),
                "ERR value is out of range, must be positive", &count)) {
    return;
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto r =
        core.lists().Pop(db, ctx.args[1], end, static_cast<uint64_t>(count));
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    if (!*r) {
      if (has_count) {
        ctx.reply.NullArray();
      } else {
        ctx.reply.Null();
      }
    } else if (has_count) {
      ctx.reply.BulkArray(**r);
    } else {
      ctx.reply.Bulk((**r)[0]);
    }
  });
}

// LINDEX and LSET look the key up before parsing the index: an absent key
// replies nil (`absent_error` empty) or `absent_error`, a wrong type
// WRONGTYPE, and only then a bad index is an error.
bool IndexAfterLookup(EngineCore& core, CommandContext& ctx, uint8_t db,
                      std::string_view absent_error, int64_t* index) {
  if (ParseInt64(ctx.args[2], index)) return true;
  auto len = core.lists().Len(db, ctx.args[1]);
  if (!len.ok()) {
    ReplyStatusError(ctx.reply, len.status());
  } else if (*len == 0 && absent_error.empty()) {
    ctx.reply.Null();
  } else if (*len == 0) {
    ctx.reply.Error(absent_error);
  } else {
    ctx.reply.Error(kNotIntegerText);
  }
  return false;
}

void Move(EngineCore& core, CommandContext& ctx, End from, End to) {
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.lists().Move(db, ctx.args[1], ctx.args[2], from, to);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ReplyOptionalBulk(ctx.reply, *r);
  });
}

}  // namespace

void RegisterListCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;

  reg("lpush", [c](CommandContext& ctx) { Push(*c, ctx, End::kLeft, false); });
  reg("rpush", [c](CommandContext& ctx) { Push(*c, ctx, End::kRight, false); });
  reg("lpushx", [c](CommandContext& ctx) { Push(*c, ctx, End::kLeft, true); });
  reg("rpushx", [c](CommandContext& ctx) { Push(*c, ctx, End::kRight, true); });
  reg("lpop", [c](CommandContext& ctx) { Pop(*c, ctx, End::kLeft); });
  reg("rpop", [c](CommandContext& ctx) { Pop(*c, ctx, End::kRight); });
  reg("llen", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->lists().Len(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("lindex", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      int64_t index;
      if (!IndexAfterLookup(*c, ctx, db, "", &index)) return;
      auto r = c->lists().Index(db, ctx.args[1], index);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ReplyOptionalBulk(ctx.reply, *r);
    });
  });
  reg("lrange", [c](CommandContext& ctx) {
    int64_t start, stop;
    if (!ArgInt64(ctx, 2, &start) || !ArgInt64(ctx, 3, &stop)) return;
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->lists().Range(db, ctx.args[1], start, stop);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.BulkArray(*r);
    });
  });
  reg("lset", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      int64_t index;
      if (!IndexAfterLookup(*c, ctx, db, "ERR no such key", &index)) return;
      absl::Status s = c->lists().Set(db, ctx.args[1], index, ctx.args[3]);
      if (!s.ok()) return ReplyStatusError(ctx.reply, s);
      ctx.reply.Ok();
    });
  });
  reg("ltrim", [c](CommandContext& ctx) {
    int64_t start, stop;
    if (!ArgInt64(ctx, 2, &start) || !ArgInt64(ctx, 3, &stop)) return;
    WithDb(*c, ctx, [&](uint8_t db) {
      absl::Status s = c->lists().Trim(db, ctx.args[1], start, stop);
      if (!s.ok()) return ReplyStatusError(ctx.reply, s);
      ctx.reply.Ok();
    });
  });
  reg("lrem", [c](CommandContext& ctx) {
    int64_t count;
    if (!ArgInt64(ctx, 2, &count)) return;
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->lists().Rem(db, ctx.args[1], count, ctx.args[3]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("linsert", [c](CommandContext& ctx) {
    bool before;
    if (EqualsIgnoreCase(ctx.args[2], "before")) {
      before = true;
    } else if (EqualsIgnoreCase(ctx.args[2], "after")) {
      before = false;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r =
          c->lists().Insert(db, ctx.args[1], before, ctx.args[3], ctx.args[4]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("lpos", [c](CommandContext& ctx) {
    int64_t rank = 1, count = -1, maxlen = 0;
    for (size_t j = 3; j < ctx.args.size(); ++j) {
      const std::string& opt = ctx.args[j];
      const bool more = j + 1 < ctx.args.size();
      if (EqualsIgnoreCase(opt, "rank") && more) {
        if (!ArgInt64(ctx, ++j, &rank)) return;
        if (rank == 0) {
          return ctx.reply.Error(
              "ERR RANK can't be zero: use 1 to start from the first match, 2 "
              "from the second ... or use negative to start from the end of "
              "the list");
        }
        // Redis 7.0 negates the rank to search from the tail; LLONG_MIN stays
        // negative there, so every match qualifies: the first from the tail.
        if (rank == std::numeric_limits<int64_t>::min()) rank = -1;
      } else if (EqualsIgnoreCase(opt, "count") && more) {
        if (!ArgRange(ctx, ++j, 0, std::numeric_limits<int64_t>::max(),
                      "ERR COUNT can't be negative", &count)) {
          return;
        }
      } else if (EqualsIgnoreCase(opt, "maxlen") && more) {
        if (!ArgRange(ctx, ++j, 0, std::numeric_limits<int64_t>::max(),
                      "ERR MAXLEN can't be negative", &maxlen)) {
          return;
        }
      } else {
        return ctx.reply.Error(kSyntaxText);
      }
    }
    // RANK LLONG_MIN cannot be negated; Redis ends up scanning from the head.
    if (rank == std::numeric_limits<int64_t>::min()) rank = 1;
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->lists().Pos(db, ctx.args[1], ctx.args[2], rank,
                              count < 0 ? 1 : count, maxlen);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (count >= 0) {
        ctx.reply.ArrayHeader(r->size());
        for (int64_t v : *r) ctx.reply.Integer(v);
      } else if (r->empty()) {
        ctx.reply.Null();
      } else {
        ctx.reply.Integer((*r)[0]);
      }
    });
  });
  reg("rpoplpush",
      [c](CommandContext& ctx) { Move(*c, ctx, End::kRight, End::kLeft); });
  reg("lmove", [c](CommandContext& ctx) {
    End from, to;
    if (!ParseEnd(ctx.args[3], &from) || !ParseEnd(ctx.args[4], &to)) {
      return ctx.reply.Error(kSyntaxText);
    }
    Move(*c, ctx, from, to);
  });
  reg("lmpop", [c](CommandContext& ctx) {
    int64_t numkeys;
    if (!ArgRange(ctx, 1, 1, std::numeric_limits<int64_t>::max(),
                  "ERR numkeys should be greater than 0", &numkeys)) {
      return;
    }
    const size_t where_idx = 2 + static_cast<size_t>(numkeys);
    End end;
    if (numkeys > static_cast<int64_t>(ctx.args.size()) - 3 ||
        !ParseEnd(ctx.args[where_idx], &end)) {
      return ctx.reply.Error(kSyntaxText);
    }
    int64_t count = 1;
    if (!ArgMpopCount(ctx, where_idx + 1, &count)) return;
    WithDb(*c, ctx, [&](uint8_t db) {
      for (size_t k = 2; k < where_idx; ++k) {
        auto r =
            c->lists().Pop(db, ctx.args[k], end, static_cast<uint64_t>(count));
        if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
        if (!*r) continue;
        ctx.reply.ArrayHeader(2);
        ctx.reply.Bulk(ctx.args[k]);
        ctx.reply.BulkArray(**r);
        return;
      }
      ctx.reply.NullArray();
    });
  });
}

}  // namespace reborn::qdb
