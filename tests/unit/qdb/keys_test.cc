// Keyspace commands through QdbEngine::Execute, on every backend.
#include <set>

#include "absl/strings/str_cat.h"
#include "engine_fixture.h"
#include "qdb/engine_access.h"

namespace reborn {
namespace {

using KeysTest = EngineTest;

std::vector<std::string> Sorted(const Reply& r) {
  std::vector<std::string> out;
  for (const Reply& e : r.elements) out.push_back(e.str);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_P(KeysTest, DelExistsTypeTouch) {
  EXPECT_EQ(R("MSET", "a", "1", "b", "2"), Ok());
  EXPECT_EQ(R("EXISTS", "a", "a", "b", "c"), Int(3));
  EXPECT_EQ(R("TOUCH", "a", "c"), Int(1));
  EXPECT_EQ(R("TYPE", "a"), Reply::Status("string"));
  EXPECT_EQ(R("TYPE", "c"), Reply::Status("none"));
  EXPECT_EQ(R("DEL", "a", "a", "c"), Int(1));
  EXPECT_EQ(R("UNLINK", "b"), Int(1));
  EXPECT_EQ(R("DBSIZE"), Int(0));
}

TEST_P(KeysTest, ExpireFamilyWithFlags) {
  EXPECT_EQ(R("EXPIRE", "k", "100"), Int(0));
  EXPECT_EQ(R("SET", "k", "v"), Ok());
  EXPECT_EQ(R("EXPIRE", "k", "100", "XX"), Int(0));
  EXPECT_EQ(R("EXPIRE", "k", "100", "GT"), Int(0));
  EXPECT_EQ(R("EXPIRE", "k", "100", "NX"), Int(1));
  EXPECT_EQ(R("EXPIRE", "k", "200", "NX"), Int(0));
  EXPECT_EQ(R("EXPIRE", "k", "50", "GT"), Int(0));
  EXPECT_EQ(R("EXPIRE", "k", "200", "GT"), Int(1));
  EXPECT_EQ(R("EXPIRE", "k", "300", "LT"), Int(0));
  EXPECT_EQ(R("PEXPIRE", "k", "150000", "LT"), Int(1));
  EXPECT_EQ(R("TTL", "k"), Int(150));
  EXPECT_EQ(R("EXPIRE", "k", "1", "NX", "XX"),
            Err("ERR NX and XX, GT or LT options at the same time are not "
                "compatible"));
  EXPECT_EQ(R("EXPIRE", "k", "1", "GT", "LT"),
            Err("ERR GT and LT options at the same time are not compatible"));
  EXPECT_EQ(R("EXPIRE", "k", "1", "FOO"), Err("ERR Unsupported option FOO"));
  EXPECT_EQ(R("EXPIRE", "k", "x"),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(R("EXPIRE", "k", "9223372036854775807"),
            Err("ERR invalid expire time in 'expire' command"));
  EXPECT_EQ(R("PEXPIRE", "k", "9223372036854775807"),
            Err("ERR invalid expire time in 'pexpire' command"));
  EXPECT_EQ(R("EXPIREAT", "k", "99999999999"), Int(1));
  EXPECT_EQ(R("EXPIRETIME", "k"), Int(99999999999));
  EXPECT_EQ(R("PEXPIRETIME", "k"), Int(99999999999000));
  EXPECT_EQ(R("PERSIST", "k"), Int(1));
  EXPECT_EQ(R("PERSIST", "k"), Int(0));
  EXPECT_EQ(R("TTL", "k"), Int(-1));
  EXPECT_EQ(R("EXPIRETIME", "k"), Int(-1));
  EXPECT_EQ(R("EXPIRETIME", "none"), Int(-2));
  EXPECT_EQ(R("EXPIRE", "k", "-1"), Int(1));  // in the past: deleted
  EXPECT_EQ(R("EXISTS", "k"), Int(0));
  EXPECT_EQ(R("SET", "k", "v"), Ok());
  EXPECT_EQ(R("PEXPIREAT", "k", "1", "GT"), Int(0));  // no TTL = infinite
  EXPECT_EQ(R("PEXPIREAT", "k", "1", "LT"), Int(1));
  EXPECT_EQ(R("DBSIZE"), Int(0));
}

TEST_P(KeysTest, RenameCopyMove) {
  EXPECT_EQ(R("RENAME", "a", "b"), Err("ERR no such key"));
  EXPECT_EQ(R("SET", "a", "1", "EX", "100"), Ok());
  EXPECT_EQ(R("RENAME", "a", "a"), Ok());
  EXPECT_EQ(R("RENAME", "a", "b"), Ok());
  EXPECT_EQ(R("GET", "b"), Str("1"));
  EXPECT_EQ(R("TTL", "b"), Int(100));
  EXPECT_EQ(R("EXISTS", "a"), Int(0));
  EXPECT_EQ(R("SET", "c", "2"), Ok());
  EXPECT_EQ(R("RENAMENX", "b", "c"), Int(0));
  EXPECT_EQ(R("RENAMENX", "b", "d"), Int(1));
  EXPECT_EQ(R("COPY", "d", "c"), Int(0));
  EXPECT_EQ(R("COPY", "d", "c", "REPLACE"), Int(1));
  EXPECT_EQ(R("GET", "c"), Str("1"));
  EXPECT_EQ(R("TTL", "c"), Int(100));
  EXPECT_EQ(R("COPY", "d", "d"),
            Err("ERR source and destination objects are the same"));
  EXPECT_EQ(R("COPY", "d", "x", "DB", "16"),
            Err("ERR DB index is out of range"));
  EXPECT_EQ(R("COPY", "d", "x", "FOO"), Err("ERR syntax error"));
  EXPECT_EQ(R("COPY", "d", "d", "DB", "1"), Int(1));
  EXPECT_EQ(R("COPY", "missing", "x"), Int(0));
  EXPECT_EQ(R("MOVE", "d", "1"), Int(0));  // exists in db 1
  EXPECT_EQ(R("MOVE", "c", "1"), Int(1));
  EXPECT_EQ(R("MOVE", "c", "0"),
            Err("ERR source and destination objects are the same"));
  EXPECT_EQ(R("MOVE", "c", "16"), Err("ERR DB index is out of range"));
  EXPECT_EQ(R("MOVE", "c", "x"),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(R("DBSIZE"), Int(1));
  EXPECT_EQ(R("SELECT", "1"), Ok());
  EXPECT_EQ(R("DBSIZE"), Int(2));
  EXPECT_EQ(R("GET", "c"), Str("1"));
  EXPECT_EQ(R("TTL", "c"), Int(100));
}

TEST_P(KeysTest, RenameAndCopyCarryMembersOfOtherTypes) {
  PlantHash("h");
  EXPECT_EQ(CountMembers("h"), 1);
  EXPECT_EQ(R("COPY", "h", "h2"), Int(1));
  EXPECT_EQ(R("TYPE", "h2"), Reply::Status("hash"));
  EXPECT_EQ(CountMembers("h2"), 1);
  EXPECT_EQ(R("RENAME", "h", "h3"), Ok());
  EXPECT_EQ(CountMembers("h3"), 1);
  EXPECT_EQ(R("MOVE", "h3", "2"), Int(1));
  EXPECT_EQ(CountMembers("h3", 2), 1);
  // The old members are garbage now: the collector drops them.
  ASSERT_TRUE(qdb::CoreOf(*engine_).keyspace().MaybeCollectGarbage(true).ok());
  EXPECT_EQ(CountMembers("h"), 0);
  EXPECT_EQ(CountMembers("h3"), 0);
  EXPECT_EQ(CountMembers("h3", 2), 1);
  EXPECT_EQ(CountMembers("h2"), 1);
  EXPECT_EQ(R("SET", "h2", "now a string"), Ok());
  ASSERT_TRUE(qdb::CoreOf(*engine_).keyspace().MaybeCollectGarbage(true).ok());
  EXPECT_EQ(CountMembers("h2"), 0);
}

TEST_P(KeysTest, ScanKeysRandomkey) {
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(R("SET", absl::StrCat("key:", i), "v"), Ok());
  }
  PlantHash("hash:1");
  std::set<std::string> seen;
  std::string cursor = "0";
  int rounds = 0;
  do {
    Reply r = R("SCAN", cursor, "COUNT", "7");
    ASSERT_EQ(r.elements.size(), 2u);
    cursor = r.elements[0].str;
    for (const Reply& k : r.elements[1].elements) seen.insert(k.str);
    ++rounds;
  } while (cursor != "0");
  EXPECT_EQ(seen.size(), 101u);
  EXPECT_GE(rounds, 14);
  Reply m = R("SCAN", "0", "MATCH", "key:1*", "COUNT", "1000");
  EXPECT_EQ(m.elements[1].elements.size(), 11u);
  Reply t = R("SCAN", "0", "TYPE", "hash", "COUNT", "1000");
  EXPECT_EQ(Sorted(t.elements[1]), std::vector<std::string>{"hash:1"});
  Reply u = R("SCAN", "0", "TYPE", "nosuch", "COUNT", "1000");
  EXPECT_TRUE(u.elements[1].elements.empty());
  EXPECT_EQ(R("SCAN", "x"), Err("ERR invalid cursor"));
  EXPECT_EQ(R("SCAN", "0", "COUNT", "0"), Err("ERR syntax error"));
  EXPECT_EQ(R("SCAN", "0", "MATCH"), Err("ERR syntax error"));
  EXPECT_EQ(R("KEYS", "key:9?").elements.size(), 10u);
  EXPECT_EQ(Sorted(R("KEYS", "hash*")), std::vector<std::string>{"hash:1"});
  for (int i = 0; i < 20; ++i) {
    Reply r = R("RANDOMKEY");
    ASSERT_EQ(r.type, Reply::Type::kString);
    EXPECT_EQ(R("EXISTS", r.str), Int(1));
  }
  EXPECT_EQ(R("FLUSHDB"), Ok());
  EXPECT_EQ(R("RANDOMKEY"), Nil());
  EXPECT_EQ(R("SCAN", "0"), Arr({Str("0"), Arr({})}));
}

TEST_P(KeysTest, SelectSwapdbFlush) {
  EXPECT_EQ(R("SELECT", "16"), Err("ERR DB index is out of range"));
  EXPECT_EQ(R("SELECT", "x"),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(R("SET", "a", "db0"), Ok());
  EXPECT_EQ(R("SELECT", "1"), Ok());
  EXPECT_EQ(R("SET", "a", "db1"), Ok());
  EXPECT_EQ(R("SET", "b", "db1"), Ok());
  EXPECT_EQ(R("SWAPDB", "0", "1"), Ok());
  EXPECT_EQ(R("GET", "a"), Str("db0"));
  EXPECT_EQ(R("DBSIZE"), Int(1));
  EXPECT_EQ(R("SWAPDB", "x", "1"), Err("ERR invalid first DB index"));
  EXPECT_EQ(R("SWAPDB", "0", "x"), Err("ERR invalid second DB index"));
  EXPECT_EQ(R("SWAPDB", "0", "16"), Err("ERR DB index is out of range"));
  EXPECT_EQ(R("FLUSHDB", "ASYNC"), Ok());
  EXPECT_EQ(R("FLUSHDB", "LATER"), Err("ERR syntax error"));
  EXPECT_EQ(R("DBSIZE"), Int(0));
  EXPECT_EQ(R("SELECT", "0"), Ok());
  EXPECT_EQ(R("GET", "a"), Str("db1"));
  if (persistent()) {
    // The swap is persistent.
    Open();
    EXPECT_EQ(R("GET", "a"), Str("db1"));
    EXPECT_EQ(R("DBSIZE"), Int(2));
  }
  EXPECT_EQ(R("FLUSHALL", "SYNC"), Ok());
  EXPECT_EQ(R("DBSIZE"), Int(0));
}

TEST_P(KeysTest, DataCountsAndTtlsSurviveRestart) {
  if (!persistent()) GTEST_SKIP() << "memory is volatile";
  EXPECT_EQ(R("SET", "a", "1"), Ok());
  EXPECT_EQ(R("SET", "b", "2", "EX", "1000"), Ok());
  EXPECT_EQ(R("SET", "gone", "3", "PX", "20"), Ok());
  EXPECT_EQ(R("SELECT", "3"), Ok());
  EXPECT_EQ(R("SET", "c", "3"), Ok());
  usleep(40 * 1000);
  Open();
  EXPECT_EQ(R("GET", "a"), Str("1"));
  // TTL rounds to the nearest second: a reopen slower than 500 ms on a
  // loaded machine shows 999.
  const Reply ttl = R("TTL", "b");
  EXPECT_TRUE(ttl == Int(1000) || ttl == Int(999)) << ttl.integer;
  EXPECT_EQ(R("DBSIZE"), Int(2));
  EXPECT_EQ(R("GET", "gone"), Nil());
  std::string info = engine_->Info("keyspace");
  EXPECT_NE(info.find("db0:keys=2,expires=1,avg_ttl="), std::string::npos)
      << info;
  EXPECT_NE(info.find("db3:keys=1,expires=0,avg_ttl=0"), std::string::npos)
      << info;
}

TEST_P(KeysTest, ActiveExpiryDeletesWithoutAccess) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(R("SET", absl::StrCat("t", i), "v", "PX", "10"), Ok());
  }
  EXPECT_EQ(R("SET", "stay", "v"), Ok());
  for (int i = 0;
       i < 100 && qdb::CoreOf(*engine_).keyspace().expired_keys() < 50; ++i) {
    usleep(20 * 1000);
  }
  EXPECT_EQ(qdb::CoreOf(*engine_).keyspace().expired_keys(), 50u);
  EXPECT_EQ(R("DBSIZE"), Int(1));
  std::string info = engine_->Info("stats");
  EXPECT_NE(info.find("expired_keys:50"), std::string::npos) << info;
}

TEST_P(KeysTest, InfoSectionsArePresent) {
  EXPECT_EQ(R("SET", "a", "1"), Ok());
  EXPECT_EQ(R("GET", "a"), Str("1"));
  EXPECT_EQ(R("GET", "nope"), Nil());
  std::string info = engine_->Info();
  for (const char* field :
       {"# Memory", "used_memory:", "# Persistence", "storage_disk_bytes:",
        "# Stats", "keyspace_hits:1", "keyspace_misses:1", "# Keyspace",
        "db0:keys=1,expires=0,avg_ttl=0", "# RocksDB", "engine:"}) {
    EXPECT_NE(info.find(field), std::string::npos) << field << "\n" << info;
  }
  engine_->ResetStats();
  EXPECT_NE(engine_->Info("stats").find("keyspace_hits:0"), std::string::npos);
  Reply r = R("INFO", "keyspace");
  EXPECT_EQ(r.type, Reply::Type::kString);
  if (GetParam() == "rocksdb") {
    EXPECT_TRUE(engine_->SetBlockCacheMb(32).ok());
    EXPECT_NE(engine_->Info("rocksdb").find("block_cache_capacity:33554432"),
              std::string::npos);
  }
}

REBORN_ALL_ENGINES(KeysTest);

}  // namespace
}  // namespace reborn
