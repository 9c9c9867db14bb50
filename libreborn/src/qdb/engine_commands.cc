#include "qdb/engine_commands.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "qdb/commands/cmd_streams.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/commands/sort.h"
#include "qdb/engine_access.h"
#include "storage/kv_store.h"

namespace reborn {
namespace {

std::string Human(uint64_t bytes) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return absl::StrCat(bytes, "B");
  return absl::StrFormat("%.2f%s", v, units[u]);
}

}  // namespace

absl::Status RegisterEngineCommands(QdbEngine& engine, CommandTable& table) {
  absl::Status status;
  qdb::RegisterAllCommands(qdb::CoreOf(engine), table, &status);
  return status;
}

void AppendEngineInfo(QdbEngine& engine, std::string_view section,
                      std::string* out) {
  qdb::EngineCore& core = qdb::CoreOf(engine);
  qdb::Keyspace& ks = core.keyspace();
  storage::KvStore& store = ks.store();
  if (section == "keyspace") {
    absl::ReaderMutexLock lock(&ks.layout_mu());
    for (int db = 0; db < qdb::kNumDbs; ++db) {
      const uint8_t pdb = ks.Physical(db);
      const uint64_t keys = ks.DbSize(pdb);
      if (keys == 0) continue;
      absl::StrAppend(out, "db", db, ":keys=", keys,
                      ",expires=", ks.ExpiresCount(pdb),
                      ",avg_ttl=", ks.AvgTtl(pdb), "\r\n");
    }
  } else if (section == "memory") {
    // The server reports the process' own used_memory/RSS; these are the
    // storage engine's caches and memtables.
    const uint64_t used = store.ApproximateMemoryBytes();
    absl::StrAppend(out, "used_memory_storage:", used, "\r\n",
                    "used_memory_storage_human:", Human(used), "\r\n");
  } else if (section == "persistence") {
    absl::StrAppend(out, "storage_dir:", core.options().dir, "\r\n",
                    "storage_disk_bytes:", store.ApproximateDiskBytes(), "\r\n",
                    "compacting:", core.compacting() ? 1 : 0, "\r\n",
                    "compactions:", core.compactions(), "\r\n");
  } else if (section == "stats") {
    absl::StrAppend(out, "expired_keys:", ks.expired_keys(), "\r\n",
                    "evicted_keys:0\r\n", "keyspace_hits:", ks.keyspace_hits(),
                    "\r\n", "keyspace_misses:", ks.keyspace_misses(), "\r\n",
                    "active_expire_cycles:", core.expiry_cycles(), "\r\n");
  } else if (section == "rocksdb") {
    // Not a Redis section, so the server has no header for it.
    out->append("# RocksDB\r\n");
    store.AppendStats(out);
  }
}

}  // namespace reborn
