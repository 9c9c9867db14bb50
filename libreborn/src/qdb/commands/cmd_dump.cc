// RESP handlers of DUMP, RESTORE and OBJECT, as redis-server 7.0 does them.
#include <optional>

#include "absl/strings/str_cat.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/slots/dump_restore.h"

namespace reborn::qdb {
namespace {

constexpr const char* kObjectHelp[] = {
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store "
    "the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer "
    "is",
    "    proportional to the logarithm of the recent access frequency of the "
    "key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the "
    "specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
};

void RestoreCommand(EngineCore& core, CommandContext& ctx) {
  RestoreArgs args;
  args.key = ctx.args[1];
  args.ttl = ctx.args[2];
  args.payload = ctx.args[3];
  std::optional<int64_t> idle;
  std::optional<int64_t> freq;
  for (size_t j = 4; j < ctx.args.size(); ++j) {
    const size_t additional = ctx.args.size() - j - 1;
    const std::string& opt = ctx.args[j];
    if (EqualsIgnoreCase(opt, "replace")) {
      args.replace = true;
    } else if (EqualsIgnoreCase(opt, "absttl")) {
      args.absttl = true;
    } else if (EqualsIgnoreCase(opt, "idletime") && additional >= 1 && !freq) {
      int64_t v;
      if (!ArgInt64(ctx, j + 1, &v)) return;
      if (v < 0)
        return ctx.reply.Error("ERR Invalid IDLETIME value, must be >= 0");
      idle = v;
      ++j;
    } else if (EqualsIgnoreCase(opt, "freq") && additional >= 1 && !idle) {
      int64_t v;
      if (!ArgInt64(ctx, j + 1, &v)) return;
      if (v < 0 || v > 255) {
        return ctx.reply.Error(
            "ERR Invalid FREQ value, must be >= 0 and <= 255");
      }
      freq = v;
      ++j;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
  }
  WithDb(core, ctx, [&](uint8_t db) {
    if (absl::Status s = Restore(core, db, args); !s.ok()) {
      return ReplyStatusError(ctx.reply, s);
    }
    // As Redis' objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLETIME
    // under any other; the one that does not apply is dropped.
    AccessClock& clock = core.keyspace().clock();
    const int64_t now = Keyspace::NowMs() / 1000;
    if (freq && clock.lfu_enabled()) {
      clock.SetFrequency(db, args.key, static_cast<int>(*freq), now);
    } else if (idle && !clock.lfu_enabled()) {
      clock.SetIdle(db, args.key, *idle, now);
    }
    ctx.reply.Ok();
  });
}

void ObjectCommand(EngineCore& core, CommandContext& ctx) {
  const std::string& sub = ctx.args[1];
  if (EqualsIgnoreCase(sub, "help")) {
    if (ctx.args.size() != 2) {
      return ctx.reply.Error(
          "ERR wrong number of arguments for 'object|help' command");
    }
    ctx.reply.ArrayHeader(std::size(kObjectHelp));
    for (const char* line : kObjectHelp) ctx.reply.SimpleString(line);
    return;
  }
  std::string name;
  for (const char* known : {"encoding", "freq", "idletime", "refcount"}) {
    if (EqualsIgnoreCase(sub, known)) name = known;
  }
  if (name.empty()) {
    return ctx.reply.Error(
        absl::StrCat("ERR unknown subcommand '", sub, "'. Try OBJECT HELP."));
  }
  if (ctx.args.size() != 3) {
    return ctx.reply.Error(absl::StrCat(
        "ERR wrong number of arguments for 'object|", name, "' command"));
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto meta = core.keyspace().Lookup(db, ctx.args[2], false);
    if (!meta.ok()) return ReplyStatusError(ctx.reply, meta.status());
    if (!*meta) return ctx.reply.Null();
    if (name == "encoding") {
      auto r = EncodingName(core, db, ctx.args[2], **meta);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      return ctx.reply.Bulk(*r);
    }
    AccessClock& clock = core.keyspace().clock();
    if (name == "freq" && clock.lfu_enabled()) {
      return ctx.reply.Integer(
          clock.Frequency(db, ctx.args[2], Keyspace::NowMs() / 1000));
    }
    if (name == "idletime" && clock.lfu_enabled()) {
      return ctx.reply.Error(
          "ERR An LFU maxmemory policy is selected, idle time not tracked. "
          "Please note that when switching between policies at runtime LRU "
          "and LFU data will take some time to adjust.");
    }
    if (name == "freq") {
      return ctx.reply.Error(
          "ERR An LFU maxmemory policy is not selected, access frequency not "
          "tracked. Please note that when switching between policies at "
          "runtime LRU and LFU data will take some time to adjust.");
    }
    if (name == "idletime") {
      return ctx.reply.Integer(core.keyspace().clock().IdleSeconds(
          db, ctx.args[2], Keyspace::NowMs() / 1000));
    }
    // Redis shares the objects of the integers 0..9999 (OBJ_SHARED_REFCOUNT).
    int64_t v;
    const bool shared = (*meta)->type == DataType::kString &&
                        (*meta)->form == StringForm::kAuto &&
                        ParseInt64((*meta)->value, &v) && v >= 0 && v < 10000;
    ctx.reply.Integer(shared ? 2147483647 : 1);
  });
}

}  // namespace

void RegisterDumpCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;
  reg("dump", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      auto r = Dump(*c, db, ctx.args[1]);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      if (!*r) return ctx.reply.Null();
      ctx.reply.Bulk(**r);
    });
  });
  reg("restore", [c](CommandContext& ctx) { RestoreCommand(*c, ctx); });
  reg("object", [c](CommandContext& ctx) { ObjectCommand(*c, ctx); });
}

}  // namespace reborn::qdb
