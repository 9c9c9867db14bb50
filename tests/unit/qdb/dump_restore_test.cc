// DUMP/RESTORE and OBJECT ENCODING of lists and sorted sets through
// QdbEngine::Execute, on every backend.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine_fixture.h"

namespace reborn {
namespace {

using DumpRestoreTest = EngineTest;

// Payloads written by redis-server 7.0.15 for RPUSH l a b c 12 (quicklist 2
// of one listpack node) and ZADD z 1 a 2.5 b -inf c (listpack).
constexpr char kRedisList[] =
    "\x12\x01\x02\x12\x12\x00\x00\x00\x04\x00\x81\x61\x02\x81\x62\x02\x81\x63"
    "\x02\x0c\x01\xff\x0a\x00\xaa\x0c\x3f\xa9\xad\xca\xfe\xc8";
constexpr char kRedisZset[] =
    "\x11\x1d\x1d\x00\x00\x00\x06\x00\x81\x63\x02\x84\x2d\x69\x6e\x66\x05\x81"
    "\x61\x02\x01\x01\x81\x62\x02\x83\x32\x2e\x35\x04\xff\x0a\x00\x39\x92\x33"
    "\x9b\xe1\x1f\x32\x3d";

using V = std::vector<std::string>;

TEST_P(DumpRestoreTest, ListRoundTripKeepsOrderAndTtl) {
  // Pushes on both ends, so the stored indexes straddle the initial one.
  EXPECT_EQ(R("RPUSH", "l", "c", "d", "12"), Int(3));
  EXPECT_EQ(R("LPUSH", "l", "b", "a"), Int(5));
  Reply payload = R("DUMP", "l");
  ASSERT_EQ(payload.type, Reply::Type::kString);
  EXPECT_EQ(R("RESTORE", "l2", "5000", payload.str), Ok());
  EXPECT_EQ(Strs(R("LRANGE", "l2", "0", "-1")), (V{"a", "b", "c", "d", "12"}));
  EXPECT_EQ(R("TTL", "l2"), Int(5));
  EXPECT_EQ(R("TYPE", "l2"), Reply::Status("list"));
  EXPECT_EQ(R("DUMP", "l2"), payload);
  // The restored list is a working list: both ends and the middle.
  EXPECT_EQ(R("LPUSH", "l2", "z"), Int(6));
  EXPECT_EQ(R("RPOP", "l2"), Str("12"));
  EXPECT_EQ(R("LINDEX", "l2", "2"), Str("b"));
  EXPECT_EQ(R("LLEN", "l2"), Int(5));
  EXPECT_EQ(R("RESTORE", "l2", "0", payload.str),
            Err("BUSYKEY Target key name already exists."));
}

TEST_P(DumpRestoreTest, BigListRoundTripsThroughManyNodes) {
  std::vector<std::string> cmd = {"RPUSH", "big"};
  std::vector<std::string> want;
  for (int i = 0; i < 3000; ++i) {
    want.push_back(i % 100 == 0 ? std::string(9000, 'x')
                                : absl::StrCat("e", i));
    cmd.push_back(want.back());
  }
  EXPECT_EQ(engine_->Execute(ctx_, cmd), Int(3000));
  Reply payload = R("DUMP", "big");
  ASSERT_EQ(payload.type, Reply::Type::kString);
  EXPECT_EQ(R("RESTORE", "big", "0", payload.str, "REPLACE"), Ok());
  EXPECT_EQ(Strs(R("LRANGE", "big", "0", "-1")), want);
}

TEST_P(DumpRestoreTest, ZsetRoundTripKeepsScores) {
  EXPECT_EQ(R("ZADD", "z", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "0.1",
              "e", "-3", "f"),
            Int(6));
  Reply payload = R("DUMP", "z");
  ASSERT_EQ(payload.type, Reply::Type::kString);
  EXPECT_EQ(R("RESTORE", "z2", "0", payload.str), Ok());
  EXPECT_EQ(R("TYPE", "z2"), Reply::Status("zset"));
  EXPECT_EQ(R("ZRANGE", "z2", "0", "-1", "WITHSCORES"),
            R("ZRANGE", "z", "0", "-1", "WITHSCORES"));
  EXPECT_EQ(R("ZSCORE", "z2", "e"), Str("0.10000000000000001"));
  EXPECT_EQ(R("ZCARD", "z2"), Int(6));
  EXPECT_EQ(R("ZRANK", "z2", "b"), Int(4));
  EXPECT_EQ(R("DUMP", "z2"), payload);
}

TEST_P(DumpRestoreTest, BigZsetRoundTrips) {
  std::vector<std::string> cmd = {"ZADD", "bz"};
  for (int i = 0; i < 500; ++i) {
    cmd.push_back(absl::StrCat(i * 0.5 - 100));
    cmd.push_back(absl::StrCat("member:", i));
  }
  EXPECT_EQ(engine_->Execute(ctx_, cmd), Int(500));
  EXPECT_EQ(R("OBJECT", "ENCODING", "bz"), Str("skiplist"));
  Reply payload = R("DUMP", "bz");
  ASSERT_EQ(payload.type, Reply::Type::kString);
  EXPECT_EQ(R("RESTORE", "bz2", "0", payload.str), Ok());
  EXPECT_EQ(R("ZRANGE", "bz2", "0", "-1", "WITHSCORES"),
            R("ZRANGE", "bz", "0", "-1", "WITHSCORES"));
  EXPECT_EQ(R("ZCOUNT", "bz2", "-50", "50"), Int(201));
}

TEST_P(DumpRestoreTest, RestoresPayloadsWrittenByRedis) {
  EXPECT_EQ(
      R("RESTORE", "l", "0", std::string(kRedisList, sizeof(kRedisList) - 1)),
      Ok());
  EXPECT_EQ(Strs(R("LRANGE", "l", "0", "-1")), (V{"a", "b", "c", "12"}));
  EXPECT_EQ(
      R("RESTORE", "z", "0", std::string(kRedisZset, sizeof(kRedisZset) - 1)),
      Ok());
  EXPECT_EQ(Strs(R("ZRANGE", "z", "0", "-1", "WITHSCORES")),
            (V{"c", "-inf", "a", "1", "b", "2.5"}));
}

TEST_P(DumpRestoreTest, ReplaceChangesTypeAndDropsOldMembers) {
  EXPECT_EQ(R("RPUSH", "k", "a", "b"), Int(2));
  EXPECT_EQ(R("ZADD", "z", "1", "m"), Int(1));
  EXPECT_EQ(R("RESTORE", "k", "0", R("DUMP", "z").str, "REPLACE"), Ok());
  EXPECT_EQ(R("TYPE", "k"), Reply::Status("zset"));
  EXPECT_EQ(R("LLEN", "k"),
            Err("WRONGTYPE Operation against a key holding the wrong kind "
                "of value"));
  EXPECT_EQ(R("RESTORE", "z", "0", R("DUMP", "k").str, "REPLACE"), Ok());
  EXPECT_EQ(R("RPUSH", "k2", "x"), Int(1));
  EXPECT_EQ(R("RESTORE", "k", "0", R("DUMP", "k2").str, "REPLACE"), Ok());
  EXPECT_EQ(Strs(R("LRANGE", "k", "0", "-1")), (V{"x"}));
  std::string bad = R("DUMP", "k").str;
  bad[3] ^= 0x55;
  EXPECT_EQ(R("RESTORE", "k3", "0", bad),
            Err("ERR DUMP payload version or checksum are wrong"));
}

TEST_P(DumpRestoreTest, ObjectEncodingOfListsAndZsets) {
  // Redis 7.0 reports every list as a quicklist, however small.
  EXPECT_EQ(R("RPUSH", "l", "a"), Int(1));
  EXPECT_EQ(R("OBJECT", "ENCODING", "l"), Str("quicklist"));
  std::vector<std::string> cmd = {"ZADD", "z"};
  for (int i = 0; i < 128; ++i) {
    cmd.push_back(absl::StrCat(i));
    cmd.push_back(absl::StrCat("m", i));
  }
  EXPECT_EQ(engine_->Execute(ctx_, cmd), Int(128));
  EXPECT_EQ(R("OBJECT", "ENCODING", "z"), Str("listpack"));
  EXPECT_EQ(R("ZADD", "z", "1000", "one-more"), Int(1));
  EXPECT_EQ(R("OBJECT", "ENCODING", "z"), Str("skiplist"));
  EXPECT_EQ(R("ZADD", "v", "1", std::string(64, 'x')), Int(1));
  EXPECT_EQ(R("OBJECT", "ENCODING", "v"), Str("listpack"));
  EXPECT_EQ(R("ZADD", "v", "2", std::string(65, 'x')), Int(1));
  EXPECT_EQ(R("OBJECT", "ENCODING", "v"), Str("skiplist"));
}

REBORN_ALL_ENGINES(DumpRestoreTest);

}  // namespace
}  // namespace reborn
