// MEMORY USAGE/STATS/DOCTOR/MALLOC-STATS/PURGE/HELP, with Redis 7.0's
// replies and errors. USAGE measures what a key takes in QDB's store (its
// records before compression), STATS and DOCTOR the process (docs/
// configuration.md, "Memory").
#include <malloc.h>

#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "command/command_table.h"
#include "qdb/numbers.h"
#include "reborn/qdb_engine.h"
#include "server/memory_stats.h"
#include "server/qdb_server_impl.h"

namespace reborn::server {
namespace {

constexpr const char* kMemoryHelp[] = {
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
};

// Redis' OBJ_COMPUTE_SIZE_DEF_SAMPLES.
constexpr int64_t kDefaultSamples = 5;

void Usage(QdbServerImpl& server, CommandContext& ctx) {
  int64_t samples = kDefaultSamples;
  for (size_t i = 3; i < ctx.args.size(); ++i) {
    if (!EqualsIgnoreCase(ctx.args[i], "samples") || i + 1 >= ctx.args.size()) {
      return ctx.reply.Error("ERR syntax error");
    }
    if (!qdb::ParseInt64(ctx.args[i + 1], &samples)) {
      return ctx.reply.Error("ERR value is not an integer or out of range");
    }
    if (samples < 0) return ctx.reply.Error("ERR syntax error");
    ++i;
  }
  absl::StatusOr<std::optional<int64_t>> bytes =
      server.engine().MemoryUsage(ctx.args[2], samples, ctx.session.db);
  if (!bytes.ok()) {
    return ctx.reply.Error(absl::StrCat("ERR ", bytes.status().message()));
  }
  if (!*bytes) return ctx.reply.Null();
  ctx.reply.Integer(**bytes);
}

int64_t TotalKeys(QdbServerImpl& server, std::vector<int64_t>* per_db) {
  int64_t total = 0;
  for (int db = 0; db < 16; ++db) {
    absl::StatusOr<uint64_t> n = server.engine().DbSize(db);
    const int64_t keys = n.ok() ? static_cast<int64_t>(*n) : 0;
    per_db->push_back(keys);
    total += keys;
  }
  return total;
}

double Ratio(int64_t a, int64_t b) {
  return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0;
}

void Stats(QdbServerImpl& server, int64_t startup_used, CommandContext& ctx) {
  const MemoryReading mem = ReadProcessMemory();
  std::vector<int64_t> per_db;
  const int64_t keys = TotalKeys(server, &per_db);
  int dbs_with_keys = 0;
  for (int64_t n : per_db) dbs_with_keys += n > 0;
  const int64_t overhead = std::max<int64_t>(0, mem.used - startup_used);
  ctx.reply.MapHeader(10 + dbs_with_keys);
  ctx.reply.Bulk("peak.allocated");
  ctx.reply.Integer(std::max(mem.peak_rss, mem.used));
  ctx.reply.Bulk("total.allocated");
  ctx.reply.Integer(mem.used);
  ctx.reply.Bulk("startup.allocated");
  ctx.reply.Integer(startup_used);
  for (int db = 0; db < 16; ++db) {
    if (per_db[db] == 0) continue;
    ctx.reply.Bulk(absl::StrCat("db.", db));
    ctx.reply.MapHeader(1);
    ctx.reply.Bulk("keys");
    ctx.reply.Integer(per_db[db]);
  }
  ctx.reply.Bulk("keys.count");
  ctx.reply.Integer(keys);
  // Keys live on disk: what each costs in memory is the process' growth
  // since start-up (caches, buffers) spread over them.
  ctx.reply.Bulk("keys.bytes-per-key");
  ctx.reply.Integer(keys > 0 ? overhead / keys : 0);
  ctx.reply.Bulk("allocator.allocated");
  ctx.reply.Integer(mem.used);
  ctx.reply.Bulk("allocator.resident");
  ctx.reply.Integer(mem.rss);
  ctx.reply.Bulk("rss-overhead.ratio");
  ctx.reply.Double(Ratio(mem.rss, mem.used));
  ctx.reply.Bulk("fragmentation");
  ctx.reply.Double(Ratio(mem.rss, mem.used));
  ctx.reply.Bulk("fragmentation.bytes");
  ctx.reply.Integer(mem.rss - mem.used);
}

std::string DoctorReport(QdbServerImpl& server) {
  const MemoryReading mem = ReadProcessMemory();
  const int64_t maxmemory = server.config().GetInt("maxmemory");
  std::string report;
  if (mem.used < 5 * 1024 * 1024) {
    return "Hi Sam, this instance is empty or is using very little memory, "
           "my issues detector can't be used in these conditions. Please, "
           "leave for your mission on Earth and fill it with some data. The "
           "new Sam and I will be back to our programming as soon as I "
           "finished rebooting.";
  }
  if (maxmemory > 0 && mem.used > maxmemory * 9 / 10) {
    absl::StrAppend(&report, " * Used memory (", HumanBytes(mem.used),
                    ") is near or over maxmemory (", HumanBytes(maxmemory),
                    "): commands that add data are refused over it. Raise "
                    "maxmemory or lower block-cache-size.\n\n");
  }
  if (mem.used > 0 && mem.rss > mem.used * 3 / 2 &&
      mem.rss - mem.used > 10 * 1024 * 1024) {
    absl::StrAppend(&report, " * High RSS overhead: the process holds ",
                    HumanBytes(mem.rss), " for ", HumanBytes(mem.used),
                    " allocated. MEMORY PURGE returns free pages to the "
                    "system.\n\n");
  }
  if (report.empty()) {
    return "Hi Sam, I can't find any memory issue in your instance. I can "
           "only account for what occurs on this base.";
  }
  return absl::StrCat(
      "Sam, I detected a few issues in this Redis instance memory "
      "implants:\n\n",
      report, "I'm here to keep you safe, Sam. I want to help you.\n");
}

void Memory(QdbServerImpl& server, int64_t startup_used, CommandContext& ctx) {
  const std::string sub = absl::AsciiStrToLower(ctx.args[1]);
  // Redis 7.0's subcommand arities (memory|usage takes a key and options).
  const std::pair<const char*, int> kArity[] = {
      {"help", 2},   {"usage", -3}, {"stats", 2},
      {"doctor", 2}, {"purge", 2},  {"malloc-stats", 2}};
  const int argc = static_cast<int>(ctx.args.size());
  bool known = false;
  for (const auto& [name, arity] : kArity) {
    if (sub != name) continue;
    known = true;
    if (arity > 0 ? argc != arity : argc < -arity) {
      return ctx.reply.Error(absl::StrCat(
          "ERR wrong number of arguments for 'memory|", name, "' command"));
    }
  }
  if (!known)
    return ctx.reply.Error(UnknownSubcommandError("MEMORY", ctx.args[1]));
  if (sub == "help") {
    ctx.reply.ArrayHeader(std::size(kMemoryHelp));
    for (const char* line : kMemoryHelp) ctx.reply.SimpleString(line);
  } else if (sub == "usage") {
    Usage(server, ctx);
  } else if (sub == "stats") {
    Stats(server, startup_used, ctx);
  } else if (sub == "malloc-stats") {
    // What redis-server answers when built without jemalloc.
    ctx.reply.Bulk("Stats not supported for the current allocator");
  } else if (sub == "doctor") {
    ctx.reply.Verbatim(DoctorReport(server));
  } else {
    malloc_trim(0);
    ctx.reply.Ok();
  }
}

}  // namespace

absl::Status RegisterMemoryCommand(QdbServerImpl& server, CommandTable& table) {
  const int64_t startup_used = ReadProcessMemory().used;
  return table.Register("memory", [&server, startup_used](CommandContext& ctx) {
    Memory(server, startup_used, ctx);
  });
}

}  // namespace reborn::server
