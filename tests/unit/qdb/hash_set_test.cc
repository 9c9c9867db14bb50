// Hashes, sets, DUMP/RESTORE and OBJECT through QdbEngine::Execute, on every
// backend.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine_fixture.h"
#include "qdb/engine_access.h"

namespace reborn {
namespace {

using HashSetTest = EngineTest;

std::vector<std::string> Sorted(const Reply& r) {
  std::vector<std::string> out = Strs(r);
  std::sort(out.begin(), out.end());
  return out;
}
using V = std::vector<std::string>;

TEST_P(HashSetTest, HashBasicsAndRepeatedFields) {
  EXPECT_EQ(R("HSET", "h", "a", "1", "b", "2", "a", "3"), Int(2));
  EXPECT_EQ(R("HGET", "h", "a"), Str("3"));
  EXPECT_EQ(R("HSETNX", "h", "a", "9"), Int(0));
  EXPECT_EQ(R("HSETNX", "h", "c", "9"), Int(1));
  EXPECT_EQ(R("HMSET", "h", "d", "4"), Ok());
  EXPECT_EQ(R("HLEN", "h"), Int(4));
  EXPECT_EQ(R("HSTRLEN", "h", "c"), Int(1));
  EXPECT_EQ(R("HEXISTS", "h", "zz"), Int(0));
  EXPECT_EQ(R("HMGET", "h", "a", "zz"), Arr({Str("3"), Nil()}));
  EXPECT_EQ(Sorted(R("HKEYS", "h")), (V{"a", "b", "c", "d"}));
  EXPECT_EQ(Sorted(R("HVALS", "h")), (V{"2", "3", "4", "9"}));
  EXPECT_EQ(R("HGETALL", "h").elements.size(), 8u);
  EXPECT_EQ(R("HSET", "h", "x"),
            Err("ERR wrong number of arguments for 'hset' command"));
  EXPECT_EQ(R("HDEL", "h", "a", "a", "b", "zz"), Int(2));
  EXPECT_EQ(R("HDEL", "h", "c", "d"), Int(2));
  EXPECT_EQ(R("EXISTS", "h"), Int(0));
  EXPECT_EQ(R("HGETALL", "h"), Arr({}));
  EXPECT_EQ(R("TYPE", "h"), Reply::Status("none"));
}

TEST_P(HashSetTest, HashIncrementsAndErrors) {
  EXPECT_EQ(R("HINCRBY", "h", "n", "5"), Int(5));
  EXPECT_EQ(R("HINCRBY", "h", "n", "-7"), Int(-2));
  EXPECT_EQ(R("HSET", "h", "big", "9223372036854775807", "s", "abc"), Int(2));
  EXPECT_EQ(R("HINCRBY", "h", "big", "1"),
            Err("ERR increment or decrement would overflow"));
  EXPECT_EQ(R("HINCRBY", "h", "s", "1"),
            Err("ERR hash value is not an integer"));
  EXPECT_EQ(R("HINCRBY", "h", "n", "x"),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(R("HINCRBYFLOAT", "h", "f", "10.5"), Str("10.5"));
  EXPECT_EQ(R("HINCRBYFLOAT", "h", "f", "0.1"), Str("10.6"));
  EXPECT_EQ(R("HINCRBYFLOAT", "h", "s", "1"),
            Err("ERR hash value is not a float"));
  EXPECT_EQ(R("HINCRBYFLOAT", "h", "f", "x"),
            Err("ERR value is not a valid float"));
  EXPECT_EQ(R("SET", "str", "v"), Ok());
  for (const auto& cmd :
       std::vector<std::vector<std::string>>{{"HGET", "str", "a"},
                                             {"HSET", "str", "a", "1"},
                                             {"HLEN", "str"},
                                             {"HGETALL", "str"},
                                             {"HINCRBY", "str", "a", "1"},
                                             {"SADD", "str", "a"},
                                             {"SMEMBERS", "str"},
                                             {"SCARD", "str"},
                                             {"SINTER", "str"},
                                             {"HSCAN", "str", "0"}}) {
    EXPECT_EQ(engine_->Execute(ctx_, cmd), Err(kWrongType)) << cmd[0];
  }
}

TEST_P(HashSetTest, Resp3RepliesMapsAndSets) {
  ctx_.protocol = 3;
  EXPECT_EQ(R("HSET", "h", "a", "1"), Int(1));
  Reply all = R("HGETALL", "h");
  EXPECT_EQ(all.type, Reply::Type::kMap);
  EXPECT_EQ(Strs(all), (V{"a", "1"}));
  Reply pairs = R("HRANDFIELD", "h", "2", "WITHVALUES");
  ASSERT_EQ(pairs.type, Reply::Type::kArray);
  ASSERT_EQ(pairs.elements.size(), 1u);
  EXPECT_EQ(Strs(pairs.elements[0]), (V{"a", "1"}));
  EXPECT_EQ(R("SADD", "s", "x"), Int(1));
  EXPECT_EQ(R("SMEMBERS", "s").type, Reply::Type::kSet);
  EXPECT_EQ(R("SPOP", "s", "1").type, Reply::Type::kSet);
  ctx_.protocol = 2;
  EXPECT_EQ(R("HRANDFIELD", "h", "-3", "WITHVALUES").elements.size(), 6u);
  EXPECT_EQ(R("HRANDFIELD", "h", "1", "x"), Err("ERR syntax error"));
  EXPECT_EQ(R("HRANDFIELD", "nope"), Nil());
  EXPECT_EQ(R("HRANDFIELD", "h"), Str("a"));
}

TEST_P(HashSetTest, SetBasics) {
  EXPECT_EQ(R("SADD", "s", "a", "b", "a", "c"), Int(3));
  EXPECT_EQ(R("SADD", "s", "a"), Int(0));
  EXPECT_EQ(R("SCARD", "s"), Int(3));
  EXPECT_EQ(R("SISMEMBER", "s", "b"), Int(1));
  EXPECT_EQ(R("SMISMEMBER", "s", "b", "z"), Arr({Int(1), Int(0)}));
  EXPECT_EQ(R("SREM", "s", "b", "z", "b"), Int(1));
  EXPECT_EQ(Sorted(R("SMEMBERS", "s")), (V{"a", "c"}));
  EXPECT_EQ(R("SMOVE", "s", "t", "a"), Int(1));
  EXPECT_EQ(R("SMOVE", "s", "t", "a"), Int(0));
  EXPECT_EQ(R("SMOVE", "t", "t", "a"), Int(1));
  EXPECT_EQ(R("SMOVE", "s", "t", "c"), Int(1));
  EXPECT_EQ(R("EXISTS", "s"), Int(0));
  EXPECT_EQ(Sorted(R("SMEMBERS", "t")), (V{"a", "c"}));
  EXPECT_EQ(R("SPOP", "t", "-1"),
            Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(R("SRANDMEMBER", "t", "-5").elements.size(), 5u);
  EXPECT_EQ(R("SRANDMEMBER", "t", "5").elements.size(), 2u);
  EXPECT_EQ(R("SPOP", "t", "5").elements.size(), 2u);
  EXPECT_EQ(R("EXISTS", "t"), Int(0));
  EXPECT_EQ(R("SPOP", "t"), Nil());
}

TEST_P(HashSetTest, SetAlgebraAndStore) {
  EXPECT_EQ(R("SADD", "a", "1", "2", "3", "4"), Int(4));
  EXPECT_EQ(R("SADD", "b", "3", "4", "5"), Int(3));
  EXPECT_EQ(Sorted(R("SINTER", "a", "b")), (V{"3", "4"}));
  EXPECT_EQ(Sorted(R("SUNION", "a", "b", "nope")),
            (V{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(Sorted(R("SDIFF", "a", "b")), (V{"1", "2"}));
  EXPECT_EQ(R("SINTER", "a", "nope"), Arr({}));
  EXPECT_EQ(R("SINTERCARD", "2", "a", "b", "LIMIT", "1"), Int(1));
  EXPECT_EQ(R("SINTERCARD", "0", "a"),
            Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(R("SINTERCARD", "3", "a", "b"),
            Err("ERR Number of keys can't be greater than number of args"));
  EXPECT_EQ(R("SINTERSTORE", "d", "a", "b"), Int(2));
  EXPECT_EQ(R("EXPIRE", "d", "100"), Int(1));
  EXPECT_EQ(R("SUNIONSTORE", "d", "a", "b"), Int(5));
  EXPECT_EQ(R("TTL", "d"), Int(-1));  // overwritten, TTL gone
  EXPECT_EQ(R("SET", "str", "x"), Ok());
  EXPECT_EQ(R("SINTER", "nope", "str"), Err(kWrongType));
  EXPECT_EQ(R("SDIFFSTORE", "str", "a", "a"), Int(0));
  EXPECT_EQ(R("EXISTS", "str"), Int(0));  // an empty result deletes dest
}

TEST_P(HashSetTest, ScanPagesCoverBigKeys) {
  std::vector<std::string> args = {"SADD", "s"};
  for (int i = 0; i < 1000; ++i) args.push_back(absl::StrCat("m", i));
  EXPECT_EQ(engine_->Execute(ctx_, args), Int(1000));
  std::set<std::string> seen;
  std::string cursor = "0";
  int pages = 0;
  do {
    Reply r = R("SSCAN", "s", cursor, "COUNT", "100");
    cursor = r.elements[0].str;
    for (const Reply& m : r.elements[1].elements) seen.insert(m.str);
    ++pages;
  } while (cursor != "0" && pages < 100);
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_GE(pages, 10);
  Reply filtered = R("SSCAN", "s", "0", "MATCH", "m99*", "COUNT", "2000");
  EXPECT_EQ(filtered.elements[1].elements.size(), 11u);
  EXPECT_EQ(R("SSCAN", "s", "0", "COUNT", "0"), Err("ERR syntax error"));
  EXPECT_EQ(R("SSCAN", "nope", "0", "COUNT", "0"), Arr({Str("0"), Arr({})}));
  EXPECT_EQ(R("HSCAN", "h", "x"), Err("ERR invalid cursor"));
}

TEST_P(HashSetTest, RandomPicksOnBigKeysAreDistinctMembers) {
  std::vector<std::string> sadd = {"SADD", "s"};
  std::vector<std::string> hset = {"HSET", "h"};
  for (int i = 0; i < 5000; ++i) {
    sadd.push_back(absl::StrCat("m", i));
    hset.push_back(absl::StrCat("f", i));
    hset.push_back(absl::StrCat("v", i));
  }
  EXPECT_EQ(engine_->Execute(ctx_, sadd), Int(5000));
  EXPECT_EQ(engine_->Execute(ctx_, hset), Int(5000));
  std::vector<std::string> picked = Sorted(R("SRANDMEMBER", "s", "50"));
  EXPECT_EQ(picked.size(), 50u);
  EXPECT_EQ(std::unique(picked.begin(), picked.end()), picked.end());
  std::vector<std::string> popped = Strs(R("SPOP", "s", "100"));
  EXPECT_EQ(popped.size(), 100u);
  EXPECT_EQ(R("SCARD", "s"), Int(4900));
  for (const std::string& m : popped) {
    EXPECT_EQ(R("SISMEMBER", "s", m), Int(0)) << m;
  }
  Reply pairs = R("HRANDFIELD", "h", "-30", "WITHVALUES");
  ASSERT_EQ(pairs.elements.size(), 60u);
  for (size_t i = 0; i < 60; i += 2) {
    EXPECT_EQ(R("HGET", "h", pairs.elements[i].str), pairs.elements[i + 1]);
  }
  EXPECT_EQ(R("HRANDFIELD", "h", "4000").elements.size(), 4000u);
}

TEST_P(HashSetTest, DeleteAndOverwriteAreVersionBumps) {
  std::vector<std::string> args = {"HSET", "h"};
  for (int i = 0; i < 2000; ++i) {
    args.push_back(absl::StrCat("f", i));
    args.push_back("v");
  }
  EXPECT_EQ(engine_->Execute(ctx_, args), Int(2000));
  EXPECT_EQ(R("DEL", "h"), Int(1));
  // A new hash of the same name does not see the old members.
  EXPECT_EQ(R("HSET", "h", "x", "1"), Int(1));
  EXPECT_EQ(R("HLEN", "h"), Int(1));
  EXPECT_EQ(R("HGET", "h", "f1"), Nil());
  EXPECT_EQ(R("HGETALL", "h").elements.size(), 2u);
  EXPECT_EQ(R("SET", "h", "str"), Ok());
  EXPECT_EQ(R("SADD", "h", "a"), Err(kWrongType));
  ASSERT_TRUE(qdb::CoreOf(*engine_).keyspace().MaybeCollectGarbage(true).ok());
  EXPECT_EQ(CountMembers("h"), 0);
}

TEST_P(HashSetTest, ExpiryRenameCopyMove) {
  EXPECT_EQ(R("SADD", "s", "a", "b"), Int(2));
  EXPECT_EQ(R("PEXPIRE", "s", "30"), Int(1));
  EXPECT_EQ(R("SADD", "s", "c"), Int(1));
  EXPECT_GT(R("PTTL", "s").integer, 0);  // SADD keeps the TTL
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(R("SCARD", "s"), Int(0));
  EXPECT_EQ(R("SADD", "s", "z"), Int(1));
  EXPECT_EQ(R("SMEMBERS", "s"), Arr({Str("z")}));
  EXPECT_EQ(R("HSET", "h", "f", "v"), Int(1));
  EXPECT_EQ(R("RENAME", "h", "h2"), Ok());
  EXPECT_EQ(R("HGET", "h2", "f"), Str("v"));
  EXPECT_EQ(R("COPY", "h2", "h3"), Int(1));
  EXPECT_EQ(R("HSET", "h3", "g", "w"), Int(1));
  EXPECT_EQ(R("HLEN", "h2"), Int(1));
  EXPECT_EQ(R("MOVE", "h3", "1"), Int(1));
  EXPECT_EQ(R("SELECT", "1"), Ok());
  ctx_.db = 1;
  EXPECT_EQ(R("HLEN", "h3"), Int(2));
  EXPECT_EQ(R("TYPE", "h3"), Reply::Status("hash"));
  Reply scan = R("SCAN", "0", "TYPE", "hash");
  EXPECT_EQ(Strs(scan.elements[1]), (V{"h3"}));
}

TEST_P(HashSetTest, DumpRestoreRoundTripsAndErrors) {
  EXPECT_EQ(R("HSET", "h", "a", "1", "b", "2"), Int(2));
  EXPECT_EQ(R("SADD", "s", "1", "2", "x"), Int(3));
  EXPECT_EQ(R("SET", "k", "12345"), Ok());
  EXPECT_EQ(R("DUMP", "nope"), Nil());
  for (const char* key : {"h", "s", "k"}) {
    Reply payload = R("DUMP", key);
    ASSERT_EQ(payload.type, Reply::Type::kString);
    const std::string copy = absl::StrCat(key, "-copy");
    EXPECT_EQ(R("RESTORE", copy, "0", payload.str), Ok());
    EXPECT_EQ(R("RESTORE", copy, "0", payload.str),
              Err("BUSYKEY Target key name already exists."));
    EXPECT_EQ(R("RESTORE", copy, "-1", payload.str, "REPLACE"),
              Err("ERR Invalid TTL value, must be >= 0"));
    EXPECT_EQ(R("RESTORE", copy, "5000", payload.str, "REPLACE"), Ok());
    EXPECT_EQ(R("TTL", copy), Int(5));
    EXPECT_EQ(R("DUMP", copy), payload);
  }
  EXPECT_EQ(Sorted(R("SMEMBERS", "s-copy")), (V{"1", "2", "x"}));
  EXPECT_EQ(R("HGET", "h-copy", "b"), Str("2"));
  std::string bad = R("DUMP", "h").str;
  bad.back() ^= 1;
  EXPECT_EQ(R("RESTORE", "z", "0", bad),
            Err("ERR DUMP payload version or checksum are wrong"));
  EXPECT_EQ(R("RESTORE", "z", "0", "x", "FREQ", "300"),
            Err("ERR Invalid FREQ value, must be >= 0 and <= 255"));
  EXPECT_EQ(R("RESTORE", "z", "0", "x", "IDLETIME", "1", "FREQ", "1"),
            Err("ERR syntax error"));
  // A TTL already in the past: OK, and the old key is gone.
  EXPECT_EQ(R("RESTORE", "h", "1", R("DUMP", "s").str, "REPLACE", "ABSTTL"),
            Ok());
  EXPECT_EQ(R("EXISTS", "h"), Int(0));
}

TEST_P(HashSetTest, ObjectEncodingFollowsContents) {
  EXPECT_EQ(R("SET", "i", "123"), Ok());
  EXPECT_EQ(R("SET", "e", "hello"), Ok());
  EXPECT_EQ(R("SET", "r", std::string(50, 'x')), Ok());
  EXPECT_EQ(R("SADD", "si", "1", "2"), Int(2));
  EXPECT_EQ(R("SADD", "ss", "a"), Int(1));
  EXPECT_EQ(R("HSET", "hl", "a", "1"), Int(1));
  EXPECT_EQ(R("HSET", "hh", "a", std::string(65, 'x')), Int(1));
  EXPECT_EQ(R("OBJECT", "ENCODING", "i"), Str("int"));
  EXPECT_EQ(R("OBJECT", "ENCODING", "e"), Str("embstr"));
  EXPECT_EQ(R("OBJECT", "ENCODING", "r"), Str("raw"));
  EXPECT_EQ(R("OBJECT", "ENCODING", "si"), Str("intset"));
  EXPECT_EQ(R("OBJECT", "ENCODING", "ss"), Str("hashtable"));
  EXPECT_EQ(R("OBJECT", "ENCODING", "hl"), Str("listpack"));
  EXPECT_EQ(R("OBJECT", "ENCODING", "hh"), Str("hashtable"));
  EXPECT_EQ(R("OBJECT", "ENCODING", "nope"), Nil());
  EXPECT_EQ(R("OBJECT", "REFCOUNT", "ss"), Int(1));
  EXPECT_EQ(R("OBJECT", "IDLETIME", "ss"), Int(0));
  EXPECT_EQ(R("OBJECT", "FOO", "ss"),
            Err("ERR unknown subcommand 'FOO'. Try OBJECT HELP."));
  EXPECT_EQ(R("OBJECT", "ENCODING"),
            Err("ERR wrong number of arguments for 'object|encoding' "
                "command"));
}

// Redis never turns a hashtable set back into an intset: after the
// non-integer (or the members past set-max-intset-entries) that converted
// it are removed, OBJECT ENCODING still says hashtable, across a restart
// too. A set made again, or stored by SINTERSTORE, starts by its contents.
TEST_P(HashSetTest, SetEncodingStaysHashtableOnceConverted) {
  EncodingLimits limits;
  limits.set_max_intset_entries = 3;
  engine_->SetEncodingLimits(limits);
  EXPECT_EQ(R("SADD", "s", "1", "2"), Int(2));
  EXPECT_EQ(R("OBJECT", "ENCODING", "s"), Str("intset"));
  EXPECT_EQ(R("SADD", "s", "a"), Int(1));
  EXPECT_EQ(R("SREM", "s", "a"), Int(1));
  EXPECT_EQ(R("OBJECT", "ENCODING", "s"), Str("hashtable"));
  EXPECT_EQ(R("SADD", "t", "1", "2", "3", "4"), Int(4));
  EXPECT_EQ(R("SREM", "t", "4", "3"), Int(2));
  EXPECT_EQ(R("OBJECT", "ENCODING", "t"), Str("hashtable"));
  EXPECT_EQ(R("SADD", "u", "1"), Int(1));
  EXPECT_EQ(R("SADD", "v", "x"), Int(1));
  EXPECT_EQ(R("SMOVE", "v", "u", "x"), Int(1));
  EXPECT_EQ(R("SREM", "u", "x"), Int(1));
  EXPECT_EQ(R("OBJECT", "ENCODING", "u"), Str("hashtable"));
  EXPECT_EQ(R("SINTERSTORE", "w", "t", "t"), Int(2));
  EXPECT_EQ(R("OBJECT", "ENCODING", "w"), Str("intset"));
  if (persistent()) {
    Open();
    engine_->SetEncodingLimits(limits);
    EXPECT_EQ(R("OBJECT", "ENCODING", "s"), Str("hashtable"));
    EXPECT_EQ(R("OBJECT", "ENCODING", "w"), Str("intset"));
  }
  EXPECT_EQ(R("DEL", "s"), Int(1));
  EXPECT_EQ(R("SADD", "s", "5"), Int(1));
  EXPECT_EQ(R("OBJECT", "ENCODING", "s"), Str("intset"));
}

TEST_P(HashSetTest, PersistsAcrossReopen) {
  if (!persistent()) GTEST_SKIP();
  EXPECT_EQ(R("HSET", "h", "a", "1"), Int(1));
  EXPECT_EQ(R("SADD", "s", "m"), Int(1));
  Open();
  EXPECT_EQ(R("HGET", "h", "a"), Str("1"));
  EXPECT_EQ(R("SISMEMBER", "s", "m"), Int(1));
  EXPECT_EQ(R("DBSIZE"), Int(2));
}

REBORN_ALL_ENGINES(HashSetTest);

}  // namespace
}  // namespace reborn
