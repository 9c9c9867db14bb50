// RESP handlers of the consumer group commands (XGROUP, XACK, XPENDING,
// XCLAIM, XAUTOCLAIM) and XINFO, as redis-server 7.0's t_stream.c does
// them, over qdb::Streams. Writes that Redis propagates as other commands
// (XCLAIM, XAUTOCLAIM) set Session::effects.
#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "qdb/commands/cmd_streams.h"
#include "qdb/commands/cmd_util.h"

namespace reborn::qdb {
namespace {

std::string SubcommandSyntaxError(const CommandContext& ctx) {
  return absl::StrCat(
      "ERR unknown subcommand or wrong number of arguments for '",
      ctx.args[1].substr(0, 128), "'. Try ", absl::AsciiStrToUpper(ctx.args[0]),
      " HELP.");
}

void ReplyHelp(CommandContext& ctx, const std::vector<std::string_view>& help) {
  ctx.reply.ArrayHeader(help.size() + 3);
  ctx.reply.SimpleString(absl::StrCat(
      absl::AsciiStrToUpper(ctx.args[0]),
      " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
  for (std::string_view line : help) ctx.reply.SimpleString(line);
  ctx.reply.SimpleString("HELP");
  ctx.reply.SimpleString("    Prints this help.");
}

// The container command's subcommand table: name and Redis' arity. Replies
// the error and returns false for unknown subcommands and wrong arities.
bool CheckSubcommand(
    CommandContext& ctx,
    const std::vector<std::pair<std::string_view, int>>& subcommands) {
  const std::string sub = absl::AsciiStrToLower(ctx.args[1]);
  for (const auto& [name, arity] : subcommands) {
    if (sub != name) continue;
    const int argc = static_cast<int>(ctx.args.size());
    if (arity >= 0 ? argc != arity : argc < -arity) {
      ctx.reply.Error(WrongArityError(absl::StrCat(
          absl::AsciiStrToLower(ctx.args[0]), "|", std::string(name))));
      return false;
    }
    return true;
  }
  ctx.reply.Error(UnknownSubcommandError(ctx.args[0], ctx.args[1]));
  return false;
}

// Runs fn(db, txn, stream) under the key's lock and commits, for commands
// on an existing stream; `missing` is called instead when it is absent.
// fn returns false after replying an error (the batch is dropped, except for
// an expired record's removal).
template <typename Fn, typename Missing>
void WithStreamForWrite(EngineCore& core, CommandContext& ctx,
                        std::string_view key, Fn fn, Missing missing) {
  WithDb(core, ctx, [&](uint8_t db) {
    Keyspace& ks = core.keyspace();
    KeyLocks::Guard guard = ks.locks().Lock(db, key);
    Txn txn(&ks);
    auto loaded = core.streams().LoadForWrite(txn, db, key);
    if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
    if (!*loaded) {
      if (absl::Status s = txn.Commit(); !s.ok()) {
        return ReplyStatusError(ctx.reply, s);
      }
      return missing();
    }
    Stream& s = **loaded;
    const Metadata old = s.meta;
    std::string body;
    resp::ReplyWriter out(&body, ctx.reply.protocol());
    if (!fn(db, txn, s, old, out)) {
      // Only the removal of an expired record, if any, is committed.
      return;
    }
    if (absl::Status st = txn.Commit(); !st.ok()) {
      return ReplyStatusError(ctx.reply, st);
    }
    ctx.reply.Raw(body);
  });
}

std::string NoGroupError(std::string_view key, std::string_view group) {
  return absl::StrCat("NOGROUP No such key '", std::string(key),
                      "' or consumer group '", std::string(group), "'");
}

void XGroupCommand(EngineCore& core, CommandContext& ctx) {
  if (!CheckSubcommand(ctx, {{"create", -5},
                             {"setid", -5},
                             {"destroy", 4},
                             {"createconsumer", 5},
                             {"delconsumer", 5},
                             {"help", 2}})) {
    return;
  }
  const std::string sub = absl::AsciiStrToLower(ctx.args[1]);
  const size_t argc = ctx.args.size();
  if (sub == "help") {
    return ReplyHelp(
        ctx, {"CREATE <key> <groupname> <id|$> [option]",
              "    Create a new consumer group. Options are:", "    * MKSTREAM",
              "      Create the empty stream if it does not exist.",
              "    * ENTRIESREAD entries_read",
              "      Set the group's entries_read counter (internal use).",
              "CREATECONSUMER <key> <groupname> <consumer>",
              "    Create a new consumer in the specified group.",
              "DELCONSUMER <key> <groupname> <consumer>",
              "    Remove the specified consumer.", "DESTROY <key> <groupname>",
              "    Remove the specified group.",
              "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
              "    Set the current group ID and entries_read counter."});
  }
  bool mkstream = false;
  int64_t entries_read = -1;
  for (size_t i = 5; i < argc;) {
    if (sub == "create" && EqualsIgnoreCase(ctx.args[i], "mkstream")) {
      mkstream = true;
      ++i;
    } else if ((sub == "create" || sub == "setid") &&
               EqualsIgnoreCase(ctx.args[i], "entriesread") && i + 1 < argc) {
      if (!ArgInt64(ctx, i + 1, &entries_read)) return;
      if (entries_read < 0 && entries_read != -1) {
        return ctx.reply.Error(
            "ERR value for ENTRIESREAD must be positive or -1");
      }
      i += 2;
    } else {
      return ctx.reply.Error(SubcommandSyntaxError(ctx));
    }
  }
  const std::string& key = ctx.args[2];
  const std::string& group = ctx.args[3];
  WithDb(core, ctx, [&](uint8_t db) {
    Keyspace& ks = core.keyspace();
    Streams& streams = core.streams();
    KeyLocks::Guard guard = ks.locks().Lock(db, key);
    Txn txn(&ks);
    auto loaded = streams.LoadForWrite(txn, db, key);
    if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
    std::string error;
    std::string body;
    resp::ReplyWriter out(&body, ctx.reply.protocol());
    const bool existed = loaded->has_value();
    const Metadata old = existed ? (*loaded)->meta : Metadata{};
    bool write = false;
    [&] {
      if (!existed && !mkstream) {
        error =
            "ERR The XGROUP subcommand requires the key to exist. Note that "
            "for CREATE you may want to use the MKSTREAM option to create an "
            "empty stream automatically.";
        return;
      }
      StreamGroup* g = existed ? (*loaded)->state.FindGroup(group) : nullptr;
      if (existed && g == nullptr &&
          (sub == "setid" || sub == "createconsumer" || sub == "delconsumer")) {
        error = absl::StrCat("NOGROUP No such consumer group '", group,
                             "' for key name '", key, "'");
        return;
      }
      if (sub == "create" && argc <= 8) {
        StreamId id;
        if (ctx.args[4] == "$") {
          if (existed) id = (*loaded)->state.last_id;
        } else if (!ParseStreamId(ctx.args[4], &id, 0, true)) {
          error = kInvalidStreamIdText;
          return;
        }
        if (!existed) *loaded = streams.Create();
        StreamState& st = (*loaded)->state;
        if (st.FindGroup(group) != nullptr) {
          // A MKSTREAM-created key stays, as in Redis.
          write = !existed;
          error = "BUSYGROUP Consumer Group name already exists";
          return;
        }
        StreamGroup ng;
        ng.name = group;
        ng.last_id = id;
        ng.entries_read = entries_read;
        auto pos =
            std::lower_bound(st.groups.begin(), st.groups.end(), group,
                             [](const StreamGroup& a, const std::string& b) {
                               return a.name < b;
                             });
        st.groups.insert(pos, std::move(ng));
        write = true;
        out.Ok();
      } else if (sub == "setid" && (argc == 5 || argc == 7)) {
        StreamId id;
        if (ctx.args[4] == "$") {
          id = (*loaded)->state.last_id;
        } else if (!ParseStreamId(ctx.args[4], &id, 0, false)) {
          error = kInvalidStreamIdText;
          return;
        }
        g->last_id = id;
        g->entries_read = entries_read;
        write = true;
        out.Ok();
      } else if (sub == "destroy" && argc == 4) {
        if (g == nullptr) return out.Integer(0);
        auto cleared =
            streams.PelClear(txn, db, key, (*loaded)->meta.version, group);
        if (!cleared.ok()) {
          error = ErrorReplyText(cleared.status());
          return;
        }
        auto& groups = (*loaded)->state.groups;
        groups.erase(groups.begin() + (g - groups.data()));
        write = true;
        out.Integer(1);
      } else if (sub == "createconsumer" && argc == 5) {
        if (g->FindConsumer(ctx.args[4]) != nullptr) return out.Integer(0);
        AddConsumer(*g, ctx.args[4], Keyspace::NowMs());
        write = true;
        out.Integer(1);
      } else if (sub == "delconsumer" && argc == 5) {
        StreamConsumer* c = g->FindConsumer(ctx.args[4]);
        if (c == nullptr) return out.Integer(0);
        const uint64_t pending = c->pending;
        auto cleared = streams.PelClear(txn, db, key, (*loaded)->meta.version,
                                        group, c->name);
        if (!cleared.ok()) {
          error = ErrorReplyText(cleared.status());
          return;
        }
        g->pel_count -= std::min(g->pel_count, *cleared);
        g->consumers.erase(g->consumers.begin() + (c - g->consumers.data()));
        write = true;
        out.Integer(static_cast<int64_t>(pending));
      } else {
        error = SubcommandSyntaxError(ctx);
      }
    }();
    if (write) {
      streams.Save(txn, db, key, existed ? &old : nullptr, **loaded);
    }
    if (absl::Status st = txn.Commit(); !st.ok()) {
      return ReplyStatusError(ctx.reply, st);
    }
    if (!error.empty()) return ctx.reply.Error(error);
    ctx.reply.Raw(body);
  });
}

void XAckCommand(EngineCore& core, CommandContext& ctx) {
  const std::string& key = ctx.args[1];
  const std::string& group = ctx.args[2];
  WithStreamForWrite(
      core, ctx, key,
      [&](uint8_t db, Txn& txn, Stream& s, const Metadata& old,
          resp::ReplyWriter& out) {
        StreamGroup* g = s.state.FindGroup(group);
        if (g == nullptr) {
          out.Integer(0);
          return true;
        }
        std::vector<StreamId> ids(ctx.args.size() - 3);
        for (size_t j = 3; j < ctx.args.size(); ++j) {
          if (!ArgStreamId(ctx, j, &ids[j - 3], 0, true)) return false;
        }
        Streams& streams = core.streams();
        int64_t acked = 0;
        std::vector<StreamId> done;
        for (StreamId id : ids) {
          if (std::find(done.begin(), done.end(), id) != done.end()) continue;
          auto pe = streams.PelGet(db, key, s.meta.version, group, id);
          if (!pe.ok()) {
            ReplyStatusError(ctx.reply, pe.status());
            return false;
          }
          if (!*pe) continue;
          done.push_back(id);
          streams.PelDelete(txn, db, key, s.meta.version, group, id);
          if (g->pel_count > 0) --g->pel_count;
          StreamConsumer* c = g->FindConsumer((*pe)->consumer);
          if (c != nullptr && c->pending > 0) --c->pending;
          ++acked;
        }
        if (acked > 0) streams.Save(txn, db, key, &old, s);
        out.Integer(acked);
        return true;
      },
      [&] { ctx.reply.Integer(0); });
}

void XPendingCommand(EngineCore& core, CommandContext& ctx) {
  const size_t argc = ctx.args.size();
  const bool summary = argc == 3;
  if (argc != 3 && (argc < 6 || argc > 9)) {
    return ctx.reply.Error(kSyntaxText);
  }
  StreamId start, end;
  int64_t count = 0;
  int64_t min_idle = 0;
  std::string consumer;
  if (!summary) {
    size_t at = 3;
    if (EqualsIgnoreCase(ctx.args[3], "idle")) {
      if (!ArgInt64(ctx, 4, &min_idle)) return;
      if (argc < 8) return ctx.reply.Error(kSyntaxText);
      at += 2;
    }
    if (!ArgInt64(ctx, at + 2, &count)) return;
    if (count < 0) count = 0;
    auto interval = [&](size_t i, StreamId* id, uint64_t missing_seq,
                        bool* exclusive) {
      const std::string& text = ctx.args[i];
      *exclusive = text.size() > 1 && text[0] == '(';
      bool ok = *exclusive ? ParseStreamId(std::string_view(text).substr(1), id,
                                           missing_seq, true)
                           : ParseStreamId(text, id, missing_seq, false);
      if (!ok) ctx.reply.Error(kInvalidStreamIdText);
      return ok;
    };
    bool ex;
    if (!interval(at, &start, 0, &ex)) return;
    if (ex && !start.Incr()) {
      return ctx.reply.Error("ERR invalid start ID for the interval");
    }
    if (!interval(at + 1, &end, UINT64_MAX, &ex)) return;
    if (ex && !end.Decr()) {
      return ctx.reply.Error("ERR invalid end ID for the interval");
    }
    if (at + 3 < argc) consumer = ctx.args[at + 3];
  }
  const std::string& key = ctx.args[1];
  const std::string& group = ctx.args[2];
  WithDb(core, ctx, [&](uint8_t db) {
    Streams& streams = core.streams();
    auto loaded = streams.Load(db, key);
    if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
    StreamGroup* g = *loaded ? (*loaded)->state.FindGroup(group) : nullptr;
    if (g == nullptr) return ctx.reply.Error(NoGroupError(key, group));
    const uint64_t version = (*loaded)->meta.version;
    if (summary) {
      ctx.reply.ArrayHeader(4);
      ctx.reply.Integer(static_cast<int64_t>(g->pel_count));
      if (g->pel_count == 0) {
        ctx.reply.Null();
        ctx.reply.Null();
        ctx.reply.NullArray();
        return;
      }
      auto first = streams.PelEdge(db, key, version, group, false);
      if (!first.ok()) return ReplyStatusError(ctx.reply, first.status());
      auto last = streams.PelEdge(db, key, version, group, true);
      if (!last.ok()) return ReplyStatusError(ctx.reply, last.status());
      ctx.reply.Bulk(first->ToString());
      ctx.reply.Bulk(last->ToString());
      size_t with_pending = 0;
      for (const auto& c : g->consumers) with_pending += c.pending > 0;
      ctx.reply.ArrayHeader(with_pending);
      for (const auto& c : g->consumers) {
        if (c.pending == 0) continue;
        ctx.reply.ArrayHeader(2);
        ctx.reply.Bulk(c.name);
        ctx.reply.Bulk(std::to_string(c.pending));
      }
      return;
    }
    if (!consumer.empty() && g->FindConsumer(consumer) == nullptr) {
      return ctx.reply.ArrayHeader(0);
    }
    std::vector<PendingEntry> picked;
    if (count > 0) {
      // IDLE filters after the range read, so read in pages.
      const int64_t now = Keyspace::NowMs();
      StreamId from = start;
      bool more = true;
      while (more && picked.size() < static_cast<uint64_t>(count)) {
        constexpr uint64_t kPage = 1000;
        auto page = streams.PelRange(db, key, version, group, from, end, kPage,
                                     consumer);
        if (!page.ok()) return ReplyStatusError(ctx.reply, page.status());
        more = page->size() == kPage;
        for (auto& pe : *page) {
          from = pe.id;
          if (min_idle != 0 && now - pe.delivery_ms < min_idle) continue;
          picked.push_back(std::move(pe));
          if (picked.size() >= static_cast<uint64_t>(count)) break;
        }
        if (more && !from.Incr()) more = false;
      }
    }
    const int64_t now = Keyspace::NowMs();
    ctx.reply.ArrayHeader(picked.size());
    for (const auto& pe : picked) {
      ctx.reply.ArrayHeader(4);
      ctx.reply.Bulk(pe.id.ToString());
      ctx.reply.Bulk(pe.consumer);
      ctx.reply.Integer(std::max<int64_t>(0, now - pe.delivery_ms));
      ctx.reply.Integer(static_cast<int64_t>(pe.delivery_count));
    }
  });
}

// Moves the pending entry `pe` of group `g` to `consumer` (creating the
// consumer when needed) and stores it.
void Claim(Streams& streams, Txn& txn, uint8_t db, std::string_view key,
           uint64_t version, StreamGroup& g, PendingEntry& pe,
           std::string_view consumer, bool was_pending) {
  StreamConsumer* to = g.FindConsumer(consumer);
  if (to == nullptr) to = AddConsumer(g, consumer, Keyspace::NowMs());
  to->seen_ms = Keyspace::NowMs();
  const std::string to_name = to->name;
  if (!was_pending) {
    ++g.pel_count;
    ++to->pending;
  } else if (pe.consumer != to_name) {
    StreamConsumer* from = g.FindConsumer(pe.consumer);
    if (from != nullptr && from->pending > 0) --from->pending;
    ++g.FindConsumer(to_name)->pending;
  }
  pe.consumer = to_name;
  streams.PelPut(txn, db, key, version, g.name, pe);
}

// Forgets pending entry `pe` whose stream entry is gone.
void DropPending(Streams& streams, Txn& txn, uint8_t db, std::string_view key,
                 uint64_t version, StreamGroup& g, const PendingEntry& pe) {
  streams.PelDelete(txn, db, key, version, g.name, pe.id);
  if (g.pel_count > 0) --g.pel_count;
  StreamConsumer* c = g.FindConsumer(pe.consumer);
  if (c != nullptr && c->pending > 0) --c->pending;
}

void XClaimCommand(EngineCore& core, CommandContext& ctx) {
  const std::string key = ctx.args[1];
  const std::string group = ctx.args[2];
  const std::string consumer = ctx.args[3];
  ctx.session.effects.emplace();
  WithStreamForWrite(
      core, ctx, key,
      [&](uint8_t db, Txn& txn, Stream& s, const Metadata& old,
          resp::ReplyWriter& out) {
        StreamGroup* g = s.state.FindGroup(group);
        if (g == nullptr) {
          ctx.reply.Error(NoGroupError(key, group));
          return false;
        }
        int64_t min_idle;
        if (!ArgInt64(ctx, 4, &min_idle,
                      "ERR Invalid min-idle-time argument for XCLAIM")) {
          return false;
        }
        if (min_idle < 0) min_idle = 0;
        std::vector<StreamId> ids;
        size_t j = 5;
        for (; j < ctx.args.size(); ++j) {
          StreamId id;
          if (!ParseStreamId(ctx.args[j], &id, 0, true)) break;
          ids.push_back(id);
        }
        const int64_t now = Keyspace::NowMs();
        int64_t retry = -1;
        int64_t delivery = -1;
        bool force = false, justid = false;
        StreamId last_id;
        for (; j < ctx.args.size(); ++j) {
          const bool more = j + 1 < ctx.args.size();
          const std::string& opt = ctx.args[j];
          if (EqualsIgnoreCase(opt, "force")) {
            force = true;
          } else if (EqualsIgnoreCase(opt, "justid")) {
            justid = true;
          } else if (EqualsIgnoreCase(opt, "idle") && more) {
            if (!ArgInt64(ctx, ++j, &delivery,
                          "ERR Invalid IDLE option argument for XCLAIM")) {
              return false;
            }
            delivery = now - delivery;
          } else if (EqualsIgnoreCase(opt, "time") && more) {
            if (!ArgInt64(ctx, ++j, &delivery,
                          "ERR Invalid TIME option argument for XCLAIM")) {
              return false;
            }
          } else if (EqualsIgnoreCase(opt, "retrycount") && more) {
            if (!ArgInt64(ctx, ++j, &retry,
                          "ERR Invalid RETRYCOUNT option argument for "
                          "XCLAIM")) {
              return false;
            }
          } else if (EqualsIgnoreCase(opt, "lastid") && more) {
            if (!ArgStreamId(ctx, ++j, &last_id, 0, true)) return false;
          } else {
            ctx.reply.Error(
                absl::StrCat("ERR Unrecognized XCLAIM option '", opt, "'"));
            return false;
          }
        }
        auto& effects = *ctx.session.effects;
        bool propagate_last_id = false;
        bool changed = false;
        if (last_id > g->last_id) {
          g->last_id = last_id;
          propagate_last_id = changed = true;
        }
        if (delivery == -1 || delivery < 0 || delivery > now) delivery = now;
        Streams& streams = core.streams();
        const uint64_t version = s.meta.version;
        std::vector<std::pair<StreamId, std::optional<StreamEntry>>> claimed;
        for (StreamId id : ids) {
          auto pe = streams.PelGet(db, key, version, group, id);
          if (!pe.ok()) {
            ReplyStatusError(ctx.reply, pe.status());
            return false;
          }
          auto entry = streams.Get(db, key, version, id);
          if (!entry.ok()) {
            ReplyStatusError(ctx.reply, entry.status());
            return false;
          }
          if (!*entry) {
            if (*pe) {
              effects.push_back(ClaimEffect(key, *g, (*pe)->consumer, id,
                                            (*pe)->delivery_ms,
                                            (*pe)->delivery_count));
              propagate_last_id = false;
              DropPending(streams, txn, db, key, version, *g, **pe);
              changed = true;
            }
            continue;
          }
          const bool was_pending = pe->has_value();
          if (!was_pending && !force) continue;
          PendingEntry nack = was_pending ? **pe : PendingEntry{id, "", now, 0};
          if (was_pending && min_idle != 0 &&
              now - nack.delivery_ms < min_idle) {
            continue;
          }
          nack.delivery_ms = delivery;
          if (retry >= 0) {
            nack.delivery_count = static_cast<uint64_t>(retry);
          } else if (!justid) {
            ++nack.delivery_count;
          }
          Claim(streams, txn, db, key, version, *g, nack, consumer,
                was_pending);
          effects.push_back(ClaimEffect(key, *g, nack.consumer, id,
                                        nack.delivery_ms, nack.delivery_count));
          propagate_last_id = false;
          changed = true;
          if (justid) {
            claimed.emplace_back(id, std::nullopt);
          } else {
            claimed.emplace_back(id, std::move(*entry));
          }
        }
        if (propagate_last_id) effects.push_back(SetIdEffect(key, *g));
        if (changed) streams.Save(txn, db, key, &old, s);
        out.ArrayHeader(claimed.size());
        for (const auto& [id, entry] : claimed) {
          if (entry) {
            ReplyStreamEntry(out, *entry);
          } else {
            out.Bulk(id.ToString());
          }
        }
        return true;
      },
      [&] { ctx.reply.Error(NoGroupError(key, group)); });
}

void XAutoClaimCommand(EngineCore& core, CommandContext& ctx) {
  const std::string key = ctx.args[1];
  const std::string group = ctx.args[2];
  const std::string consumer = ctx.args[3];
  int64_t min_idle;
  if (!ArgInt64(ctx, 4, &min_idle,
                "ERR Invalid min-idle-time argument for XAUTOCLAIM")) {
    return;
  }
  if (min_idle < 0) min_idle = 0;
  StreamId start;
  {
    const std::string& text = ctx.args[5];
    const bool ex = text.size() > 1 && text[0] == '(';
    const bool ok =
        ex ? ParseStreamId(std::string_view(text).substr(1), &start, 0, true)
           : ParseStreamId(text, &start, 0, false);
    if (!ok) return ctx.reply.Error(kInvalidStreamIdText);
    if (ex && !start.Incr()) {
      return ctx.reply.Error("ERR invalid start ID for the interval");
    }
  }
  int64_t count = 100;
  bool justid = false;
  constexpr int64_t kAttemptsFactor = 10;
  for (size_t j = 6; j < ctx.args.size(); ++j) {
    if (EqualsIgnoreCase(ctx.args[j], "count") && j + 1 < ctx.args.size()) {
      const int64_t max_count =
          std::numeric_limits<int64_t>::max() / 16;  // LONG_MAX / 16
      if (!ArgRange(ctx, ++j, 1, max_count, "ERR COUNT must be > 0", &count)) {
        return;
      }
    } else if (EqualsIgnoreCase(ctx.args[j], "justid")) {
      justid = true;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
  }
  ctx.session.effects.emplace();
  WithStreamForWrite(
      core, ctx, key,
      [&](uint8_t db, Txn& txn, Stream& s, const Metadata& old,
          resp::ReplyWriter& out) {
        StreamGroup* g = s.state.FindGroup(group);
        if (g == nullptr) {
          ctx.reply.Error(NoGroupError(key, group));
          return false;
        }
        auto& effects = *ctx.session.effects;
        Streams& streams = core.streams();
        const uint64_t version = s.meta.version;
        const int64_t now = Keyspace::NowMs();
        int64_t attempts = count * kAttemptsFactor;
        std::vector<StreamEntry> claimed;
        std::vector<StreamId> deleted;
        bool changed = false;
        StreamId from = start;
        StreamId next_id;  // 0-0: the scan reached the end
        bool at_end = false;
        while (!at_end) {
          // One page of the PEL, at most what the attempts allow.
          const uint64_t page_size = static_cast<uint64_t>(
              std::min<int64_t>(std::max<int64_t>(attempts, 1), 1000));
          auto page = streams.PelRange(db, key, version, group, from,
                                       StreamId::Max(), page_size + 1);
          if (!page.ok()) {
            ReplyStatusError(ctx.reply, page.status());
            return false;
          }
          size_t i = 0;
          for (; i < page->size() && attempts > 0 && count > 0; ++i) {
            --attempts;
            PendingEntry& pe = (*page)[i];
            auto entry = streams.Get(db, key, version, pe.id);
            if (!entry.ok()) {
              ReplyStatusError(ctx.reply, entry.status());
              return false;
            }
            if (!*entry) {
              effects.push_back(ClaimEffect(key, *g, pe.consumer, pe.id,
                                            pe.delivery_ms, pe.delivery_count));
              DropPending(streams, txn, db, key, version, *g, pe);
              deleted.push_back(pe.id);
              changed = true;
              --count;
              continue;
            }
            if (min_idle != 0 && now - pe.delivery_ms < min_idle) continue;
            pe.delivery_ms = now;
            if (!justid) ++pe.delivery_count;
            Claim(streams, txn, db, key, version, *g, pe, consumer, true);
            effects.push_back(ClaimEffect(key, *g, pe.consumer, pe.id,
                                          pe.delivery_ms, pe.delivery_count));
            changed = true;
            claimed.push_back(std::move(**entry));
            --count;
          }
          if (i < page->size()) {
            next_id = (*page)[i].id;  // where the next call starts
            break;
          }
          if (page->size() <= page_size) {
            at_end = true;  // 0-0: the whole PEL was scanned
          } else {
            from = page->back().id;
          }
        }
        if (changed) streams.Save(txn, db, key, &old, s);
        out.ArrayHeader(3);
        out.Bulk(next_id.ToString());
        out.ArrayHeader(claimed.size());
        for (const auto& e : claimed) {
          if (justid) {
            out.Bulk(e.id.ToString());
          } else {
            ReplyStreamEntry(out, e);
          }
        }
        out.ArrayHeader(deleted.size());
        for (StreamId id : deleted) out.Bulk(id.ToString());
        return true;
      },
      [&] { ctx.reply.Error(NoGroupError(key, group)); });
}

void ReplyGroupLag(resp::ReplyWriter& reply, const Stream& s,
                   const StreamGroup& g) {
  const std::optional<int64_t> lag = StreamGroupLag(s, g);
  if (!lag) return reply.Null();
  reply.Integer(*lag);
}

void ReplyEntriesRead(resp::ReplyWriter& reply, const StreamGroup& g) {
  if (g.entries_read == -1) return reply.Null();
  reply.Integer(g.entries_read);
}

// XINFO STREAM key [FULL [COUNT n]].
void XInfoStream(EngineCore& core, CommandContext& ctx, uint8_t db,
                 const Stream& s) {
  const std::string& key = ctx.args[2];
  const size_t optc = ctx.args.size() - 3;
  bool full = optc > 0;
  int64_t count = 10;
  if (full) {
    if ((optc != 1 && optc != 3) || !EqualsIgnoreCase(ctx.args[3], "full")) {
      return ctx.reply.Error(SubcommandSyntaxError(ctx));
    }
    if (optc == 3) {
      if (!EqualsIgnoreCase(ctx.args[4], "count")) {
        return ctx.reply.Error(SubcommandSyntaxError(ctx));
      }
      if (!ArgInt64(ctx, 5, &count)) return;
      if (count < 0) count = 10;
    }
  }
  Streams& streams = core.streams();
  const uint64_t version = s.meta.version;
  auto first =
      streams.Range(db, key, version, StreamId{}, StreamId::Max(), 1, false);
  if (!first.ok()) return ReplyStatusError(ctx.reply, first.status());
  auto last =
      streams.Range(db, key, version, StreamId{}, StreamId::Max(), 1, true);
  if (!last.ok()) return ReplyStatusError(ctx.reply, last.status());
  // The listpack nodes redis-server would have (see streams.h).
  auto nodes = streams.NodeKeys(db, key, version);
  if (!nodes.ok()) return ReplyStatusError(ctx.reply, nodes.status());
  resp::ReplyWriter& r = ctx.reply;
  r.MapHeader(full ? 9 : 10);
  r.Bulk("length");
  r.Integer(static_cast<int64_t>(s.length()));
  r.Bulk("radix-tree-keys");
  r.Integer(static_cast<int64_t>(nodes->size()));
  r.Bulk("radix-tree-nodes");
  r.Integer(static_cast<int64_t>(RaxNodeCount(*nodes)));
  r.Bulk("last-generated-id");
  r.Bulk(s.state.last_id.ToString());
  r.Bulk("max-deleted-entry-id");
  r.Bulk(s.state.max_deleted_id.ToString());
  r.Bulk("entries-added");
  r.Integer(static_cast<int64_t>(s.state.entries_added));
  r.Bulk("recorded-first-entry-id");
  r.Bulk(s.state.first_id.ToString());
  if (!full) {
    r.Bulk("groups");
    r.Integer(static_cast<int64_t>(s.state.groups.size()));
    r.Bulk("first-entry");
    if (first->empty()) {
      r.Null();
    } else {
      ReplyStreamEntry(r, first->front());
    }
    r.Bulk("last-entry");
    if (last->empty()) {
      r.Null();
    } else {
      ReplyStreamEntry(r, last->front());
    }
    return;
  }
  r.Bulk("entries");
  auto entries = streams.Range(db, key, version, StreamId{}, StreamId::Max(),
                               static_cast<uint64_t>(count), false);
  if (!entries.ok()) return ReplyStatusError(ctx.reply, entries.status());
  ReplyStreamEntries(r, *entries);
  r.Bulk("groups");
  r.ArrayHeader(s.state.groups.size());
  const uint64_t limit = static_cast<uint64_t>(count);
  for (const StreamGroup& g : s.state.groups) {
    r.MapHeader(7);
    r.Bulk("name");
    r.Bulk(g.name);
    r.Bulk("last-delivered-id");
    r.Bulk(g.last_id.ToString());
    r.Bulk("entries-read");
    ReplyEntriesRead(r, g);
    r.Bulk("lag");
    ReplyGroupLag(r, s, g);
    r.Bulk("pel-count");
    r.Integer(static_cast<int64_t>(g.pel_count));
    r.Bulk("pending");
    auto pel = streams.PelRange(db, key, version, g.name, StreamId{},
                                StreamId::Max(), limit);
    if (!pel.ok()) return ReplyStatusError(ctx.reply, pel.status());
    r.ArrayHeader(pel->size());
    for (const auto& pe : *pel) {
      r.ArrayHeader(4);
      r.Bulk(pe.id.ToString());
      r.Bulk(pe.consumer);
      r.Integer(pe.delivery_ms);
      r.Integer(static_cast<int64_t>(pe.delivery_count));
    }
    r.Bulk("consumers");
    r.ArrayHeader(g.consumers.size());
    for (const StreamConsumer& c : g.consumers) {
      r.MapHeader(4);
      r.Bulk("name");
      r.Bulk(c.name);
      r.Bulk("seen-time");
      r.Integer(c.seen_ms);
      r.Bulk("pel-count");
      r.Integer(static_cast<int64_t>(c.pending));
      r.Bulk("pending");
      auto cpel = streams.PelRange(db, key, version, g.name, StreamId{},
                                   StreamId::Max(), limit, c.name);
      if (!cpel.ok()) return ReplyStatusError(ctx.reply, cpel.status());
      r.ArrayHeader(cpel->size());
      for (const auto& pe : *cpel) {
        r.ArrayHeader(3);
        r.Bulk(pe.id.ToString());
        r.Integer(pe.delivery_ms);
        r.Integer(static_cast<int64_t>(pe.delivery_count));
      }
    }
  }
}

void XInfoCommand(EngineCore& core, CommandContext& ctx) {
  if (EqualsIgnoreCase(ctx.args[1], "help")) {
    if (ctx.args.size() != 2) {
      return ctx.reply.Error(WrongArityError("xinfo|help"));
    }
    return ReplyHelp(ctx, {"CONSUMERS <key> <groupname>",
                           "    Show consumers of <groupname>.", "GROUPS <key>",
                           "    Show the stream consumer groups.",
                           "STREAM <key> [FULL [COUNT <count>]",
                           "    Show information about the stream."});
  }
  if (!CheckSubcommand(
          ctx,
          {{"consumers", 4}, {"groups", 3}, {"stream", -3}, {"help", 2}})) {
    return;
  }
  const std::string sub = absl::AsciiStrToLower(ctx.args[1]);
  const std::string& key = ctx.args[2];
  WithDb(core, ctx, [&](uint8_t db) {
    auto loaded = core.streams().Load(db, key);
    if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
    if (!*loaded) return ctx.reply.Error("ERR no such key");
    const Stream& s = **loaded;
    if (sub == "stream") return XInfoStream(core, ctx, db, s);
    if (sub == "groups") {
      ctx.reply.ArrayHeader(s.state.groups.size());
      for (const StreamGroup& g : s.state.groups) {
        ctx.reply.MapHeader(6);
        ctx.reply.Bulk("name");
        ctx.reply.Bulk(g.name);
        ctx.reply.Bulk("consumers");
        ctx.reply.Integer(static_cast<int64_t>(g.consumers.size()));
        ctx.reply.Bulk("pending");
        ctx.reply.Integer(static_cast<int64_t>(g.pel_count));
        ctx.reply.Bulk("last-delivered-id");
        ctx.reply.Bulk(g.last_id.ToString());
        ctx.reply.Bulk("entries-read");
        ReplyEntriesRead(ctx.reply, g);
        ctx.reply.Bulk("lag");
        ReplyGroupLag(ctx.reply, s, g);
      }
      return;
    }
    // consumers
    const StreamGroup* g = nullptr;
    for (const auto& grp : s.state.groups) {
      if (grp.name == ctx.args[3]) g = &grp;
    }
    if (g == nullptr) {
      return ctx.reply.Error(absl::StrCat("NOGROUP No such consumer group '",
                                          ctx.args[3], "' for key name '", key,
                                          "'"));
    }
    const int64_t now = Keyspace::NowMs();
    ctx.reply.ArrayHeader(g->consumers.size());
    for (const StreamConsumer& c : g->consumers) {
      ctx.reply.MapHeader(3);
      ctx.reply.Bulk("name");
      ctx.reply.Bulk(c.name);
      ctx.reply.Bulk("pending");
      ctx.reply.Integer(static_cast<int64_t>(c.pending));
      ctx.reply.Bulk("idle");
      ctx.reply.Integer(std::max<int64_t>(0, now - c.seen_ms));
    }
  });
}

}  // namespace

StreamConsumer* AddConsumer(StreamGroup& g, std::string_view name,
                            int64_t now_ms) {
  auto pos = std::lower_bound(
      g.consumers.begin(), g.consumers.end(), name,
      [](const StreamConsumer& a, std::string_view b) { return a.name < b; });
  pos = g.consumers.insert(pos, StreamConsumer{std::string(name), now_ms, 0});
  return &*pos;
}

std::vector<std::string> ClaimEffect(std::string_view key, const StreamGroup& g,
                                     std::string_view consumer, StreamId id,
                                     int64_t delivery_ms, uint64_t count) {
  return {
      "XCLAIM",     std::string(key),      g.name,  std::string(consumer),
      "0",          id.ToString(),         "TIME",  std::to_string(delivery_ms),
      "RETRYCOUNT", std::to_string(count), "FORCE", "JUSTID",
      "LASTID",     g.last_id.ToString()};
}

std::vector<std::string> SetIdEffect(std::string_view key,
                                     const StreamGroup& g) {
  return {"XGROUP",
          "SETID",
          std::string(key),
          g.name,
          g.last_id.ToString(),
          "ENTRIESREAD",
          std::to_string(g.entries_read)};
}

void RegisterStreamGroupCommands(EngineCore& core, CommandTable& table,
                                 absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;
  reg("xgroup", [c](CommandContext& ctx) { XGroupCommand(*c, ctx); });
  reg("xack", [c](CommandContext& ctx) { XAckCommand(*c, ctx); });
  reg("xpending", [c](CommandContext& ctx) { XPendingCommand(*c, ctx); });
  reg("xclaim", [c](CommandContext& ctx) { XClaimCommand(*c, ctx); });
  reg("xautoclaim", [c](CommandContext& ctx) { XAutoClaimCommand(*c, ctx); });
  reg("xinfo", [c](CommandContext& ctx) { XInfoCommand(*c, ctx); });
}

}  // namespace reborn::qdb
