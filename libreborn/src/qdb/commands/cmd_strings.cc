// RESP handlers of the string commands: argument parsing and replies as
// redis-server 7.0 does them, over qdb::Strings.
#include <algorithm>
#include <limits>
#include <memory>
#include <new>
#include <vector>

#include "absl/strings/str_cat.h"
#include "qdb/commands/cmd_util.h"

namespace reborn::qdb {
namespace {

enum SetFlag : int {
  kNx = 1 << 0,
  kXx = 1 << 1,
  kGet = 1 << 2,
  kKeepTtl = 1 << 3,
  kPersist = 1 << 4,
  kEx = 1 << 5,
  kPx = 1 << 6,
  kExAt = 1 << 7,
  kPxAt = 1 << 8,
};

// Port of parseExtendedStringArgumentsOrReply (SET and GETEX options).
bool ParseExtended(CommandContext& ctx, size_t first, bool is_set, int* flags,
                   const std::string** expire) {
  const auto& args = ctx.args;
  for (size_t j = first; j < args.size(); ++j) {
    const std::string& opt = args[j];
    const bool has_next = j + 1 < args.size();
    if (EqualsIgnoreCase(opt, "nx") && !(*flags & kXx) && is_set) {
      *flags |= kNx;
    } else if (EqualsIgnoreCase(opt, "xx") && !(*flags & kNx) && is_set) {
      *flags |= kXx;
    } else if (EqualsIgnoreCase(opt, "get") && is_set) {
      *flags |= kGet;
    } else if (EqualsIgnoreCase(opt, "keepttl") &&
               !(*flags & (kPersist | kEx | kExAt | kPx | kPxAt)) && is_set) {
      *flags |= kKeepTtl;
    } else if (EqualsIgnoreCase(opt, "persist") && !is_set &&
               !(*flags & (kEx | kExAt | kPx | kPxAt | kKeepTtl))) {
      *flags |= kPersist;
    } else if (EqualsIgnoreCase(opt, "ex") &&
               !(*flags & (kKeepTtl | kPersist | kExAt | kPx | kPxAt)) &&
               has_next) {
      *flags |= kEx;
      *expire = &args[++j];
    } else if (EqualsIgnoreCase(opt, "px") &&
               !(*flags & (kKeepTtl | kPersist | kEx | kExAt | kPxAt)) &&
               has_next) {
      *flags |= kPx;
      *expire = &args[++j];
    } else if (EqualsIgnoreCase(opt, "exat") &&
               !(*flags & (kKeepTtl | kPersist | kEx | kPx | kPxAt)) &&
               has_next) {
      *flags |= kExAt;
      *expire = &args[++j];
    } else if (EqualsIgnoreCase(opt, "pxat") &&
               !(*flags & (kKeepTtl | kPersist | kEx | kExAt | kPx)) &&
               has_next) {
      *flags |= kPxAt;
      *expire = &args[++j];
    } else {
      ctx.reply.Error(kSyntaxText);
      return false;
    }
  }
  return true;
}

// Port of getExpireMillisecondsOrReply: the absolute expiry in ms.
bool ExpireMs(CommandContext& ctx, const std::string& arg, int flags,
              int64_t* out) {
  int64_t ms;
  if (!ParseInt64(arg, &ms)) {
    ctx.reply.Error(kNotIntegerText);
    return false;
  }
  const bool seconds = flags & (kEx | kExAt);
  const std::string error = absl::StrCat(
      "ERR invalid expire time in '", std::string(ctx.spec.name), "' command");
  if (ms <= 0 || (seconds && ms > std::numeric_limits<int64_t>::max() / 1000)) {
    ctx.reply.Error(error);
    return false;
  }
  if (seconds) ms *= 1000;
  if (flags & (kEx | kPx)) {
    const int64_t now = Keyspace::NowMs();
    if (ms > std::numeric_limits<int64_t>::max() - now) {
      ctx.reply.Error(error);
      return false;
    }
    ms += now;
  }
  *out = ms;
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

// SET and its relatives once options are known.
void DoSet(EngineCore& core, CommandContext& ctx, const std::string& key,
           const std::string& value, int flags, int64_t expire_at_ms,
           bool integer_reply) {
  StringSetOptions opts;
  if (flags & kNx) opts.condition = StringSetOptions::Condition::kIfAbsent;
  if (flags & kXx) opts.condition = StringSetOptions::Condition::kIfPresent;
  opts.get = flags & kGet;
  opts.keep_ttl = flags & kKeepTtl;
  opts.expire_at_ms = expire_at_ms;
  WithDb(core, ctx, [&](uint8_t db) {
    absl::StatusOr<StringSetResult> r =
        core.strings().Set(db, key, value, opts);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    if (integer_reply) return ctx.reply.Integer(r->written ? 1 : 0);
    if (opts.get) return ReplyOptionalBulk(ctx.reply, r->old_value);
    if (r->written) {
      ctx.reply.Ok();
    } else {
      ctx.reply.Null();
    }
  });
}

void IncrCommand(EngineCore& core, CommandContext& ctx, int64_t delta) {
  WithDb(core, ctx, [&](uint8_t db) {
    absl::StatusOr<int64_t> r = core.strings().IncrBy(db, ctx.args[1], delta);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.reply.Integer(*r);
  });
}

// Reads a string value for the read-only commands; replies on error.
bool ReadString(EngineCore& core, CommandContext& ctx,
                std::optional<std::string>* out) {
  bool ok = true;
  WithDb(core, ctx, [&](uint8_t db) {
    absl::StatusOr<std::optional<std::string>> r =
        core.strings().Get(db, ctx.args[1]);
    if (!r.ok()) {
      ReplyStatusError(ctx.reply, r.status());
      ok = false;
      return;
    }
    *out = std::move(*r);
  });
  return ok;
}

bool ParseBitOffset(CommandContext& ctx, EngineCore& core, uint64_t* out) {
  int64_t offset;
  if (!ParseInt64(ctx.args[2], &offset) || offset < 0 ||
      (offset >> 3) >= core.strings().max_bytes()) {
    ctx.reply.Error("ERR bit offset is not an integer or out of range");
    return false;
  }
  *out = static_cast<uint64_t>(offset);
  return true;
}

// Redis' redisBitpos: first bit equal to `bit`; for 0 with none found, the
// bit just after the range; for 1 with none found, -1.
int64_t BitposRaw(const unsigned char* p, int64_t count, int bit) {
  for (int64_t i = 0; i < count; ++i) {
    const unsigned char c = p[i];
    if ((bit && c != 0) || (!bit && c != 0xFF)) {
      for (int b = 0; b < 8; ++b) {
        if (((c >> (7 - b)) & 1) == bit) return i * 8 + b;
      }
    }
  }
  return bit ? -1 : count * 8;
}

void BitcountCommand(EngineCore& core, CommandContext& ctx) {
  // Redis 7.0 looks the key up before it parses the range.
  std::optional<std::string> value;
  if (!ReadString(core, ctx, &value)) return;
  if (!value) return ctx.reply.Integer(0);
  const size_t argc = ctx.args.size();
  int64_t start = 0, end = 0;
  bool isbit = false;
  if (argc == 4 || argc == 5) {
    if (!ArgInt64(ctx, 2, &start) || !ArgInt64(ctx, 3, &end)) return;
    if (start < 0 && end < 0 && start > end) return ctx.reply.Integer(0);
    if (argc == 5) {
      if (EqualsIgnoreCase(ctx.args[4], "bit")) {
        isbit = true;
      } else if (!EqualsIgnoreCase(ctx.args[4], "byte")) {
        return ctx.reply.Error(kSyntaxText);
      }
    }
  } else if (argc != 2) {
    return ctx.reply.Error(kSyntaxText);
  }
  const auto* p = reinterpret_cast<const unsigned char*>(value->data());
  int64_t totlen = static_cast<int64_t>(value->size());
  unsigned first_mask = 0, last_mask = 0;
  if (argc == 2) {
    start = 0;
    end = totlen - 1;
  } else {
    if (isbit) totlen <<= 3;
    if (start < 0) start = totlen + start;
    if (end < 0) end = totlen + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= totlen) end = totlen - 1;
    if (isbit && start <= end) {
      first_mask = ~((1u << (8 - (start & 7))) - 1) & 0xFF;
      last_mask = (1u << (7 - (end & 7))) - 1;
      start >>= 3;
      end >>= 3;
    }
  }
  if (start > end) return ctx.reply.Integer(0);
  int64_t count = PopCount(std::string_view(
      value->data() + start, static_cast<size_t>(end - start + 1)));
  if (first_mask != 0 || last_mask != 0) {
    unsigned char firstlast[2] = {0, 0};
    if (first_mask != 0) firstlast[0] = p[start] & first_mask;
    if (last_mask != 0) firstlast[1] = p[end] & last_mask;
    count -=
        PopCount(std::string_view(reinterpret_cast<const char*>(firstlast), 2));
  }
  ctx.reply.Integer(count);
}

void BitposCommand(EngineCore& core, CommandContext& ctx) {
  const size_t argc = ctx.args.size();
  int64_t bit;
  if (!ArgInt64(ctx, 2, &bit)) return;
  if (bit != 0 && bit != 1) {
    return ctx.reply.Error("ERR The bit argument must be 1 or 0.");
  }
  std::optional<std::string> value;
  if (!ReadString(core, ctx, &value)) return;
  if (!value) return ctx.reply.Integer(bit ? -1 : 0);
  const auto* p = reinterpret_cast<const unsigned char*>(value->data());
  const int64_t strlen = static_cast<int64_t>(value->size());
  int64_t start = 0, end = 0;
  bool isbit = false, end_given = false;
  unsigned first_mask = 0, last_mask = 0;
  if (argc == 4 || argc == 5 || argc == 6) {
    int64_t totlen = strlen;
    if (!ArgInt64(ctx, 3, &start)) return;
    if (argc == 6) {
      if (EqualsIgnoreCase(ctx.args[5], "bit")) {
        isbit = true;
      } else if (!EqualsIgnoreCase(ctx.args[5], "byte")) {
        return ctx.reply.Error(kSyntaxText);
      }
    }
    if (argc >= 5) {
      if (!ArgInt64(ctx, 4, &end)) return;
      end_given = true;
    } else {
      end = isbit ? (totlen << 3) + 7 : totlen - 1;
    }
    if (isbit) totlen <<= 3;
    if (start < 0) start = totlen + start;
    if (end < 0) end = totlen + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= totlen) end = totlen - 1;
    if (isbit && start <= end) {
      first_mask = ~((1u << (8 - (start & 7))) - 1) & 0xFF;
      last_mask = (1u << (7 - (end & 7))) - 1;
      start >>= 3;
      end >>= 3;
    }
  } else if (argc == 3) {
    start = 0;
    end = strlen - 1;
  } else {
    return ctx.reply.Error(kSyntaxText);
  }
  if (start > end) return ctx.reply.Integer(-1);
  int64_t bytes = end - start + 1;
  int64_t pos = -1;
  unsigned char tmp;
  do {
    if (first_mask) {
      tmp = bit ? (p[start] & ~first_mask) : (p[start] | first_mask);
      if (last_mask && bytes == 1) {
        tmp = bit ? (tmp & ~last_mask) : (tmp | last_mask);
      }
      pos = BitposRaw(&tmp, 1, static_cast<int>(bit));
      if (bytes == 1 || (pos != -1 && pos != 8)) break;
      ++start;
      --bytes;
    }
    const int64_t curbytes = bytes - (last_mask ? 1 : 0);
    if (curbytes > 0) {
      pos = BitposRaw(p + start, curbytes, static_cast<int>(bit));
      if (bytes == curbytes || (pos != -1 && pos != curbytes << 3)) break;
      start += curbytes;
      bytes -= curbytes;
    }
    tmp = bit ? (p[end] & ~last_mask) : (p[end] | last_mask);
    pos = BitposRaw(&tmp, 1, static_cast<int>(bit));
  } while (false);
  if (end_given && bit == 0 && pos == bytes << 3) return ctx.reply.Integer(-1);
  if (pos != -1) pos += start << 3;
  ctx.reply.Integer(pos);
}

// One matched range of LCS IDX: [a_start, a_end] in the first string,
// [b_start, b_end] in the second.
struct LcsMatch {
  uint32_t a_start, a_end, b_start, b_end;
};

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN], as Redis 7.0's
// lcsCommand: the classic dynamic-programming table, walked back from the
// end to build the string and the matched ranges (last match first).
void LcsCommand(EngineCore& core, CommandContext& ctx) {
  // Redis looks both keys up before it parses the options.
  std::optional<std::string> values[2];
  bool ok = true;
  WithDb(core, ctx, [&](uint8_t db) {
    for (int k = 0; k < 2 && ok; ++k) {
      auto r = core.strings().Get(db, ctx.args[1 + k]);
      if (r.ok()) {
        values[k] = std::move(*r);
      } else if (IsWrongType(r.status())) {
        ctx.reply.Error("ERR The specified keys must contain string values");
        ok = false;
      } else {
        ReplyStatusError(ctx.reply, r.status());
        ok = false;
      }
    }
  });
  if (!ok) return;
  const std::string a = values[0].value_or(""), b = values[1].value_or("");
  bool getlen = false, getidx = false, withmatchlen = false;
  int64_t minmatchlen = 0;
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    const std::string& opt = ctx.args[j];
    if (EqualsIgnoreCase(opt, "idx")) {
      getidx = true;
    } else if (EqualsIgnoreCase(opt, "len")) {
      getlen = true;
    } else if (EqualsIgnoreCase(opt, "withmatchlen")) {
      withmatchlen = true;
    } else if (EqualsIgnoreCase(opt, "minmatchlen") &&
               j + 1 < ctx.args.size()) {
      if (!ArgInt64(ctx, ++j, &minmatchlen)) return;
      if (minmatchlen < 0) minmatchlen = 0;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
  }
  if (getlen && getidx) {
    return ctx.reply.Error(
        "ERR If you want both the length and indexes, please just use IDX.");
  }
  constexpr uint64_t kMaxLen = std::numeric_limits<uint32_t>::max() - 1;
  if (a.size() >= kMaxLen || b.size() >= kMaxLen) {
    return ctx.reply.Error("ERR String too long for LCS");
  }
  const uint32_t alen = static_cast<uint32_t>(a.size());
  const uint32_t blen = static_cast<uint32_t>(b.size());
  // The table is the only allocation a client sizes: bounded, as in Redis,
  // by proto-max-bulk-len.
  const uint64_t cells = (uint64_t{alen} + 1) * (uint64_t{blen} + 1);
  const uint64_t bytes = cells * sizeof(uint32_t);
  if (bytes / sizeof(uint32_t) != cells ||
      bytes > static_cast<uint64_t>(core.strings().max_bytes())) {
    return ctx.reply.Error(
        "ERR Insufficient memory, transient memory for LCS exceeds "
        "proto-max-bulk-len");
  }
  std::unique_ptr<uint32_t[]> table(new (std::nothrow) uint32_t[cells]);
  if (!table) {
    return ctx.reply.Error(
        "ERR Insufficient memory, failed allocating transient memory for LCS");
  }
  auto at = [&](uint32_t i, uint32_t j) -> uint32_t& {
    return table[j + uint64_t{i} * (blen + 1)];
  };
  for (uint32_t i = 0; i <= alen; ++i) {
    for (uint32_t j = 0; j <= blen; ++j) {
      if (i == 0 || j == 0) {
        at(i, j) = 0;
      } else if (a[i - 1] == b[j - 1]) {
        at(i, j) = at(i - 1, j - 1) + 1;
      } else {
        at(i, j) = std::max(at(i - 1, j), at(i, j - 1));
      }
    }
  }
  const uint32_t total = at(alen, blen);
  if (getlen && !getidx) return ctx.reply.Integer(total);
  std::string result(total, '\0');
  std::vector<LcsMatch> matches;
  uint32_t idx = total;
  // a_start == alen means "no range open".
  LcsMatch range{alen, 0, 0, 0};
  uint32_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      result[idx - 1] = a[i - 1];
      if (range.a_start == alen) {
        range = {i - 1, i - 1, j - 1, j - 1};
      } else if (range.a_start == i && range.b_start == j) {
        --range.a_start;  // contiguous: extend backwards
        --range.b_start;
      } else {
        emit = true;
      }
      // A match at the first byte of either string ends the walk.
      if (range.a_start == 0 || range.b_start == 0) emit = true;
      --idx;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      if (range.a_start != alen) emit = true;
    }
    if (emit) {
      const uint32_t len = range.a_end - range.a_start + 1;
      if (getidx && (minmatchlen == 0 || len >= minmatchlen)) {
        matches.push_back(range);
      }
      range.a_start = alen;
    }
  }
  if (!getidx) return ctx.reply.Bulk(result);
  ctx.reply.MapHeader(2);
  ctx.reply.Bulk("matches");
  ctx.reply.ArrayHeader(matches.size());
  for (const LcsMatch& m : matches) {
    ctx.reply.ArrayHeader(withmatchlen ? 3 : 2);
    ctx.reply.ArrayHeader(2);
    ctx.reply.Integer(m.a_start);
    ctx.reply.Integer(m.a_end);
    ctx.reply.ArrayHeader(2);
    ctx.reply.Integer(m.b_start);
    ctx.reply.Integer(m.b_end);
    if (withmatchlen) ctx.reply.Integer(m.a_end - m.a_start + 1);
  }
  ctx.reply.Bulk("len");
  ctx.reply.Integer(total);
}

}  // namespace

void RegisterStringCommands(EngineCore& core, CommandTable& table,
                            absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;

  reg("get", [c](CommandContext& ctx) {
    std::optional<std::string> v;
    if (ReadString(*c, ctx, &v)) ReplyOptionalBulk(ctx.reply, v);
  });
  reg("set", [c](CommandContext& ctx) {
    int flags = 0;
    const std::string* expire = nullptr;
    if (!ParseExtended(ctx, 3, true, &flags, &expire)) return;
    int64_t at = 0;
    if (expire && !ExpireMs(ctx, *expire, flags, &at)) return;
    DoSet(*c, ctx, ctx.args[1], ctx.args[2], flags, at, false);
  });
  reg("setnx", [c](CommandContext& ctx) {
    DoSet(*c, ctx, ctx.args[1], ctx.args[2], kNx, 0, true);
  });
  reg("setex", [c](CommandContext& ctx) {
    int64_t at;
    if (!ExpireMs(ctx, ctx.args[2], kEx, &at)) return;
    DoSet(*c, ctx, ctx.args[1], ctx.args[3], 0, at, false);
  });
  reg("psetex", [c](CommandContext& ctx) {
    int64_t at;
    if (!ExpireMs(ctx, ctx.args[2], kPx, &at)) return;
    DoSet(*c, ctx, ctx.args[1], ctx.args[3], 0, at, false);
  });
  reg("getset", [c](CommandContext& ctx) {
    DoSet(*c, ctx, ctx.args[1], ctx.args[2], kGet, 0, false);
  });
  reg("getdel", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->strings().GetDel(db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ReplyOptionalBulk(ctx.reply, *r);
    });
  });
  reg("getex", [c](CommandContext& ctx) {
    int flags = 0;
    const std::string* expire = nullptr;
    if (!ParseExtended(ctx, 2, false, &flags, &expire)) return;
    // Redis 7.0 order: options, then the key (nil / WRONGTYPE), then the
    // expire value.
    std::optional<std::string> current;
    if (!ReadString(*c, ctx, &current)) return;
    if (!current) return ctx.reply.Null();
    std::optional<int64_t> at;
    if (expire) {
      int64_t ms;
      if (!ExpireMs(ctx, *expire, flags, &ms)) return;
      at = ms;
    } else if (flags & kPersist) {
      at = 0;
    }
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->strings().GetEx(db, ctx.args[1], at);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ReplyOptionalBulk(ctx.reply, *r);
    });
  });
  reg("mget", [c](CommandContext& ctx) {
    std::vector<std::string> keys(ctx.args.begin() + 1, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->strings().MGet(db, keys);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.ArrayHeader(r->size());
      for (const auto& v : *r) ReplyOptionalBulk(ctx.reply, v);
    });
  });
  auto mset = [c](CommandContext& ctx, bool nx) {
    if (ctx.args.size() % 2 == 0) {
      return ctx.reply.Error(WrongArityError(ctx.spec.name));
    }
    std::vector<std::pair<std::string, std::string>> kvs;
    for (size_t i = 1; i + 1 < ctx.args.size(); i += 2) {
      kvs.emplace_back(ctx.args[i], ctx.args[i + 1]);
    }
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->strings().MSet(db, kvs, nx);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (nx) {
        ctx.reply.Integer(*r ? 1 : 0);
      } else {
        ctx.reply.Ok();
      }
    });
  };
  reg("mset", [mset](CommandContext& ctx) { mset(ctx, false); });
  reg("msetnx", [mset](CommandContext& ctx) { mset(ctx, true); });
  reg("incr", [c](CommandContext& ctx) { IncrCommand(*c, ctx, 1); });
  reg("decr", [c](CommandContext& ctx) { IncrCommand(*c, ctx, -1); });
  reg("incrby", [c](CommandContext& ctx) {
    int64_t by;
    if (ArgInt64(ctx, 2, &by)) IncrCommand(*c, ctx, by);
  });
  reg("decrby", [c](CommandContext& ctx) {
    int64_t by;
    if (!ArgInt64(ctx, 2, &by)) return;
    if (by == std::numeric_limits<int64_t>::min()) {
      return ctx.reply.Error("ERR decrement would overflow");
    }
    IncrCommand(*c, ctx, -by);
  });
  reg("incrbyfloat", [c](CommandContext& ctx) {
    long double by;
    if (!ParseLongDouble(ctx.args[2], &by)) {
      return ctx.reply.Error("ERR value is not a valid float");
    }
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->strings().IncrByFloat(db, ctx.args[1], by);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Bulk(*r);
    });
  });
  reg("append", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->strings().Append(db, ctx.args[1], ctx.args[2]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("strlen", [c](CommandContext& ctx) {
    std::optional<std::string> v;
    if (ReadString(*c, ctx, &v)) {
      ctx.reply.Integer(v ? static_cast<int64_t>(v->size()) : 0);
    }
  });
  auto getrange = [c](CommandContext& ctx) {
    int64_t start, end;
    if (!ArgInt64(ctx, 2, &start) || !ArgInt64(ctx, 3, &end)) return;
    std::optional<std::string> v;
    if (!ReadString(*c, ctx, &v)) return;
    ctx.reply.Bulk(v ? StringRange(*v, start, end) : std::string_view());
  };
  reg("getrange", getrange);
  reg("substr", getrange);
  reg("setrange", [c](CommandContext& ctx) {
    int64_t offset;
    if (!ArgInt64(ctx, 2, &offset)) return;
    if (offset < 0) return ctx.reply.Error("ERR offset is out of range");
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->strings().SetRange(db, ctx.args[1], offset, ctx.args[3]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  reg("setbit", [c](CommandContext& ctx) {
    uint64_t offset;
    if (!ParseBitOffset(ctx, *c, &offset)) return;
    int64_t on;
    if (!ParseInt64(ctx.args[3], &on) || (on & ~1)) {
      return ctx.reply.Error("ERR bit is not an integer or out of range");
    }
    WithDb(*c, ctx, [&](uint8_t db) {
      bool changed = false;
      auto r = c->strings().SetBit(db, ctx.args[1], offset,
                                   static_cast<int>(on), &changed);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.session.changes = changed ? 1 : 0;
      ctx.reply.Integer(*r);
    });
  });
  reg("getbit", [c](CommandContext& ctx) {
    uint64_t offset;
    if (!ParseBitOffset(ctx, *c, &offset)) return;
    std::optional<std::string> v;
    if (!ReadString(*c, ctx, &v)) return;
    int bit = 0;
    if (v && (offset >> 3) < v->size()) {
      bit = (static_cast<unsigned char>((*v)[offset >> 3]) >>
             (7 - (offset & 7))) &
            1;
    }
    ctx.reply.Integer(bit);
  });
  reg("bitcount", [c](CommandContext& ctx) { BitcountCommand(*c, ctx); });
  reg("lcs", [c](CommandContext& ctx) { LcsCommand(*c, ctx); });
  reg("bitpos", [c](CommandContext& ctx) { BitposCommand(*c, ctx); });
  reg("bitop", [c](CommandContext& ctx) {
    const std::string& name = ctx.args[1];
    BitOperation op;
    if (EqualsIgnoreCase(name, "and")) {
      op = BitOperation::kAnd;
    } else if (EqualsIgnoreCase(name, "or")) {
      op = BitOperation::kOr;
    } else if (EqualsIgnoreCase(name, "xor")) {
      op = BitOperation::kXor;
    } else if (EqualsIgnoreCase(name, "not")) {
      op = BitOperation::kNot;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
    if (op == BitOperation::kNot && ctx.args.size() != 4) {
      return ctx.reply.Error(
          "ERR BITOP NOT must be called with a single source key.");
    }
    std::vector<std::string> sources(ctx.args.begin() + 3, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = c->strings().BitOp(db, op, ctx.args[2], sources);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(*r);
    });
  });
  RegisterBitFieldCommands(core, table, status);
}

}  // namespace reborn::qdb
