// Embeds the QDB engine in a program: no network, no server. Opens a store,
// uses the typed API and the RESP-level Execute() entry, and closes it.
//
//   embed_qdb [dir] [rocksdb|leveldb|memory]
#include <cstdio>
#include <string>
#include <vector>

#include "reborn/qdb_engine.h"

int main(int argc, char** argv) {
  reborn::QdbOptions options;
  options.dir = argc > 1 ? argv[1] : "./embed-qdb-data";
  absl::StatusOr<reborn::StorageEngine> engine =
      reborn::ParseStorageEngine(argc > 2 ? argv[2] : "rocksdb");
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(engine.status().message()).c_str());
    return 2;
  }
  options.engine = *engine;
  options.block_cache_mb = 32;

  absl::StatusOr<std::unique_ptr<reborn::QdbEngine>> opened =
      reborn::QdbEngine::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n",
                 std::string(opened.status().message()).c_str());
    return 1;
  }
  reborn::QdbEngine& db = **opened;

  // Typed API.
  reborn::QdbEngine::SetOptions with_ttl;
  with_ttl.ttl = absl::Minutes(1);
  if (absl::Status s = db.Set("greeting", "hello", with_ttl).status();
      !s.ok()) {
    std::fprintf(stderr, "set: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  absl::StatusOr<std::optional<std::string>> value = db.Get("greeting");
  absl::StatusOr<int64_t> visits = db.IncrBy("visits", 1);
  absl::StatusOr<std::optional<absl::Duration>> ttl = db.Ttl("greeting");
  if (!value.ok() || !visits.ok() || !ttl.ok() || !ttl->has_value()) return 1;
  std::printf("greeting=%s visits=%lld ttl_ms=%lld\n",
              value->value_or("(nil)").c_str(), static_cast<long long>(*visits),
              static_cast<long long>(absl::ToInt64Milliseconds(**ttl)));

  // A hash and a sorted set through the typed API.
  absl::StatusOr<int64_t> fields =
      db.HSet("profile:1", {{"name", "ada"}, {"lang", "c++"}});
  absl::StatusOr<int64_t> added =
      db.ZAdd("leaderboard", {{120, "ada"}, {95, "grace"}, {130, "linus"}});
  absl::StatusOr<std::optional<std::string>> name =
      db.HGet("profile:1", "name");
  absl::StatusOr<std::vector<reborn::QdbEngine::ScoredMember>> top =
      db.ZRange("leaderboard", -2, -1);  // the two highest scores
  for (const absl::Status& s :
       {fields.status(), added.status(), name.status(), top.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "hash/zset: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::printf("profile name=%s; leaderboard top:",
              name->value_or("(nil)").c_str());
  for (const reborn::QdbEngine::ScoredMember& m : *top) {
    std::printf(" %s=%g", m.member.c_str(), m.score);
  }
  std::printf("\n");

  // Any engine command through Execute(), with Redis' replies.
  reborn::QdbEngine::Context ctx;
  db.Execute(ctx, {"MSET", "user:1", "ada", "user:2", "grace"});
  reborn::Reply keys = db.Execute(ctx, {"KEYS", "user:*"});
  std::printf("KEYS user:* -> %zu keys\n", keys.elements.size());
  reborn::Reply err = db.Execute(ctx, {"INCR", "user:1"});
  std::printf("INCR user:1 -> %s\n", err.str.c_str());

  // A full scan with the typed API.
  uint64_t cursor = 0;
  size_t seen = 0;
  do {
    absl::StatusOr<reborn::QdbEngine::ScanPage> page =
        db.Scan(cursor, "*", 100);
    if (!page.ok()) return 1;
    seen += page->keys.size();
    cursor = page->cursor;
  } while (cursor != 0);
  std::printf("scan saw %zu keys, dbsize=%llu\n", seen,
              static_cast<unsigned long long>(db.DbSize().value_or(0)));
  std::printf("%s", db.Info("keyspace").c_str());
  return 0;  // the engine flushes to disk when it is destroyed
}
