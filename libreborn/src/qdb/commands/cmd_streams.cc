// RESP handlers of the stream entry commands (XADD, XLEN, XRANGE,
// XREVRANGE, XDEL, XTRIM, XSETID) and of XREAD/XREADGROUP, as redis-server
// 7.0's t_stream.c does them, over qdb::Streams.
#include "qdb/commands/cmd_streams.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "qdb/commands/cmd_util.h"

namespace reborn::qdb {
namespace {

constexpr uint64_t kListpackMaxSize = uint64_t{1} << 30;
constexpr int64_t kBlockedDefaultCount = 1000;

// streamAddTrimArgs.
struct AddTrimArgs {
  StreamId id;
  bool id_given = false;
  bool seq_given = false;
  bool no_mkstream = false;
  TrimArgs trim;
  size_t trim_arg_at = 0;  // args index of the MAXLEN/MINID value
};

// The part MAXLEN and MINID share: only one of them, then an optional `~`
// (approximate) or `=` before the value; *i moves past the marker. Replies
// an error and returns false when both options are given.
bool StartTrimOption(CommandContext& ctx, size_t more, size_t* i,
                     TrimArgs* trim) {
  if (trim->strategy != TrimStrategy::kNone) {
    ctx.reply.Error(
        "ERR syntax error, MAXLEN and MINID options at the same time are "
        "not compatible");
    return false;
  }
  trim->approx = false;
  const std::string_view marker =
      more >= 2 ? std::string_view(ctx.args[*i + 1]) : std::string_view();
  if (marker == "~" || marker == "=") {
    trim->approx = marker == "~";
    ++*i;
  }
  return true;
}

// streamParseAddOrTrimArgsOrReply: the position of XADD's id argument, or 0
// after replying an error.
size_t ParseAddOrTrim(EngineCore& core, CommandContext& ctx, bool xadd,
                      AddTrimArgs* a) {
  auto& args = ctx.args;
  const size_t argc = args.size();
  size_t i = 2;
  bool limit_given = false;
  for (; i < argc; ++i) {
    const size_t more = argc - 1 - i;
    const std::string& opt = args[i];
    if (xadd && opt == "*") {
      break;
    } else if (EqualsIgnoreCase(opt, "maxlen") && more > 0) {
      if (!StartTrimOption(ctx, more, &i, &a->trim)) return 0;
      if (!ArgInt64(ctx, i + 1, &a->trim.maxlen)) return 0;
      if (a->trim.maxlen < 0) {
        ctx.reply.Error("ERR The MAXLEN argument must be >= 0.");
        return 0;
      }
      ++i;
      a->trim.strategy = TrimStrategy::kMaxLen;
      a->trim_arg_at = i;
    } else if (EqualsIgnoreCase(opt, "minid") && more > 0) {
      if (!StartTrimOption(ctx, more, &i, &a->trim)) return 0;
      if (!ArgStreamId(ctx, i + 1, &a->trim.minid, 0, true)) return 0;
      ++i;
      a->trim.strategy = TrimStrategy::kMinId;
      a->trim_arg_at = i;
    } else if (EqualsIgnoreCase(opt, "limit") && more > 0) {
      if (!ArgInt64(ctx, i + 1, &a->trim.limit)) return 0;
      if (a->trim.limit < 0) {
        ctx.reply.Error("ERR The LIMIT argument must be >= 0.");
        return 0;
      }
      limit_given = true;
      ++i;
    } else if (xadd && EqualsIgnoreCase(opt, "nomkstream")) {
      a->no_mkstream = true;
    } else if (xadd) {
      if (!ArgStreamId(ctx, i, &a->id, 0, true, &a->seq_given)) return 0;
      a->id_given = true;
      break;
    } else {
      ctx.reply.Error(kSyntaxText);
      return 0;
    }
  }
  if (a->trim.limit != 0 && a->trim.strategy == TrimStrategy::kNone) {
    ctx.reply.Error(
        "ERR syntax error, LIMIT cannot be used without specifying a trimming "
        "strategy");
    return 0;
  }
  if (!xadd && a->trim.strategy == TrimStrategy::kNone) {
    ctx.reply.Error(
        "ERR syntax error, XTRIM must be called with a trimming strategy");
    return 0;
  }
  if (limit_given) {
    if (!a->trim.approx) {
      ctx.reply.Error(
          "ERR syntax error, LIMIT cannot be used without the special ~ "
          "option");
      return 0;
    }
  } else if (a->trim.approx) {
    int64_t limit = 100 * core.streams().node_max_entries();
    if (limit <= 0) limit = 10000;
    if (limit > 1000000) limit = 1000000;
    a->trim.limit = limit;
  } else {
    a->trim.limit = 0;
  }
  return i;
}

// streamRewriteApproxSpecifier + streamRewriteTrimArgument: what replicas
// get, so that their trimming is exact.
void RewriteTrim(CommandContext& ctx, const AddTrimArgs& a, const Stream& s) {
  ctx.args[a.trim_arg_at - 1].assign(1, '=');
  ctx.args[a.trim_arg_at] = a.trim.strategy == TrimStrategy::kMaxLen
                                ? std::to_string(s.length())
                                : s.state.first_id.ToString();
}

void XAddCommand(EngineCore& core, CommandContext& ctx) {
  AddTrimArgs a;
  const size_t idpos = ParseAddOrTrim(core, ctx, true, &a);
  if (idpos == 0) return;
  const size_t field_pos = idpos + 1;
  const size_t argc = ctx.args.size();
  if (argc < field_pos + 2 || (argc - field_pos) % 2 == 1) {
    return ctx.reply.Error(WrongArityError("xadd"));
  }
  if (a.id_given && a.seq_given && a.id.zero()) {
    return ctx.reply.Error(
        "ERR The ID specified in XADD must be greater than 0-0");
  }
  const std::vector<std::string> fields(ctx.args.begin() + field_pos,
                                        ctx.args.end());
  WithDb(core, ctx, [&](uint8_t db) {
    Keyspace& ks = core.keyspace();
    Streams& streams = core.streams();
    const std::string& key = ctx.args[1];
    KeyLocks::Guard guard = ks.locks().Lock(db, key);
    Txn txn(&ks);
    auto loaded = streams.LoadForWrite(txn, db, key);
    if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
    const bool existed = loaded->has_value();
    const Metadata old = existed ? (*loaded)->meta : Metadata{};
    auto finish_error = [&](std::string_view text) {
      // An expired record found on the way is still deleted.
      if (absl::Status s = txn.Commit(); !s.ok()) {
        return ReplyStatusError(ctx.reply, s);
      }
      ctx.reply.Error(text);
    };
    if (!existed && a.no_mkstream) {
      if (absl::Status s = txn.Commit(); !s.ok()) {
        return ReplyStatusError(ctx.reply, s);
      }
      return ctx.reply.Null();
    }
    Stream s = existed ? std::move(**loaded) : streams.Create();
    const StreamId last = s.state.last_id;
    if (last == StreamId::Max()) {
      return finish_error(
          "ERR The stream has exhausted the last possible ID, unable to add "
          "more items");
    }
    StreamId id;
    bool valid = true;
    if (a.id_given) {
      if (a.seq_given) {
        id = a.id;
      } else if (last.ms == a.id.ms) {
        if (last.seq == UINT64_MAX) valid = false;
        id = last;
        ++id.seq;
      } else {
        id = a.id;
      }
    } else {
      const uint64_t now = static_cast<uint64_t>(Keyspace::NowMs());
      if (now > last.ms) {
        id = StreamId{now, 0};
      } else {
        id = last;
        id.Incr();
      }
    }
    if (!valid || id <= last) {
      return finish_error(
          "ERR The ID specified in XADD is equal or smaller than the target "
          "stream top item");
    }
    uint64_t total = 0;
    for (const auto& f : fields) total += f.size();
    if (total > kListpackMaxSize) {
      return finish_error("ERR Elements are too large to be stored");
    }
    streams.Append(txn, db, key, s, id, fields);
    if (a.trim.strategy != TrimStrategy::kNone) {
      auto trimmed = streams.Trim(txn, db, key, s, a.trim, id);
      if (!trimmed.ok()) return ReplyStatusError(ctx.reply, trimmed.status());
      if (a.trim.approx) RewriteTrim(ctx, a, s);
    }
    streams.Save(txn, db, key, existed ? &old : nullptr, s);
    if (absl::Status st = txn.Commit(); !st.ok()) {
      return ReplyStatusError(ctx.reply, st);
    }
    const std::string id_text = id.ToString();
    if (!a.id_given || !a.seq_given) ctx.args[idpos] = id_text;
    ctx.reply.Bulk(id_text);
  });
}

void XTrimCommand(EngineCore& core, CommandContext& ctx) {
  AddTrimArgs a;
  const size_t end = ParseAddOrTrim(core, ctx, false, &a);
  if (end == 0) return;
  WithDb(core, ctx, [&](uint8_t db) {
    Keyspace& ks = core.keyspace();
    Streams& streams = core.streams();
    const std::string& key = ctx.args[1];
    KeyLocks::Guard guard = ks.locks().Lock(db, key);
    Txn txn(&ks);
    auto loaded = streams.LoadForWrite(txn, db, key);
    if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
    if (!*loaded) {
      if (absl::Status s = txn.Commit(); !s.ok()) {
        return ReplyStatusError(ctx.reply, s);
      }
      return ctx.reply.Integer(0);
    }
    Stream s = std::move(**loaded);
    const Metadata old = s.meta;
    auto trimmed = streams.Trim(txn, db, key, s, a.trim, std::nullopt);
    if (!trimmed.ok()) return ReplyStatusError(ctx.reply, trimmed.status());
    if (*trimmed > 0) streams.Save(txn, db, key, &old, s);
    if (absl::Status st = txn.Commit(); !st.ok()) {
      return ReplyStatusError(ctx.reply, st);
    }
    if (a.trim.approx) RewriteTrim(ctx, a, s);
    ctx.reply.Integer(*trimmed);
  });
}

void XRangeCommand(EngineCore& core, CommandContext& ctx, bool rev) {
  const size_t start_at = rev ? 3 : 2;
  const size_t end_at = rev ? 2 : 3;
  StreamId start, end;
  auto parse_interval = [&](size_t at, StreamId* id, bool* exclusive,
                            uint64_t missing_seq) {
    const std::string& text = ctx.args[at];
    *exclusive = text.size() > 1 && text[0] == '(';
    bool ok = *exclusive ? ParseStreamId(std::string_view(text).substr(1), id,
                                         missing_seq, true)
                         : ParseStreamId(text, id, missing_seq, false);
    if (!ok) ctx.reply.Error(kInvalidStreamIdText);
    return ok;
  };
  bool start_ex, end_ex;
  if (!parse_interval(start_at, &start, &start_ex, 0)) return;
  if (start_ex && !start.Incr()) {
    return ctx.reply.Error("ERR invalid start ID for the interval");
  }
  if (!parse_interval(end_at, &end, &end_ex, UINT64_MAX)) return;
  if (end_ex && !end.Decr()) {
    return ctx.reply.Error("ERR invalid end ID for the interval");
  }
  int64_t count = -1;
  for (size_t j = 4; j < ctx.args.size(); ++j) {
    if (EqualsIgnoreCase(ctx.args[j], "count") && j + 1 < ctx.args.size()) {
      if (!ArgInt64(ctx, j + 1, &count)) return;
      if (count < 0) count = 0;
      ++j;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto loaded = core.streams().Load(db, ctx.args[1]);
    if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
    if (!*loaded) return ctx.reply.ArrayHeader(0);
    if (count == 0) return ctx.reply.NullArray();
    auto entries =
        core.streams().Range(db, ctx.args[1], (*loaded)->meta.version, start,
                             end, count < 0 ? 0 : count, rev);
    if (!entries.ok()) return ReplyStatusError(ctx.reply, entries.status());
    ReplyStreamEntries(ctx.reply, *entries);
  });
}

void XDelCommand(EngineCore& core, CommandContext& ctx) {
  WithDb(core, ctx, [&](uint8_t db) {
    Keyspace& ks = core.keyspace();
    const std::string& key = ctx.args[1];
    KeyLocks::Guard guard = ks.locks().Lock(db, key);
    Txn txn(&ks);
    auto loaded = core.streams().LoadForWrite(txn, db, key);
    if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
    auto commit_then = [&](auto&& fn) {
      if (absl::Status s = txn.Commit(); !s.ok()) {
        return ReplyStatusError(ctx.reply, s);
      }
      fn();
    };
    if (!*loaded) return commit_then([&] { ctx.reply.Integer(0); });
    std::vector<StreamId> ids(ctx.args.size() - 2);
    for (size_t j = 2; j < ctx.args.size(); ++j) {
      if (!ParseStreamId(ctx.args[j], &ids[j - 2], 0, true)) {
        return commit_then([&] { ctx.reply.Error(kInvalidStreamIdText); });
      }
    }
    Stream s = std::move(**loaded);
    const Metadata old = s.meta;
    auto deleted = core.streams().Delete(txn, db, key, s, ids);
    if (!deleted.ok()) return ReplyStatusError(ctx.reply, deleted.status());
    if (*deleted > 0) core.streams().Save(txn, db, key, &old, s);
    commit_then([&] { ctx.reply.Integer(*deleted); });
  });
}

void XSetIdCommand(EngineCore& core, CommandContext& ctx) {
  StreamId id, max_xdel;
  int64_t entries_added = -1;
  if (!ArgStreamId(ctx, 2, &id, 0, true)) return;
  for (size_t i = 3; i < ctx.args.size();) {
    const bool more = i + 1 < ctx.args.size();
    if (EqualsIgnoreCase(ctx.args[i], "entriesadded") && more) {
      if (!ArgInt64(ctx, i + 1, &entries_added)) return;
      if (entries_added < 0) {
        return ctx.reply.Error("ERR entries_added must be positive");
      }
      i += 2;
    } else if (EqualsIgnoreCase(ctx.args[i], "maxdeletedid") && more) {
      if (!ArgStreamId(ctx, i + 1, &max_xdel, 0, true)) return;
      if (id < max_xdel) {
        return ctx.reply.Error(
            "ERR The ID specified in XSETID is smaller than the provided "
            "max_deleted_entry_id");
      }
      i += 2;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
  }
  WithDb(core, ctx, [&](uint8_t db) {
    Keyspace& ks = core.keyspace();
    const std::string& key = ctx.args[1];
    KeyLocks::Guard guard = ks.locks().Lock(db, key);
    Txn txn(&ks);
    auto loaded = core.streams().LoadForWrite(txn, db, key);
    if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
    std::string error;
    if (!*loaded) {
      error = "ERR no such key";
    } else {
      Stream& s = **loaded;
      if (s.length() > 0) {
        auto top = core.streams().Range(db, key, s.meta.version, StreamId{},
                                        StreamId::Max(), 1, true);
        if (!top.ok()) return ReplyStatusError(ctx.reply, top.status());
        if (!top->empty() && id < top->front().id) {
          error =
              "ERR The ID specified in XSETID is smaller than the target "
              "stream top item";
        } else if (entries_added != -1 &&
                   s.length() > static_cast<uint64_t>(entries_added)) {
          error =
              "ERR The entries_added specified in XSETID is smaller than the "
              "target stream length";
        }
      }
      if (error.empty()) {
        const Metadata old = s.meta;
        s.state.last_id = id;
        if (entries_added != -1) {
          s.state.entries_added = static_cast<uint64_t>(entries_added);
        }
        if (!max_xdel.zero()) s.state.max_deleted_id = max_xdel;
        core.streams().Save(txn, db, key, &old, s);
      }
    }
    if (absl::Status st = txn.Commit(); !st.ok()) {
      return ReplyStatusError(ctx.reply, st);
    }
    if (!error.empty()) return ctx.reply.Error(error);
    ctx.reply.Ok();
  });
}

// getTimeoutFromObjectOrReply in milliseconds.
bool ArgTimeoutMs(CommandContext& ctx, size_t i, int64_t* ms) {
  int64_t v;
  if (!ParseInt64(ctx.args[i], &v)) {
    ctx.reply.Error("ERR timeout is not an integer or out of range");
    return false;
  }
  if (v < 0) {
    ctx.reply.Error("ERR timeout is negative");
    return false;
  }
  if (v > 0 && v > std::numeric_limits<int64_t>::max() - Keyspace::NowMs()) {
    ctx.reply.Error("ERR timeout is out of range");
    return false;
  }
  *ms = v;
  return true;
}

}  // namespace

bool ArgStreamId(CommandContext& ctx, size_t i, StreamId* id,
                 uint64_t missing_seq, bool strict, bool* seq_given) {
  if (ParseStreamId(ctx.args[i], id, missing_seq, strict, seq_given)) {
    return true;
  }
  ctx.reply.Error(kInvalidStreamIdText);
  return false;
}

void ReplyStreamEntry(resp::ReplyWriter& reply, const StreamEntry& entry) {
  reply.ArrayHeader(2);
  reply.Bulk(entry.id.ToString());
  reply.ArrayHeader(entry.fields.size());
  for (const auto& f : entry.fields) reply.Bulk(f);
}

void ReplyStreamEntries(resp::ReplyWriter& reply,
                        const std::vector<StreamEntry>& entries) {
  reply.ArrayHeader(entries.size());
  for (const auto& e : entries) ReplyStreamEntry(reply, e);
}

bool StreamRangeHasTombstones(const Stream& s, StreamId start, StreamId end) {
  const StreamState& st = s.state;
  if (s.length() == 0 || st.max_deleted_id.zero()) return false;
  if (st.first_id > st.max_deleted_id) return false;
  return start <= st.max_deleted_id && st.max_deleted_id <= end;
}

int64_t StreamEstimateDistance(const Stream& s, StreamId id) {
  const StreamState& st = s.state;
  const int64_t added = static_cast<int64_t>(st.entries_added);
  if (st.entries_added == 0) return 0;
  if (s.length() == 0 && id <= st.last_id) return added;
  if (id == st.last_id) return added;
  if (id > st.last_id) return -1;
  if (st.max_deleted_id.zero() || st.max_deleted_id < st.first_id) {
    if (id < st.first_id) return added - static_cast<int64_t>(s.length());
    if (id == st.first_id) return added - static_cast<int64_t>(s.length()) + 1;
  }
  return -1;
}

std::optional<int64_t> StreamGroupLag(const Stream& s, const StreamGroup& g) {
  if (s.state.entries_added == 0) return 0;
  const int64_t added = static_cast<int64_t>(s.state.entries_added);
  if (g.entries_read != -1 &&
      !StreamRangeHasTombstones(s, g.last_id, StreamId::Max())) {
    return added - g.entries_read;
  }
  const int64_t read = StreamEstimateDistance(s, g.last_id);
  if (read == -1) return std::nullopt;
  return added - read;
}

void RegisterStreamCommands(EngineCore& core, CommandTable& table,
                            absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;
  reg("xadd", [c](CommandContext& ctx) { XAddCommand(*c, ctx); });
  reg("xtrim", [c](CommandContext& ctx) { XTrimCommand(*c, ctx); });
  reg("xrange", [c](CommandContext& ctx) { XRangeCommand(*c, ctx, false); });
  reg("xrevrange", [c](CommandContext& ctx) { XRangeCommand(*c, ctx, true); });
  reg("xdel", [c](CommandContext& ctx) { XDelCommand(*c, ctx); });
  reg("xsetid", [c](CommandContext& ctx) { XSetIdCommand(*c, ctx); });
  reg("xlen", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto loaded = c->streams().Load(db, ctx.args[1]);
      if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
      ctx.reply.Integer(*loaded ? static_cast<int64_t>((*loaded)->length())
                                : 0);
    });
  });
  // A server with blocking support registers its own XREAD/XREADGROUP,
  // which call XReadCommand.
  for (bool group : {false, true}) {
    const char* name = group ? "xreadgroup" : "xread";
    if (table.Find(name) != nullptr) continue;
    reg(name, [c, group](CommandContext& ctx) {
      StreamWait wait;
      XReadCommand(*c, ctx, group, &wait);
      if (wait.block) ctx.reply.NullArray();
    });
  }
}

// ---------------------------------------------------------------- XREAD

void XReadCommand(EngineCore& core, CommandContext& ctx, bool group,
                  StreamWait* wait) {
  auto& args = ctx.args;
  const size_t argc = args.size();
  int64_t timeout = -1;
  int64_t count = 0;
  size_t streams_arg = 0;
  size_t streams_count = 0;
  bool noack = false;
  const std::string* group_name = nullptr;
  const std::string* consumer_name = nullptr;
  for (size_t i = 1; i < argc; ++i) {
    const size_t more = argc - i - 1;
    const std::string& o = args[i];
    if (EqualsIgnoreCase(o, "block") && more > 0) {
      if (ctx.session.script) {
        // Redis refuses BLOCK in a script outright (not as a timeout).
        return ctx.reply.Error(absl::StrCat(
            args[0], " command is not allowed with BLOCK option from scripts"));
      }
      ++i;
      if (!ArgTimeoutMs(ctx, i, &timeout)) return;
    } else if (EqualsIgnoreCase(o, "count") && more > 0) {
      ++i;
      if (!ArgInt64(ctx, i, &count)) return;
      if (count < 0) count = 0;
    } else if (EqualsIgnoreCase(o, "streams") && more > 0) {
      streams_arg = i + 1;
      streams_count = argc - streams_arg;
      if (streams_count % 2 != 0) {
        return ctx.reply.Error(
            "ERR Unbalanced XREAD list of streams: for each stream key an ID "
            "or '$' must be specified.");
      }
      streams_count /= 2;
      break;
    } else if (EqualsIgnoreCase(o, "group") && more >= 2) {
      if (!group) {
        return ctx.reply.Error(
            "ERR The GROUP option is only supported by XREADGROUP. You called "
            "XREAD instead.");
      }
      group_name = &args[i + 1];
      consumer_name = &args[i + 2];
      i += 2;
    } else if (EqualsIgnoreCase(o, "noack")) {
      if (!group) {
        return ctx.reply.Error(
            "ERR The NOACK option is only supported by XREADGROUP. You called "
            "XREAD instead.");
      }
      noack = true;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
  }
  if (streams_arg == 0) return ctx.reply.Error(kSyntaxText);
  if (group && group_name == nullptr) {
    return ctx.reply.Error("ERR Missing GROUP option for XREADGROUP");
  }
  // XREADGROUP's effects are propagated as XCLAIM / XGROUP commands.
  if (group) ctx.session.effects.emplace();
  WithDb(core, ctx, [&](uint8_t db) {
    Streams& streams = core.streams();
    Keyspace& ks = core.keyspace();
    std::vector<StreamId> ids(streams_count);
    std::vector<bool> newest(streams_count, false);  // ">"
    for (size_t k = 0; k < streams_count; ++k) {
      const std::string& key = args[streams_arg + k];
      const std::string& id_arg = args[streams_arg + streams_count + k];
      auto loaded = streams.Load(db, key);
      if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
      if (group_name != nullptr &&
          (!*loaded || (*loaded)->state.FindGroup(*group_name) == nullptr)) {
        return ctx.reply.Error(
            absl::StrCat("NOGROUP No such key '", key, "' or consumer group '",
                         *group_name, "' in XREADGROUP with GROUP option"));
      }
      if (id_arg == "$") {
        if (group) {
          return ctx.reply.Error(
              "ERR The $ ID is meaningless in the context of XREADGROUP: you "
              "want to read the history of this consumer by specifying a "
              "proper ID, or use the > ID to get new messages. The $ ID would "
              "just return an empty result set.");
        }
        ids[k] = *loaded ? (*loaded)->state.last_id : StreamId{};
        continue;
      }
      if (id_arg == ">") {
        if (!group) {
          return ctx.reply.Error(
              "ERR The > ID can be specified only when calling XREADGROUP "
              "using the GROUP <group> <consumer> option.");
        }
        ids[k] = StreamId::Max();
        newest[k] = true;
        continue;
      }
      if (!ArgStreamId(ctx, streams_arg + streams_count + k, &ids[k], 0,
                       true)) {
        return;
      }
    }
    // Serve what is there. The reply's header needs the number of streams
    // served, so each stream's part is written aside first.
    std::string body;
    resp::ReplyWriter part(&body, ctx.reply.protocol());
    size_t served = 0;
    for (size_t k = 0; k < streams_count; ++k) {
      const std::string& key = args[streams_arg + k];
      std::optional<KeyLocks::Guard> guard;
      Txn txn(&ks);
      absl::StatusOr<std::optional<Stream>> loaded =
          group ? (guard.emplace(ks.locks().Lock(db, key)),
                   streams.LoadForWrite(txn, db, key))
                : streams.Load(db, key);
      if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
      if (!*loaded) continue;
      Stream& s = **loaded;
      StreamGroup* g = nullptr;
      if (group) {
        g = s.state.FindGroup(*group_name);
        if (g == nullptr) continue;  // gone since the check above
      }
      const bool history = group && !newest[k];
      bool serve = history;
      if (!serve && s.length() > 0) {
        const StreamId after = group ? g->last_id : ids[k];
        serve = s.state.last_id > after;
        if (serve) {
          // streamLastValidID: the last live entry, not the last id.
          auto top = streams.Range(db, key, s.meta.version, StreamId{},
                                   StreamId::Max(), 1, true);
          if (!top.ok()) return ReplyStatusError(ctx.reply, top.status());
          serve = !top->empty() && top->front().id > after;
        }
      }
      if (!serve) continue;
      ++served;
      if (ctx.reply.protocol() < 3) part.ArrayHeader(2);
      part.Bulk(key);
      if (!group) {
        StreamId start = ids[k];
        start.Incr();
        auto entries = streams.Range(db, key, s.meta.version, start,
                                     StreamId::Max(), count, false);
        if (!entries.ok()) return ReplyStatusError(ctx.reply, entries.status());
        ReplyStreamEntries(part, *entries);
        continue;
      }
      const Metadata old = s.meta;
      const int64_t now = Keyspace::NowMs();
      auto& effects = *ctx.session.effects;
      StreamConsumer* consumer = g->FindConsumer(*consumer_name);
      if (consumer == nullptr) {
        consumer = AddConsumer(*g, *consumer_name, now);
        if (noack) {
          effects.push_back(
              {"XGROUP", "CREATECONSUMER", key, g->name, consumer->name});
        }
      }
      consumer->seen_ms = now;
      if (history) {
        StreamId start = ids[k];
        start.Incr();
        auto pel = streams.PelRange(db, key, s.meta.version, g->name, start,
                                    StreamId::Max(), count, consumer->name);
        if (!pel.ok()) return ReplyStatusError(ctx.reply, pel.status());
        part.ArrayHeader(pel->size());
        for (PendingEntry& pe : *pel) {
          auto entry = streams.Get(db, key, s.meta.version, pe.id);
          if (!entry.ok()) return ReplyStatusError(ctx.reply, entry.status());
          if (!*entry) {
            part.ArrayHeader(2);
            part.Bulk(pe.id.ToString());
            part.NullArray();
            continue;
          }
          ReplyStreamEntry(part, **entry);
          pe.delivery_ms = now;
          ++pe.delivery_count;
          streams.PelPut(txn, db, key, s.meta.version, g->name, pe);
        }
      } else {
        StreamId start = g->last_id;
        start.Incr();
        auto entries = streams.Range(db, key, s.meta.version, start,
                                     StreamId::Max(), count, false);
        if (!entries.ok()) return ReplyStatusError(ctx.reply, entries.status());
        bool propagate_last_id = false;
        for (const StreamEntry& e : *entries) {
          if (e.id > g->last_id) {
            propagate_last_id = noack;
            if (g->entries_read != -1 &&
                !StreamRangeHasTombstones(s, e.id, StreamId::Max())) {
              ++g->entries_read;
            } else if (s.state.entries_added != 0) {
              g->entries_read = StreamEstimateDistance(s, e.id);
            }
            g->last_id = e.id;
          }
          if (noack) continue;
          auto prev = streams.PelGet(db, key, s.meta.version, g->name, e.id);
          if (!prev.ok()) return ReplyStatusError(ctx.reply, prev.status());
          if (*prev) {
            StreamConsumer* owner = g->FindConsumer((*prev)->consumer);
            if (owner != nullptr && owner->pending > 0) --owner->pending;
          } else {
            ++g->pel_count;
          }
          ++consumer->pending;
          streams.PelPut(txn, db, key, s.meta.version, g->name,
                         PendingEntry{e.id, consumer->name, now, 1});
          effects.push_back(ClaimEffect(key, *g, consumer->name, e.id, now, 1));
        }
        if (propagate_last_id) effects.push_back(SetIdEffect(key, *g));
        ReplyStreamEntries(part, *entries);
      }
      streams.Save(txn, db, key, &old, s);
      if (absl::Status st = txn.Commit(); !st.ok()) {
        return ReplyStatusError(ctx.reply, st);
      }
    }
    if (served > 0) {
      if (ctx.reply.protocol() < 3) {
        ctx.reply.ArrayHeader(served);
      } else {
        ctx.reply.MapHeader(served);
      }
      ctx.reply.Raw(body);
      return;
    }
    if (timeout == -1) return ctx.reply.NullArray();
    wait->block = true;
    wait->timeout_ms = timeout;
    wait->count = count != 0 ? count : kBlockedDefaultCount;
    wait->noack = noack;
    if (group) {
      wait->group = *group_name;
      wait->consumer = *consumer_name;
    }
    for (size_t k = 0; k < streams_count; ++k) {
      wait->keys.push_back(args[streams_arg + k]);
      wait->ids.push_back(newest[k] ? ">" : ids[k].ToString());
    }
  });
}

}  // namespace reborn::qdb
