// RESP handlers of Codis' slot commands (SLOTSINFO ... SLOTSMGRTTAGSLOT),
// with Codis' arguments and replies. The work is in qdb/slots/key_move.cc.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "command/deferred_reply.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/commands/scan_args.h"
#include "qdb/slots/key_move.h"
#include "reborn/slot.h"
#include "util/glob.h"

namespace reborn::qdb {
namespace {

constexpr std::string_view kInvalidSlot = "ERR invalid slot number";

bool ArgSlot(CommandContext& ctx, size_t i, uint16_t* slot) {
  int64_t v;
  if (!ParseInt64(ctx.args[i], &v) || v < 0 || v >= kSlotCount) {
    ctx.reply.Error(kInvalidSlot);
    return false;
  }
  *slot = static_cast<uint16_t>(v);
  return true;
}

void SlotCountPair(resp::ReplyWriter& reply, int64_t a, int64_t b) {
  reply.ArrayHeader(2);
  reply.Integer(a);
  reply.Integer(b);
}

// host port timeout: the target of SLOTSMGRT*. A timeout <= 0 means 1 s.
bool ArgTarget(CommandContext& ctx, MigrateTarget* target) {
  int64_t port, timeout;
  if (!ParseInt64(ctx.args[2], &port) || port <= 0 || port > 65535) {
    ctx.reply.Error("ERR invalid port");
    return false;
  }
  if (!ArgInt64(ctx, 3, &timeout)) return false;
  target->host = ctx.args[1];
  target->port = static_cast<int>(port);
  target->timeout = std::chrono::milliseconds(
      timeout <= 0 ? 1000 : std::min<int64_t>(timeout, 3600000));
  target->db = ctx.session.db;
  return true;
}

// Runs a key move, fn(physical db, reply writer), on a migration worker:
// the connection waits for the reply (DeferredReply) while its I/O thread
// serves other clients. `fn` owns copies of its arguments. A session that
// used MULTI/WATCH runs it inline (EXEC cannot wait for a deferred reply).
template <typename Fn>
void RunMove(EngineCore& core, CommandContext& ctx, Fn fn) {
  if (ctx.session.txn != nullptr) {
    return WithDb(core, ctx, [&](uint8_t db) { fn(db, ctx.reply); });
  }
  auto deferred = std::make_shared<DeferredReply>(0, "");
  ctx.session.deferred = deferred;
  core.slots().Submit([&core, deferred, db = ctx.session.db,
                       protocol = ctx.session.protocol,
                       fn = std::move(fn)]() mutable {
    std::string out;
    resp::ReplyWriter reply(&out, protocol);
    {
      Keyspace& ks = core.keyspace();
      absl::ReaderMutexLock lock(&ks.layout_mu());
      fn(ks.Physical(db), reply);
    }
    deferred->Complete(std::move(out));
  });
}

void SlotsInfo(EngineCore& core, CommandContext& ctx) {
  int64_t start = 0, count = kSlotCount;
  if (ctx.args.size() > 3) return ctx.reply.Error(kSyntaxText);
  if (ctx.args.size() >= 2 && !ArgInt64(ctx, 1, &start)) return;
  if (ctx.args.size() >= 3 && !ArgInt64(ctx, 2, &count)) return;
  if (start < 0 || start >= kSlotCount) return ctx.reply.Error(kInvalidSlot);
  if (count < 0) return ctx.reply.Error("ERR invalid slot count");
  count = std::min<int64_t>(count, kSlotCount);
  WithDb(core, ctx, [&](uint8_t db) {
    auto info =
        core.slots().Info(db, static_cast<int>(start), static_cast<int>(count));
    if (!info.ok()) return ReplyStatusError(ctx.reply, info.status());
    ctx.reply.ArrayHeader(info->size());
    for (const auto& [slot, keys] : *info) {
      SlotCountPair(ctx.reply, slot, static_cast<int64_t>(keys));
    }
  });
}

void SlotsScan(EngineCore& core, CommandContext& ctx) {
  uint16_t slot;
  if (!ArgSlot(ctx, 1, &slot)) return;
  int64_t cursor, count = 10;
  if (!ParseInt64(ctx.args[2], &cursor) || cursor < 0) {
    return ctx.reply.Error("ERR invalid cursor");
  }
  // MATCH and TYPE filter as SCAN's do: COUNT bounds the records examined,
  // so a filtered batch may be empty before the slot's end.
  // SLOTS n walks the slots [slot, slot + n) (capped at the last slot) as
  // one range and adds the slot where the scan goes on to the reply, so a
  // cluster SCAN over sparse slots needs one call per run of a group's
  // slots rather than one per slot (docs/slots.md).
  std::string_view pattern;
  std::optional<DataType> type;
  bool type_known = true;
  int64_t span = 0;  // 0: no SLOTS option, the two-element reply
  for (size_t i = 3; i < ctx.args.size(); i += 2) {
    if (i + 1 >= ctx.args.size()) return ctx.reply.Error(kSyntaxText);
    if (EqualsIgnoreCase(ctx.args[i], "count")) {
      if (!ArgInt64(ctx, i + 1, &count)) return;
      if (count < 1) return ctx.reply.Error(kSyntaxText);
    } else if (EqualsIgnoreCase(ctx.args[i], "slots")) {
      if (!ArgInt64(ctx, i + 1, &span)) return;
      if (span < 1) return ctx.reply.Error(kSyntaxText);
      span = std::min<int64_t>(span, kSlotCount - slot);
    } else if (EqualsIgnoreCase(ctx.args[i], "match")) {
      pattern = ctx.args[i + 1];
    } else if (EqualsIgnoreCase(ctx.args[i], "type")) {
      type = TypeFromName(ctx.args[i + 1], &type_known);
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.slots().Scan(db, slot, static_cast<uint64_t>(cursor),
                               static_cast<size_t>(count),
                               span == 0 ? 1 : static_cast<int>(span));
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    std::vector<std::string> keys;
    const bool match_all = pattern.empty() || pattern == "*";
    for (std::string& key : r->keys) {
      if (!type_known) break;  // an unknown TYPE matches nothing
      if (!match_all && !GlobMatch(pattern, key)) continue;
      if (type) {
        // A key gone since the scan read it is skipped, as SCAN may.
        auto t = core.keys().Type(db, key);
        if (!t.ok()) return ReplyStatusError(ctx.reply, t.status());
        if (!*t || **t != *type) continue;
      }
      keys.push_back(std::move(key));
    }
    ctx.reply.ArrayHeader(span == 0 ? 2 : 3);
    ctx.reply.Bulk(absl::StrCat(r->cursor));
    ctx.reply.BulkArray(keys);
    if (span != 0) ctx.reply.Integer(r->next_slot);
  });
}

void SlotsDel(EngineCore& core, CommandContext& ctx) {
  std::vector<uint16_t> slots;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    uint16_t slot;
    if (!ArgSlot(ctx, i, &slot)) return;
    slots.push_back(slot);
  }
  WithDb(core, ctx, [&](uint8_t db) {
    std::vector<uint64_t> left;
    for (uint16_t slot : slots) {
      auto r = core.slots().DeleteSlot(db, slot);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      left.push_back(*r);
    }
    ctx.reply.ArrayHeader(slots.size());
    for (size_t i = 0; i < slots.size(); ++i) {
      SlotCountPair(ctx.reply, slots[i], static_cast<int64_t>(left[i]));
    }
  });
}

void SlotsCheck(EngineCore& core, CommandContext& ctx) {
  // Exclusive: no command runs meanwhile, so key counts are exact.
  absl::MutexLock lock(&core.keyspace().layout_mu());
  absl::Status s = core.slots().Check();
  if (s.ok()) return ctx.reply.Ok();
  if (s.code() == absl::StatusCode::kDataLoss) {
    return ctx.reply.Error(absl::StrCat("ERR slotscheck: ", s.message()));
  }
  ReplyStatusError(ctx.reply, s);
}

void SlotsRestore(EngineCore& core, CommandContext& ctx) {
  if ((ctx.args.size() - 1) % 3 != 0) {
    return ctx.reply.Error(
        "ERR wrong number of arguments for 'slotsrestore' command");
  }
  std::vector<Slots::RestoreItem> items;
  for (size_t i = 1; i < ctx.args.size(); i += 3) {
    Slots::RestoreItem item;
    item.key = ctx.args[i];
    if (!ArgInt64(ctx, i + 1, &item.ttl_ms)) return;
    if (item.ttl_ms < 0) {
      return ctx.reply.Error("ERR invalid ttl value, must be >= 0");
    }
    item.payload = ctx.args[i + 2];
    items.push_back(item);
  }
  WithDb(core, ctx, [&](uint8_t db) {
    if (absl::Status s = core.slots().RestoreMany(db, items); !s.ok()) {
      return ReplyStatusError(ctx.reply, s);
    }
    ctx.reply.Ok();
  });
}

void SlotsMgrtKey(EngineCore& core, CommandContext& ctx, bool tag) {
  MigrateTarget target;
  if (!ArgTarget(ctx, &target)) return;
  RunMove(core, ctx,
          [&core, target, tag, key = ctx.args[4]](uint8_t db,
                                                  resp::ReplyWriter& reply) {
            auto r = core.slots().MigrateKey(target, db, key, tag);
            if (!r.ok()) return ReplyStatusError(reply, r.status());
            reply.Integer(*r);
          });
}

void SlotsMgrtSlot(EngineCore& core, CommandContext& ctx, bool tag) {
  MigrateTarget target;
  if (!ArgTarget(ctx, &target)) return;
  uint16_t slot;
  if (!ArgSlot(ctx, 4, &slot)) return;
  RunMove(core, ctx,
          [&core, target, tag, slot](uint8_t db, resp::ReplyWriter& reply) {
            auto r = core.slots().MigrateSlot(target, db, slot, tag);
            if (!r.ok()) return ReplyStatusError(reply, r.status());
            SlotCountPair(reply, r->first, static_cast<int64_t>(r->second));
          });
}

// SLOTSMGRTTAGSLOTBATCH host port timeout slot maxkeys maxbytes: whole tag
// groups of the slot, up to the budget, a few hundred keys per SLOTSRESTORE.
void SlotsMgrtSlotBatch(EngineCore& core, CommandContext& ctx) {
  MigrateTarget target;
  if (!ArgTarget(ctx, &target)) return;
  uint16_t slot;
  if (!ArgSlot(ctx, 4, &slot)) return;
  int64_t max_keys, max_bytes;
  if (!ArgInt64(ctx, 5, &max_keys) || !ArgInt64(ctx, 6, &max_bytes)) return;
  if (max_keys < 1 || max_bytes < 1) return ctx.reply.Error(kSyntaxText);
  RunMove(core, ctx,
          [&core, target, slot, max_keys, max_bytes](uint8_t db,
                                                     resp::ReplyWriter& reply) {
            auto r = core.slots().MigrateSlotBatch(
                target, db, slot, static_cast<size_t>(max_keys),
                static_cast<size_t>(max_bytes));
            if (!r.ok()) return ReplyStatusError(reply, r.status());
            SlotCountPair(reply, r->first, static_cast<int64_t>(r->second));
          });
}

// SLOTSRESTORE-CHUNK BEGIN key token type | ADD key token payload |
// COMMIT key token ttlms elements | ABORT key token: the target side of a
// chunked key move (docs/slots.md, qdb/slots/staging.h).
void SlotsRestoreChunk(EngineCore& core, CommandContext& ctx) {
  const std::string& sub = ctx.args[1];
  const std::string& key = ctx.args[2];
  const std::string& token = ctx.args[3];
  auto wrong = [&] {
    ctx.reply.Error(
        "ERR wrong number of arguments for 'slotsrestore-chunk' command");
  };
  Staging& staging = core.slots().staging();
  if (EqualsIgnoreCase(sub, "begin")) {
    if (ctx.args.size() != 5) return wrong();
    std::optional<DataType> type;
    for (DataType t : {DataType::kString, DataType::kHash, DataType::kList,
                       DataType::kSet, DataType::kZSet}) {
      if (EqualsIgnoreCase(ctx.args[4], TypeName(t))) type = t;
    }
    if (!type) return ctx.reply.Error("ERR slotsrestore-chunk: unknown type");
    return WithDb(core, ctx, [&](uint8_t db) {
      absl::Status s = staging.Begin(db, key, token, *type);
      if (!s.ok()) return ReplyStatusError(ctx.reply, s);
      ctx.reply.Ok();
    });
  }
  if (EqualsIgnoreCase(sub, "add")) {
    if (ctx.args.size() != 5) return wrong();
    return WithDb(core, ctx, [&](uint8_t db) {
      auto n = staging.Add(db, key, token, ctx.args[4]);
      if (!n.ok()) return ReplyStatusError(ctx.reply, n.status());
      ctx.reply.Integer(static_cast<int64_t>(*n));
    });
  }
  if (EqualsIgnoreCase(sub, "commit")) {
    if (ctx.args.size() != 6) return wrong();
    int64_t ttl, expect;
    if (!ArgInt64(ctx, 4, &ttl) || !ArgInt64(ctx, 5, &expect)) return;
    if (ttl < 0) return ctx.reply.Error("ERR invalid ttl value, must be >= 0");
    return WithDb(core, ctx, [&](uint8_t db) {
      absl::Status s =
          staging.Commit(db, key, token, ttl,
                         static_cast<uint64_t>(std::max<int64_t>(expect, 0)));
      if (!s.ok()) return ReplyStatusError(ctx.reply, s);
      ctx.reply.Ok();
    });
  }
  if (EqualsIgnoreCase(sub, "abort")) {
    if (ctx.args.size() != 4) return wrong();
    return WithDb(core, ctx, [&](uint8_t db) {
      absl::Status s = staging.Abort(db, key, token);
      if (!s.ok()) return ReplyStatusError(ctx.reply, s);
      ctx.reply.Ok();
    });
  }
  ctx.reply.Error(UnknownSubcommandError("slotsrestore-chunk", sub));
}

}  // namespace

void RegisterSlotCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;
  reg("slotsinfo", [c](CommandContext& ctx) { SlotsInfo(*c, ctx); });
  reg("slotsscan", [c](CommandContext& ctx) { SlotsScan(*c, ctx); });
  reg("slotshashkey", [](CommandContext& ctx) {
    ctx.reply.ArrayHeader(ctx.args.size() - 1);
    for (size_t i = 1; i < ctx.args.size(); ++i) {
      ctx.reply.Integer(SlotOf(ctx.args[i]));
    }
  });
  reg("slotsdel", [c](CommandContext& ctx) { SlotsDel(*c, ctx); });
  reg("slotscheck", [c](CommandContext& ctx) { SlotsCheck(*c, ctx); });
  reg("slotsrestore", [c](CommandContext& ctx) { SlotsRestore(*c, ctx); });
  reg("slotsrestore-chunk",
      [c](CommandContext& ctx) { SlotsRestoreChunk(*c, ctx); });
  reg("slotsmgrtone",
      [c](CommandContext& ctx) { SlotsMgrtKey(*c, ctx, false); });
  reg("slotsmgrttagone",
      [c](CommandContext& ctx) { SlotsMgrtKey(*c, ctx, true); });
  reg("slotsmgrtslot",
      [c](CommandContext& ctx) { SlotsMgrtSlot(*c, ctx, false); });
  reg("slotsmgrttagslot",
      [c](CommandContext& ctx) { SlotsMgrtSlot(*c, ctx, true); });
  reg("slotsmgrttagslotbatch",
      [c](CommandContext& ctx) { SlotsMgrtSlotBatch(*c, ctx); });
}

}  // namespace reborn::qdb
