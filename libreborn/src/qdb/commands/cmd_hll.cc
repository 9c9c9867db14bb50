// RESP handlers of the HyperLogLog commands (PFADD, PFCOUNT, PFMERGE,
// PFDEBUG, PFSELFTEST) as redis-server 7.0 answers them, over
// qdb::HyperLogLogs.
#include <random>

#include "absl/strings/str_cat.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/types/hll_format.h"

namespace reborn::qdb {
namespace {

void PfDebug(EngineCore& core, CommandContext& ctx) {
  const std::string& sub = ctx.args[1];
  const bool getreg = EqualsIgnoreCase(sub, "getreg");
  const bool todense = EqualsIgnoreCase(sub, "todense");
  WithDb(core, ctx, [&](uint8_t db) {
    bool converted = false;
    // Redis looks the key up and checks it before it reads the subcommand.
    absl::StatusOr<std::optional<std::string>> value =
        core.hyperloglogs().ForDebug(db, ctx.args[2], getreg || todense,
                                     &converted);
    if (!value.ok()) return ReplyStatusError(ctx.reply, value.status());
    if (!*value) {
      return ctx.reply.Error("ERR The specified key does not exist");
    }
    const std::string& hll = **value;
    if (getreg) {
      const auto* registers =
          reinterpret_cast<const uint8_t*>(hll.data()) + hll::kHeaderSize;
      ctx.reply.ArrayHeader(hll::kRegisters);
      for (int i = 0; i < hll::kRegisters; ++i) {
        ctx.reply.Integer(hll::DenseGet(registers, i));
      }
    } else if (EqualsIgnoreCase(sub, "decode")) {
      if (hll::EncodingOf(hll) != hll::kSparse) {
        return ctx.reply.Error("ERR HLL encoding is not sparse");
      }
      ctx.reply.Bulk(hll::DecodeSparse(hll));
    } else if (EqualsIgnoreCase(sub, "encoding")) {
      ctx.reply.SimpleString(hll::EncodingOf(hll) == hll::kDense ? "dense"
                                                                 : "sparse");
    } else if (todense) {
      ctx.reply.Integer(converted ? 1 : 0);
    } else {
      ctx.reply.Error(
          absl::StrCat("ERR Unknown PFDEBUG subcommand '", sub, "'"));
    }
  });
}

}  // namespace

void RegisterHllCommands(EngineCore& core, CommandTable& table,
                         absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;

  reg("pfadd", [c](CommandContext& ctx) {
    std::vector<std::string> elements(ctx.args.begin() + 2, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      int64_t updates = 0;
      auto r = c->hyperloglogs().Add(db, ctx.args[1], elements, &updates);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.session.changes = updates;
      ctx.reply.Integer(*r ? 1 : 0);
    });
  });
  reg("pfcount", [c](CommandContext& ctx) {
    WithDb(*c, ctx, [&](uint8_t db) {
      absl::StatusOr<uint64_t> r;
      if (ctx.args.size() > 2) {
        std::vector<std::string> keys(ctx.args.begin() + 1, ctx.args.end());
        r = c->hyperloglogs().CountUnion(db, keys);
      } else {
        r = c->hyperloglogs().Count(db, ctx.args[1]);
      }
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.reply.Integer(static_cast<int64_t>(*r));
    });
  });
  reg("pfmerge", [c](CommandContext& ctx) {
    std::vector<std::string> sources(ctx.args.begin() + 2, ctx.args.end());
    WithDb(*c, ctx, [&](uint8_t db) {
      absl::Status s = c->hyperloglogs().Merge(db, ctx.args[1], sources);
      if (!s.ok()) return ReplyStatusError(ctx.reply, s);
      ctx.reply.Ok();
    });
  });
  reg("pfdebug", [c](CommandContext& ctx) { PfDebug(*c, ctx); });
  reg("pfselftest", [c](CommandContext& ctx) {
    std::random_device rd;
    const uint64_t seed = (uint64_t{rd()} << 32) | rd();
    const std::string failure =
        hll::SelfTest(c->hyperloglogs().sparse_max_bytes(), seed);
    if (!failure.empty()) return ctx.reply.Error(failure);
    ctx.reply.Ok();
  });
}

}  // namespace reborn::qdb
