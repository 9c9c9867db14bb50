// RESP handlers of BITFIELD and BITFIELD_RO: the argument parsing, its
// error texts and their order as redis-server 7.0's bitfieldGeneric, over
// Strings::Get / Strings::BitField.
#include "qdb/commands/cmd_util.h"
#include "qdb/types/bitfield.h"

namespace reborn::qdb {
namespace {

constexpr std::string_view kBadType =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is "
    "not supported but i64 is.";
constexpr std::string_view kBadOffset =
    "ERR bit offset is not an integer or out of range";

// <sign><bits>: i1..i64 or u1..u63. Redis reads the digits as a C string,
// so they end at a NUL byte.
bool ParseType(std::string_view arg, BitFieldOp* op) {
  arg = arg.substr(0, arg.find('\0'));
  if (arg.empty() || (arg[0] != 'i' && arg[0] != 'u')) return false;
  op->is_signed = arg[0] == 'i';
  int64_t bits;
  if (!ParseInt64(arg.substr(1), &bits) || bits < 1 ||
      bits > (op->is_signed ? 64 : 63)) {
    return false;
  }
  op->bits = static_cast<int>(bits);
  return true;
}

// A bit offset, or "#N" for the N-th field of this type's width.
bool ParseOffset(std::string_view arg, int64_t max_bytes, BitFieldOp* op) {
  const bool by_field = !arg.empty() && arg[0] == '#';
  int64_t offset;
  if (!ParseInt64(arg.substr(by_field ? 1 : 0), &offset)) return false;
  // Redis multiplies in a long long; wrap-around (then refused below as
  // negative or too far) is what its builds do.
  if (by_field) {
    offset = static_cast<int64_t>(static_cast<uint64_t>(offset) *
                                  static_cast<uint64_t>(op->bits));
  }
  if (offset < 0 || (offset >> 3) >= max_bytes) return false;
  op->offset = static_cast<uint64_t>(offset);
  return true;
}

void BitField(EngineCore& core, CommandContext& ctx, bool read_only_command) {
  const auto& args = ctx.args;
  std::vector<BitFieldOp> ops;
  BitFieldOverflow overflow = BitFieldOverflow::kWrap;
  bool writes = false;
  const int64_t max_bytes = core.strings().max_bytes();
  for (size_t j = 2; j < args.size(); ++j) {
    const size_t remaining = args.size() - j - 1;
    const std::string& sub = args[j];
    BitFieldOp op;
    if (EqualsIgnoreCase(sub, "get") && remaining >= 2) {
      op.kind = BitFieldOp::Kind::kGet;
    } else if (EqualsIgnoreCase(sub, "set") && remaining >= 3) {
      op.kind = BitFieldOp::Kind::kSet;
    } else if (EqualsIgnoreCase(sub, "incrby") && remaining >= 3) {
      op.kind = BitFieldOp::Kind::kIncrBy;
    } else if (EqualsIgnoreCase(sub, "overflow") && remaining >= 1) {
      const std::string& type = args[++j];
      if (EqualsIgnoreCase(type, "wrap")) {
        overflow = BitFieldOverflow::kWrap;
      } else if (EqualsIgnoreCase(type, "sat")) {
        overflow = BitFieldOverflow::kSat;
      } else if (EqualsIgnoreCase(type, "fail")) {
        overflow = BitFieldOverflow::kFail;
      } else {
        return ctx.reply.Error("ERR Invalid OVERFLOW type specified");
      }
      continue;
    } else {
      return ctx.reply.Error(kSyntaxText);
    }
    if (!ParseType(args[j + 1], &op)) return ctx.reply.Error(kBadType);
    if (!ParseOffset(args[j + 2], max_bytes, &op)) {
      return ctx.reply.Error(kBadOffset);
    }
    if (op.kind != BitFieldOp::Kind::kGet) {
      writes = true;
      if (!ArgInt64(ctx, j + 3, &op.value)) return;
    }
    op.overflow = overflow;
    ops.push_back(op);
    j += op.kind == BitFieldOp::Kind::kGet ? 2 : 3;
  }
  if (writes && read_only_command) {
    return ctx.reply.Error("ERR BITFIELD_RO only supports the GET subcommand");
  }
  WithDb(core, ctx, [&](uint8_t db) {
    std::vector<std::optional<int64_t>> results;
    if (writes) {
      int64_t changes = 0;
      auto r = core.strings().BitField(db, args[1], ops, &changes);
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      ctx.session.changes = changes;
      results = std::move(*r);
    } else {
      // Only GETs: a plain read, an absent key reads as zeros.
      ctx.session.changes = 0;
      auto value = core.strings().Get(db, args[1]);
      if (!value.ok()) return ReplyStatusError(ctx.reply, value.status());
      const std::string_view s = *value ? std::string_view(**value) : "";
      for (const BitFieldOp& op : ops) results.push_back(GetBitField(s, op));
    }
    ctx.reply.ArrayHeader(results.size());
    for (const std::optional<int64_t>& r : results) {
      if (r) {
        ctx.reply.Integer(*r);
      } else {
        ctx.reply.Null();
      }
    }
  });
}

}  // namespace

void RegisterBitFieldCommands(EngineCore& core, CommandTable& table,
                              absl::Status* status) {
  EngineCore* c = &core;
  status->Update(table.Register(
      "bitfield", [c](CommandContext& ctx) { BitField(*c, ctx, false); }));
  status->Update(table.Register(
      "bitfield_ro", [c](CommandContext& ctx) { BitField(*c, ctx, true); }));
}

}  // namespace reborn::qdb
