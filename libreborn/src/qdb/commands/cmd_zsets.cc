// RESP handlers of the sorted-set commands (non-blocking): argument parsing
// and replies as redis-server 7.0 does them, over qdb::ZSets.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/commands/scan_args.h"
#include "qdb/types/sets.h"  // SetCombine
#include "qdb/types/zsets.h"
#include "util/glob.h"

namespace reborn::qdb {
namespace {

constexpr std::string_view kNotFloat = "ERR value is not a valid float";

bool ArgDouble(CommandContext& ctx, size_t i, double* out,
               std::string_view error = kNotFloat) {
  if (ParseDouble(ctx.args[i], out)) return true;
  ctx.reply.Error(error);
  return false;
}

void ReplyScore(resp::ReplyWriter& reply, const std::optional<double>& s) {
  if (s) {
    reply.Double(*s);
  } else {
    reply.Null();
  }
}

// Members, or member/score pairs (flat in RESP2, nested in RESP3).
void ReplyMembers(resp::ReplyWriter& reply, const std::vector<ScoredMember>& ms,
                  bool with_scores) {
  if (!with_scores) {
    reply.ArrayHeader(ms.size());
    for (const ScoredMember& m : ms) reply.Bulk(m.member);
    return;
  }
  const bool nested = reply.protocol() > 2;
  reply.ArrayHeader(nested ? ms.size() : ms.size() * 2);
  for (const ScoredMember& m : ms) {
    if (nested) reply.ArrayHeader(2);
    reply.Bulk(m.member);
    reply.Double(m.score);
  }
}

// Pairs always nested (ZMPOP, ZPOP* with a count in RESP3).
void ReplyPairs(resp::ReplyWriter& reply, const std::vector<ScoredMember>& ms) {
  reply.ArrayHeader(ms.size());
  for (const ScoredMember& m : ms) {
    reply.ArrayHeader(2);
    reply.Bulk(m.member);
    reply.Double(m.score);
  }
}

void ZAdd(EngineCore& core, CommandContext& ctx, bool zincrby) {
  ZAddOptions opt;
  size_t idx = 2;
  if (zincrby) {
    opt.incr = true;
  } else {
    for (; idx < ctx.args.size(); ++idx) {
      const std::string& a = ctx.args[idx];
      if (EqualsIgnoreCase(a, "nx")) {
        opt.nx = true;
      } else if (EqualsIgnoreCase(a, "xx")) {
        opt.xx = true;
      } else if (EqualsIgnoreCase(a, "ch")) {
        opt.ch = true;
      } else if (EqualsIgnoreCase(a, "incr")) {
        opt.incr = true;
      } else if (EqualsIgnoreCase(a, "gt")) {
        opt.gt = true;
      } else if (EqualsIgnoreCase(a, "lt")) {
        opt.lt = true;
      } else {
        break;
      }
    }
  }
  const size_t elements = ctx.args.size() - idx;
  if (elements == 0 || elements % 2 != 0) return ctx.reply.Error(kSyntaxText);
  if (opt.nx && opt.xx) {
    return ctx.reply.Error(
        "ERR XX and NX options at the same time are not compatible");
  }
  if ((opt.gt && opt.nx) || (opt.lt && opt.nx) || (opt.gt && opt.lt)) {
    return ctx.reply.Error(
        "ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (opt.incr && elements > 2) {
    return ctx.reply.Error(
        "ERR INCR option supports a single increment-element pair");
  }
  std::vector<ScoredMember> members(elements / 2);
  for (size_t j = 0; j < members.size(); ++j) {
    if (!ArgDouble(ctx, idx + 2 * j, &members[j].score)) return;
    members[j].member = ctx.args[idx + 2 * j + 1];
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.zsets().Add(db, ctx.args[1], opt, members);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.session.changes = r->dirty;
    if (opt.incr) {
      ReplyScore(ctx.reply, r->score);
    } else {
      ctx.reply.Integer(r->changed);
    }
  });
}

// Port of zrangeGenericCommand. `first` is the index of the source key.
void ZRangeGeneric(EngineCore& core, CommandContext& ctx, size_t first,
                   const std::string* dst, ZRangeSpec::Kind fixed_kind,
                   bool fixed_kind_set, bool fixed_rev) {
  ZRangeSpec spec;
  bool kind_set = fixed_kind_set, rev_set = fixed_rev;
  spec.kind = fixed_kind;
  spec.rev = fixed_rev;
  bool with_scores = false;
  for (size_t j = first + 3; j < ctx.args.size(); ++j) {
    const std::string& a = ctx.args[j];
    const size_t left = ctx.args.size() - j - 1;
    // As zrangeGenericCommand: ZRANGESTORE takes no WITHSCORES, and only
    // ZRANGE and ZRANGESTORE take REV, BYSCORE and BYLEX (the others have
    // both fixed).
    if (dst == nullptr && EqualsIgnoreCase(a, "withscores")) {
      with_scores = true;
    } else if (EqualsIgnoreCase(a, "limit") && left >= 2) {
      if (!ArgInt64(ctx, j + 1, &spec.offset) ||
          !ArgInt64(ctx, j + 2, &spec.limit)) {
        return;
      }
      j += 2;
    } else if (!fixed_kind_set && !rev_set && EqualsIgnoreCase(a, "rev")) {
      rev_set = spec.rev = true;
    } else if (!kind_set && EqualsIgnoreCase(a, "bylex")) {
      kind_set = true;
      spec.kind = ZRangeSpec::Kind::kLex;
    } else if (!kind_set && EqualsIgnoreCase(a, "byscore")) {
      kind_set = true;
      spec.kind = ZRangeSpec::Kind::kScore;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
  }
  if (spec.limit != -1 && spec.kind == ZRangeSpec::Kind::kRank) {
    return ctx.reply.Error(
        "ERR syntax error, LIMIT is only supported in combination with either "
        "BYSCORE or BYLEX");
  }
  if (with_scores && spec.kind == ZRangeSpec::Kind::kLex) {
    return ctx.reply.Error(
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  size_t min_idx = first + 1, max_idx = first + 2;
  if (spec.rev && spec.kind != ZRangeSpec::Kind::kRank) {
    std::swap(min_idx, max_idx);
  }
  switch (spec.kind) {
    case ZRangeSpec::Kind::kRank:
      if (!ArgInt64(ctx, min_idx, &spec.start) ||
          !ArgInt64(ctx, max_idx, &spec.stop)) {
        return;
      }
      break;
    case ZRangeSpec::Kind::kScore:
      if (!ParseScoreRange(ctx.args[min_idx], ctx.args[max_idx], &spec.score)) {
        return ctx.reply.Error("ERR min or max is not a float");
      }
      break;
    case ZRangeSpec::Kind::kLex:
      if (!ParseLexRange(ctx.args[min_idx], ctx.args[max_idx], &spec.lex)) {
        return ctx.reply.Error("ERR min or max not valid string range item");
      }
      break;
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.zsets().Range(db, ctx.args[first], spec);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    if (dst) {
      auto n =
          core.zsets().Store(db, *dst, *r ? **r : std::vector<ScoredMember>{});
      if (!n.ok()) return ReplyStatusError(ctx.reply, n.status());
      return ctx.reply.Integer(*n);
    }
    ReplyMembers(ctx.reply, *r ? **r : std::vector<ScoredMember>{},
                 with_scores);
  });
}

void RemRange(EngineCore& core, CommandContext& ctx, ZRangeSpec::Kind kind) {
  ZRangeSpec spec;
  spec.kind = kind;
  if (kind == ZRangeSpec::Kind::kRank) {
    if (!ArgInt64(ctx, 2, &spec.start) || !ArgInt64(ctx, 3, &spec.stop)) {
      return;
    }
  } else if (kind == ZRangeSpec::Kind::kScore) {
    if (!ParseScoreRange(ctx.args[2], ctx.args[3], &spec.score)) {
      return ctx.reply.Error("ERR min or max is not a float");
    }
  } else if (!ParseLexRange(ctx.args[2], ctx.args[3], &spec.lex)) {
    return ctx.reply.Error("ERR min or max not valid string range item");
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.zsets().RemRange(db, ctx.args[1], spec);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.reply.Integer(*r);
  });
}

void ZPop(EngineCore& core, CommandContext& ctx, bool max) {
  if (ctx.args.size() > 3) return ctx.reply.Error(kSyntaxText);
  const bool has_count = ctx.args.size() == 3;
  int64_t count = 1;
  if (has_count &&
      !ArgRange(ctx, 2, 0, std::numeric_limits<int64_t>::max(),
                "ERR value is out of range, must be positive", &count)) {
    return;
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto r =
        core.zsets().Pop(db, ctx.args[1], max, static_cast<uint64_t>(count));
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    const std::vector<ScoredMember> empty;
    const std::vector<ScoredMember>& ms = *r ? **r : empty;
    if (has_count) return ReplyMembers(ctx.reply, ms, true);
    // Without a count the reply is one flat [member, score] in RESP3 too.
    ctx.reply.ArrayHeader(ms.size() * 2);
    for (const ScoredMember& m : ms) {
      ctx.reply.Bulk(m.member);
      ctx.reply.Double(m.score);
    }
  });
}

// ZUNION/ZINTER/ZDIFF[STORE]: port of zunionInterDiffGenericCommand.
void ZSetOp(EngineCore& core, CommandContext& ctx, SetCombine op, bool store) {
  const size_t numkeys_idx = store ? 2 : 1;
  int64_t numkeys;
  if (!ArgInt64(ctx, numkeys_idx, &numkeys)) return;
  if (numkeys < 1) {
    return ctx.reply.Error(
        absl::StrCat("ERR at least 1 input key is needed for '",
                     std::string(ctx.spec.name), "' command"));
  }
  if (numkeys > static_cast<int64_t>(ctx.args.size() - numkeys_idx - 1)) {
    return ctx.reply.Error(kSyntaxText);
  }
  const size_t first = numkeys_idx + 1;
  const size_t end = first + static_cast<size_t>(numkeys);
  WithDb(core, ctx, [&](uint8_t db) {
    std::vector<std::vector<ScoredMember>> inputs;
    for (size_t k = first; k < end; ++k) {
      auto r = core.zsets().All(db, ctx.args[k], true);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      inputs.push_back(*r ? std::move(**r) : std::vector<ScoredMember>{});
    }
    std::vector<double> weights(static_cast<size_t>(numkeys), 1.0);
    enum { kSum, kMin, kMax } agg = kSum;
    bool with_scores = false;
    for (size_t j = end; j < ctx.args.size(); ++j) {
      const size_t left = ctx.args.size() - j - 1;
      const std::string& a = ctx.args[j];
      if (op != SetCombine::kDiff && left >= static_cast<size_t>(numkeys) &&
          EqualsIgnoreCase(a, "weights")) {
        for (size_t w = 0; w < weights.size(); ++w) {
          if (!ArgDouble(ctx, ++j, &weights[w],
                         "ERR weight value is not a float")) {
            return;
          }
        }
      } else if (op != SetCombine::kDiff && left >= 1 &&
                 EqualsIgnoreCase(a, "aggregate")) {
        const std::string& v = ctx.args[++j];
        if (EqualsIgnoreCase(v, "sum")) {
          agg = kSum;
        } else if (EqualsIgnoreCase(v, "min")) {
          agg = kMin;
        } else if (EqualsIgnoreCase(v, "max")) {
          agg = kMax;
        } else {
          return ctx.reply.Error(kSyntaxText);
        }
      } else if (!store && EqualsIgnoreCase(a, "withscores")) {
        with_scores = true;
      } else {
        return ctx.reply.Error(kSyntaxText);
      }
    }
    auto combine = [&](double acc, double v) {
      switch (agg) {
        case kSum: {
          const double s = acc + v;
          return std::isnan(s) ? 0.0 : s;
        }
        case kMin:
          return std::min(acc, v);
        case kMax:
          return std::max(acc, v);
      }
      return acc;
    };
    auto weighted = [&](size_t i, double s) {
      const double v = s * weights[i];
      return std::isnan(v) ? 0.0 : v;
    };
    std::map<std::string, double> result;
    if (op == SetCombine::kUnion) {
      for (size_t i = 0; i < inputs.size(); ++i) {
        for (const ScoredMember& m : inputs[i]) {
          const double v = weighted(i, m.score);
          auto [it, inserted] = result.emplace(m.member, v);
          if (!inserted) it->second = combine(it->second, v);
        }
      }
    } else if (op == SetCombine::kInter) {
      std::vector<absl::flat_hash_map<std::string, double>> maps(inputs.size());
      for (size_t i = 1; i < inputs.size(); ++i) {
        for (const ScoredMember& m : inputs[i]) maps[i][m.member] = m.score;
      }
      for (const ScoredMember& m : inputs[0]) {
        double v = weighted(0, m.score);
        bool all = true;
        for (size_t i = 1; i < inputs.size() && all; ++i) {
          auto it = maps[i].find(m.member);
          if (it == maps[i].end()) {
            all = false;
          } else {
            v = combine(v, weighted(i, it->second));
          }
        }
        if (all) result[m.member] = v;
      }
    } else {
      absl::flat_hash_map<std::string, bool> others;
      for (size_t i = 1; i < inputs.size(); ++i) {
        for (const ScoredMember& m : inputs[i]) others[m.member] = true;
      }
      for (const ScoredMember& m : inputs[0]) {
        if (!others.contains(m.member)) result[m.member] = m.score;
      }
    }
    std::vector<ScoredMember> out;
    out.reserve(result.size());
    for (auto& [member, score] : result) out.push_back({member, score});
    std::stable_sort(out.begin(), out.end(),
                     [](const ScoredMember& a, const ScoredMember& b) {
                       return a.score < b.score;
                     });
    if (store) {
      auto n = core.zsets().Store(db, ctx.args[1], out);
      if (!n.ok()) return ReplyStatusError(ctx.reply, n.status());
      return ctx.reply.Integer(*n);
    }
    ReplyMembers(ctx.reply, out, with_scores);
  });
}

}  // namespace

void RegisterZSetCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;
  using Kind = ZRangeSpec::Kind;

  reg("zadd", [c](CommandContext& ctx) { ZAdd(*c, ctx, false); });
  reg("zincrby", [c](CommandContext& ctx) { ZAdd(*c, ctx, true); });
  reg("zrem", [c](CommandContext& ctx) {
    std::vector<std::string> members(ctx.args.begin() + 2, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->zsets().Rem(db, ctx.args[1], members);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("zscore", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->zsets().Scores(db, ctx.args[1], {ctx.args[2]});
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ReplyScore(ctx.reply, (*r)[0]);
    });
  });
  reg("zmscore", [c](CommandContext& ctx) {
    std::vector<std::string> members(ctx.args.begin() + 2, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->zsets().Scores(db, ctx.args[1], members);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.ArrayHeader(r->size());
      for (const auto& s : *r) ReplyScore(ctx.reply, s);
    });
  });
  reg("zcard", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->zsets().Card(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("zcount", [c](CommandContext& ctx) {
    ScoreRange range;
    if (!ParseScoreRange(ctx.args[2], ctx.args[3], &range)) {
      return ctx.reply.Error("ERR min or max is not a float");
    }
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->zsets().Count(db, ctx.args[1], range);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("zlexcount", [c](CommandContext& ctx) {
    LexRange range;
    if (!ParseLexRange(ctx.args[2], ctx.args[3], &range)) {
      return ctx.reply.Error("ERR min or max not valid string range item");
    }
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->zsets().LexCount(db, ctx.args[1], range);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("zrange", [c](CommandContext& ctx) {
    ZRangeGeneric(*c, ctx, 1, nullptr, Kind::kRank, false, false);
  });
  reg("zrangestore", [c](CommandContext& ctx) {
    ZRangeGeneric(*c, ctx, 2, &ctx.args[1], Kind::kRank, false, false);
  });
  reg("zrevrange", [c](CommandContext& ctx) {
    ZRangeGeneric(*c, ctx, 1, nullptr, Kind::kRank, true, true);
  });
  reg("zrangebyscore", [c](CommandContext& ctx) {
    ZRangeGeneric(*c, ctx, 1, nullptr, Kind::kScore, true, false);
  });
  reg("zrevrangebyscore", [c](CommandContext& ctx) {
    ZRangeGeneric(*c, ctx, 1, nullptr, Kind::kScore, true, true);
  });
  reg("zrangebylex", [c](CommandContext& ctx) {
    ZRangeGeneric(*c, ctx, 1, nullptr, Kind::kLex, true, false);
  });
  reg("zrevrangebylex", [c](CommandContext& ctx) {
    ZRangeGeneric(*c, ctx, 1, nullptr, Kind::kLex, true, true);
  });
  for (bool rev : {false, true}) {
    reg(rev ? "zrevrank" : "zrank", [c, rev](CommandContext& ctx) {
      WithDb(*c, ctx, [&](uint8_t db) {
        auto r = c->zsets().Rank(db, ctx.args[1], ctx.args[2], rev);
        if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
        if (*r) {
          ctx.reply.Integer(**r);
        } else {
          ctx.reply.Null();
        }
      });
    });
  }
  reg("zremrangebyrank",
      [c](CommandContext& ctx) { RemRange(*c, ctx, Kind::kRank); });
  reg("zremrangebyscore",
      [c](CommandContext& ctx) { RemRange(*c, ctx, Kind::kScore); });
  reg("zremrangebylex",
      [c](CommandContext& ctx) { RemRange(*c, ctx, Kind::kLex); });
  reg("zpopmin", [c](CommandContext& ctx) { ZPop(*c, ctx, false); });
  reg("zpopmax", [c](CommandContext& ctx) { ZPop(*c, ctx, true); });
  reg("zmpop", [c](CommandContext& ctx) {
    int64_t numkeys;
    if (!ArgRange(ctx, 1, 1, std::numeric_limits<int64_t>::max(),
                  "ERR numkeys should be greater than 0", &numkeys)) {
      return;
    }
    const size_t where_idx = 2 + static_cast<size_t>(numkeys);
    if (numkeys > static_cast<int64_t>(ctx.args.size()) - 3) {
      return ctx.reply.Error(kSyntaxText);
    }
    bool max;
    if (EqualsIgnoreCase(ctx.args[where_idx], "min")) {
      max = false;
    } else if (EqualsIgnoreCase(ctx.args[where_idx], "max")) {
      max = true;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
    int64_t count = 1;
    if (!ArgMpopCount(ctx, where_idx + 1, &count)) return;
    WithDb(*c, ctx, [&](uint8_t db) {
      for (size_t k = 2; k < where_idx; ++k) {
        auto r =
            c->zsets().Pop(db, ctx.args[k], max, static_cast<uint64_t>(count));
        if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
        if (!*r) continue;
        ctx.reply.ArrayHeader(2);
        ctx.reply.Bulk(ctx.args[k]);
        ReplyPairs(ctx.reply, **r);
        return;
      }
      ctx.reply.NullArray();
    });
  });
  reg("zrandmember", [c](CommandContext& ctx) {
    const size_t n = ctx.args.size();
    int64_t count = 0;
    bool with_scores = false;
    if (n >= 3) {
      if (!ParseCountArg(ctx, 2, &count)) return;
      if (n == 4 && EqualsIgnoreCase(ctx.args[3], "withscores")) {
        with_scores = true;
      } else if (n >= 4) {
        return ctx.reply.Error(kSyntaxText);
      }
      // Redis checks that the count can be doubled for WITHSCORES.
      if (with_scores && (count < -std::numeric_limits<int64_t>::max() / 2 ||
                          count > std::numeric_limits<int64_t>::max() / 2)) {
        return ctx.reply.Error("ERR value is out of range");
      }
    }
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->zsets().All(db, ctx.args[1], false);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      thread_local std::mt19937_64 rng(std::random_device{}());
      if (n == 2) {
        if (!*r) return ctx.reply.Null();
        return ctx.reply.Bulk((**r)[rng() % (*r)->size()].member);
      }
      std::vector<ScoredMember> out;
      if (*r) {
        std::vector<ScoredMember>& all = **r;
        if (count < 0) {
          for (int64_t i = 0; i < -count; ++i) {
            out.push_back(all[rng() % all.size()]);
          }
        } else {
          std::shuffle(all.begin(), all.end(), rng);
          all.resize(std::min<size_t>(all.size(), static_cast<size_t>(count)));
          out = std::move(all);
        }
      }
      ReplyMembers(ctx.reply, out, with_scores);
    });
  });
  reg("zunion",
      [c](CommandContext& ctx) { ZSetOp(*c, ctx, SetCombine::kUnion, false); });
  reg("zinter",
      [c](CommandContext& ctx) { ZSetOp(*c, ctx, SetCombine::kInter, false); });
  reg("zdiff",
      [c](CommandContext& ctx) { ZSetOp(*c, ctx, SetCombine::kDiff, false); });
  reg("zunionstore",
      [c](CommandContext& ctx) { ZSetOp(*c, ctx, SetCombine::kUnion, true); });
  reg("zinterstore",
      [c](CommandContext& ctx) { ZSetOp(*c, ctx, SetCombine::kInter, true); });
  reg("zdiffstore",
      [c](CommandContext& ctx) { ZSetOp(*c, ctx, SetCombine::kDiff, true); });
  reg("zintercard", [c](CommandContext& ctx) {
    int64_t numkeys;
    if (!ArgInt64(ctx, 1, &numkeys)) return;
    if (numkeys < 1) {
      return ctx.reply.Error(
          "ERR at least 1 input key is needed for 'zintercard' command");
    }
    if (numkeys > static_cast<int64_t>(ctx.args.size()) - 2) {
      return ctx.reply.Error(kSyntaxText);
    }
    const size_t end = 2 + static_cast<size_t>(numkeys);
    WithDb(*c, ctx, [&](uint8_t db) {
      std::vector<std::vector<ScoredMember>> inputs;
      for (size_t k = 2; k < end; ++k) {
        auto r = c->zsets().All(db, ctx.args[k], true);
        if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
        inputs.push_back(*r ? std::move(**r) : std::vector<ScoredMember>{});
      }
      int64_t limit = 0;
      for (size_t j = end; j < ctx.args.size(); ++j) {
        if (EqualsIgnoreCase(ctx.args[j], "limit") && j + 1 < ctx.args.size()) {
          if (!ArgRange(ctx, ++j, 0, std::numeric_limits<int64_t>::max(),
                        "ERR LIMIT can't be negative", &limit)) {
            return;
          }
        } else {
          return ctx.reply.Error(kSyntaxText);
        }
      }
      std::vector<absl::flat_hash_map<std::string, bool>> maps(inputs.size());
      for (size_t i = 1; i < inputs.size(); ++i) {
        for (const ScoredMember& m : inputs[i]) maps[i][m.member] = true;
      }
      int64_t card = 0;
      for (const ScoredMember& m : inputs[0]) {
        bool all = true;
        for (size_t i = 1; i < maps.size() && all; ++i) {
          all = maps[i].contains(m.member);
        }
        if (all && ++card == limit) break;
      }
      ctx.reply.Integer(card);
    });
  });
  reg("zscan", [c](CommandContext& ctx) {
    int64_t cursor;
    if (!ParseInt64(ctx.args[2], &cursor) || cursor < 0) {
      return ctx.reply.Error("ERR invalid cursor");
    }
    std::string pattern;
    int64_t count = 10;
    for (size_t j = 3; j < ctx.args.size(); ++j) {
      const bool more = j + 1 < ctx.args.size();
      if (EqualsIgnoreCase(ctx.args[j], "count") && more) {
        if (!ArgInt64(ctx, ++j, &count)) return;
        if (count < 1) return ctx.reply.Error(kSyntaxText);
      } else if (EqualsIgnoreCase(ctx.args[j], "match") && more) {
        pattern = ctx.args[++j];
      } else {
        return ctx.reply.Error(kSyntaxText);
      }
    }
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->zsets().All(db, ctx.args[1], false);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      std::vector<ScoredMember> all =
          *r ? std::move(**r) : std::vector<ScoredMember>{};
      // Small sets come back whole, as from Redis' listpack encoding; big
      // ones page by position.
      size_t from = static_cast<size_t>(cursor), to = all.size();
      if (all.size() > 128 && from + static_cast<size_t>(count) < all.size()) {
        to = from + static_cast<size_t>(count);
      }
      std::vector<ScoredMember> page;
      for (size_t i = from; i < to; ++i) {
        if (pattern.empty() || GlobMatch(pattern, all[i].member)) {
          page.push_back(std::move(all[i]));
        }
      }
      ctx.reply.ArrayHeader(2);
      ctx.reply.Bulk(to < all.size() ? std::to_string(to) : "0");
      ctx.reply.ArrayHeader(page.size() * 2);
      for (const ScoredMember& m : page) {
        ctx.reply.Bulk(m.member);
        ctx.reply.Bulk(resp::FormatDouble(m.score));
      }
    });
  });
}

}  // namespace reborn::qdb
