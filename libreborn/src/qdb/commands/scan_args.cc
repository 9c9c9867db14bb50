#include "qdb/commands/scan_args.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <random>

#include "qdb/commands/cmd_util.h"
#include "qdb/types/hashes.h"
#include "util/glob.h"

namespace reborn::qdb {

namespace {
constexpr int64_t kMaxRandomCount = int64_t{1} << 24;
}  // namespace

bool ParseScanCursor(CommandContext& ctx, ScanArgs* out) {
  const std::string& cs = ctx.args[2];
  char* end = nullptr;
  errno = 0;
  out->cursor = std::strtoull(cs.c_str(), &end, 10);
  if (cs.empty() || std::isspace(static_cast<unsigned char>(cs[0])) ||
      *end != '\0' || errno == ERANGE) {
    ctx.reply.Error("ERR invalid cursor");
    return false;
  }
  return true;
}

bool ParseScanOptions(CommandContext& ctx, ScanArgs* out) {
  for (size_t i = 3; i < ctx.args.size();) {
    const size_t left = ctx.args.size() - i;
    if (EqualsIgnoreCase(ctx.args[i], "count") && left >= 2) {
      if (!ArgInt64(ctx, i + 1, &out->count)) return false;
      if (out->count < 1) {
        ctx.reply.Error(kSyntaxText);
        return false;
      }
      i += 2;
    } else if (EqualsIgnoreCase(ctx.args[i], "match") && left >= 2) {
      out->pattern = ctx.args[i + 1];
      i += 2;
    } else {
      ctx.reply.Error(kSyntaxText);
      return false;
    }
  }
  return true;
}

void FilterPage(const ScanArgs& args, MemberPage* page) {
  if (args.pattern.empty() || args.pattern == "*") return;
  std::vector<MemberPair> kept;
  for (auto& p : page->members) {
    if (GlobMatch(args.pattern, p.first)) kept.push_back(std::move(p));
  }
  page->members = std::move(kept);
}

std::optional<DataType> TypeFromName(std::string_view name, bool* known) {
  *known = true;
  for (DataType t : {DataType::kString, DataType::kHash, DataType::kList,
                     DataType::kSet, DataType::kZSet, DataType::kStream}) {
    if (EqualsIgnoreCase(name, TypeName(t))) return t;
  }
  *known = false;
  return std::nullopt;
}

bool ParseCountArg(CommandContext& ctx, size_t i, int64_t* out) {
  if (!ArgInt64(ctx, i, out)) return false;
  if (*out == std::numeric_limits<int64_t>::min()) {
    ctx.reply.Error(
        "ERR value is out of range, value must between -9223372036854775807 "
        "and 9223372036854775807");
    return false;
  }
  // Redis would try to build such a reply and exhaust memory; refuse it.
  if (*out < -kMaxRandomCount) {
    ctx.reply.Error("ERR value is out of range");
    return false;
  }
  return true;
}

}  // namespace reborn::qdb

namespace reborn::qdb {

void MemberScanCommand(
    EngineCore& core, CommandContext& ctx, DataType type,
    const std::function<absl::StatusOr<MemberPage>(uint8_t, uint64_t, size_t)>&
        scan) {
  ScanArgs args;
  if (!ParseScanCursor(ctx, &args)) return;
  WithDb(core, ctx, [&](uint8_t db) {
    auto meta = LookupTyped(core.keyspace(), db, ctx.args[1], type);
    if (!meta.ok()) return ReplyStatusError(ctx.reply, meta.status());
    MemberPage page;
    if (*meta) {
      if (!ParseScanOptions(ctx, &args)) return;
      auto r = scan(db, args.cursor, static_cast<size_t>(args.count));
      if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
      page = std::move(*r);
      FilterPage(args, &page);
    }
    const bool pairs = type == DataType::kHash;
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(std::to_string(page.next_cursor));
    ctx.reply.ArrayHeader(page.members.size() * (pairs ? 2 : 1));
    for (const auto& [m, v] : page.members) {
      ctx.reply.Bulk(m);
      if (pairs) ctx.reply.Bulk(v);
    }
  });
}

}  // namespace reborn::qdb
