// The typed API of hashes, sets, lists and sorted sets (QdbEngine::HSet,
// SAdd, LPush, ZAdd, ...), on every backend: results, Redis' error texts,
// and that it shares its data with the RESP path (Execute) both ways.
#include <algorithm>
#include <cmath>
#include <thread>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "engine_fixture.h"

namespace reborn {
namespace {

using TypedApiTest = EngineTest;
using V = std::vector<std::string>;
using FV = std::vector<QdbEngine::FieldValue>;
using ZV = std::vector<QdbEngine::ScoredMember>;

template <typename T>
T Sorted(T v) {
  std::sort(v.begin(), v.end());
  return v;
}

// `s` is the Redis error `text`, with a Redis-level code.
template <typename S>
void ExpectRedisError(const S& s, std::string_view text,
                      absl::StatusCode code) {
  absl::Status status;
  if constexpr (std::is_same_v<S, absl::Status>) {
    status = s;
  } else {
    status = s.status();
  }
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(std::string(status.message()), text);
}

template <typename S>
void ExpectWrongType(const S& s) {
  ExpectRedisError(s, kWrongType, absl::StatusCode::kFailedPrecondition);
}

TEST_P(TypedApiTest, HashCallsAndAbsentKey) {
  QdbEngine& e = *engine_;
  EXPECT_EQ(e.HSet("h", {{"a", "1"}, {"b", "2"}, {"a", "3"}}).value(), 2);
  EXPECT_EQ(e.HSet("h", {{"b", "9"}, {"c", "4"}}).value(), 1);
  EXPECT_EQ(e.HGet("h", "a").value(), "3");
  EXPECT_EQ(e.HGet("h", "b").value(), "9");
  EXPECT_EQ(e.HGet("h", "zz").value(), std::nullopt);
  EXPECT_EQ(e.HLen("h").value(), 3);
  EXPECT_EQ(Sorted(e.HGetAll("h").value()),
            (FV{{"a", "3"}, {"b", "9"}, {"c", "4"}}));
  EXPECT_EQ(e.HDel("h", {"a", "a", "zz"}).value(), 1);
  EXPECT_EQ(e.HDel("h", {"b", "c"}).value(), 2);
  // The key goes with its last field.
  EXPECT_EQ(e.Exists({"h"}).value(), 0);
  EXPECT_EQ(e.HGet("h", "a").value(), std::nullopt);
  EXPECT_EQ(e.HLen("h").value(), 0);
  EXPECT_TRUE(e.HGetAll("h").value().empty());
  EXPECT_EQ(e.HDel("h", {"a"}).value(), 0);
}

TEST_P(TypedApiTest, SetCallsAndAbsentKey) {
  QdbEngine& e = *engine_;
  EXPECT_EQ(e.SAdd("s", {"a", "b", "a"}).value(), 2);
  EXPECT_EQ(e.SAdd("s", {"b", "c"}).value(), 1);
  EXPECT_TRUE(e.SIsMember("s", "c").value());
  EXPECT_FALSE(e.SIsMember("s", "zz").value());
  EXPECT_EQ(e.SCard("s").value(), 3);
  EXPECT_EQ(Sorted(e.SMembers("s").value()), (V{"a", "b", "c"}));
  EXPECT_EQ(e.SRem("s", {"a", "zz"}).value(), 1);
  EXPECT_EQ(e.SRem("s", {"b", "c"}).value(), 2);
  EXPECT_EQ(e.Exists({"s"}).value(), 0);
  EXPECT_FALSE(e.SIsMember("absent", "a").value());
  EXPECT_EQ(e.SCard("absent").value(), 0);
  EXPECT_TRUE(e.SMembers("absent").value().empty());
  EXPECT_EQ(e.SRem("absent", {"a"}).value(), 0);
}

TEST_P(TypedApiTest, ListCallsAndAbsentKey) {
  QdbEngine& e = *engine_;
  EXPECT_EQ(e.RPush("l", {"b", "c"}).value(), 2);
  EXPECT_EQ(e.LPush("l", {"a", "z"}).value(), 4);  // z a b c, as LPUSH does
  EXPECT_EQ(e.LRange("l", 0, -1).value(), (V{"z", "a", "b", "c"}));
  EXPECT_EQ(e.LRange("l", 1, 2).value(), (V{"a", "b"}));
  EXPECT_EQ(e.LRange("l", -2, 100).value(), (V{"b", "c"}));
  EXPECT_TRUE(e.LRange("l", 3, 1).value().empty());
  EXPECT_EQ(e.LLen("l").value(), 4);
  EXPECT_EQ(e.LPop("l").value(), "z");
  EXPECT_EQ(e.RPop("l").value(), "c");
  EXPECT_EQ(e.LPop("l").value(), "a");
  EXPECT_EQ(e.RPop("l").value(), "b");
  // The key goes with its last element; popping an absent list is nullopt.
  EXPECT_EQ(e.Exists({"l"}).value(), 0);
  EXPECT_EQ(e.LPop("l").value(), std::nullopt);
  EXPECT_EQ(e.RPop("l").value(), std::nullopt);
  EXPECT_EQ(e.LLen("l").value(), 0);
  EXPECT_TRUE(e.LRange("l", 0, -1).value().empty());
}

TEST_P(TypedApiTest, ZSetCallsAndAbsentKey) {
  QdbEngine& e = *engine_;
  EXPECT_EQ(e.ZAdd("z", {{2, "b"}, {1, "a"}, {2, "c"}}).value(), 3);
  // An existing member gets its new score and does not count as added.
  EXPECT_EQ(e.ZAdd("z", {{-1.5, "c"}, {10, "d"}}).value(), 1);
  EXPECT_EQ(e.ZScore("z", "c").value(), -1.5);
  EXPECT_EQ(e.ZScore("z", "zz").value(), std::nullopt);
  EXPECT_EQ(e.ZCard("z").value(), 4);
  EXPECT_EQ(e.ZRange("z", 0, -1).value(),
            (ZV{{-1.5, "c"}, {1, "a"}, {2, "b"}, {10, "d"}}));
  EXPECT_EQ(e.ZRange("z", -2, -1).value(), (ZV{{2, "b"}, {10, "d"}}));
  EXPECT_TRUE(e.ZRange("z", 5, 10).value().empty());
  // Equal scores order by member.
  EXPECT_EQ(e.ZAdd("z", {{2, "a"}}).value(), 0);
  EXPECT_EQ(e.ZRange("z", 1, 2).value(), (ZV{{2, "a"}, {2, "b"}}));
  EXPECT_EQ(e.ZAdd("z", {{INFINITY, "inf"}}).value(), 1);
  EXPECT_EQ(e.ZRange("z", -1, -1).value(), (ZV{{INFINITY, "inf"}}));
  EXPECT_EQ(e.ZRem("z", {"a", "zz", "a"}).value(), 1);
  EXPECT_EQ(e.ZRem("z", {"b", "c", "d", "inf"}).value(), 4);
  EXPECT_EQ(e.Exists({"z"}).value(), 0);
  EXPECT_EQ(e.ZCard("z").value(), 0);
  EXPECT_TRUE(e.ZRange("z", 0, -1).value().empty());
  EXPECT_EQ(e.ZScore("z", "a").value(), std::nullopt);
}

TEST_P(TypedApiTest, NanScoreIsRefusedAndWritesNothing) {
  ExpectRedisError(engine_->ZAdd("z", {{1, "a"}, {NAN, "b"}}),
                   "ERR value is not a valid float",
                   absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->Exists({"z"}).value(), 0);
}

TEST_P(TypedApiTest, EmptyArgumentListsAreRespArityErrors) {
  QdbEngine& e = *engine_;
  const auto arity = [](const std::string& cmd) {
    return "ERR wrong number of arguments for '" + cmd + "' command";
  };
  const auto code = absl::StatusCode::kInvalidArgument;
  ExpectRedisError(e.HSet("k", {}), arity("hset"), code);
  ExpectRedisError(e.HDel("k", {}), arity("hdel"), code);
  ExpectRedisError(e.SAdd("k", {}), arity("sadd"), code);
  ExpectRedisError(e.SRem("k", {}), arity("srem"), code);
  ExpectRedisError(e.LPush("k", {}), arity("lpush"), code);
  ExpectRedisError(e.RPush("k", {}), arity("rpush"), code);
  ExpectRedisError(e.ZAdd("k", {}), arity("zadd"), code);
  ExpectRedisError(e.ZRem("k", {}), arity("zrem"), code);
  // The same text as the RESP path, and no key was created.
  EXPECT_EQ(R("HSET", "k"), Err(arity("hset")));
  EXPECT_EQ(R("LPUSH", "k"), Err(arity("lpush")));
  EXPECT_EQ(R("EXISTS", "k"), Int(0));
}

TEST_P(TypedApiTest, WrongTypeOnEveryCall) {
  QdbEngine& e = *engine_;
  ASSERT_TRUE(e.Set("str", "v").ok());
  ExpectWrongType(e.HSet("str", {{"f", "v"}}));
  ExpectWrongType(e.HGet("str", "f"));
  ExpectWrongType(e.HDel("str", {"f"}));
  ExpectWrongType(e.HGetAll("str"));
  ExpectWrongType(e.HLen("str"));
  ExpectWrongType(e.SAdd("str", {"m"}));
  ExpectWrongType(e.SRem("str", {"m"}));
  ExpectWrongType(e.SIsMember("str", "m"));
  ExpectWrongType(e.SMembers("str"));
  ExpectWrongType(e.SCard("str"));
  ExpectWrongType(e.LPush("str", {"v"}));
  ExpectWrongType(e.RPush("str", {"v"}));
  ExpectWrongType(e.LPop("str"));
  ExpectWrongType(e.RPop("str"));
  ExpectWrongType(e.LRange("str", 0, -1));
  ExpectWrongType(e.LLen("str"));
  ExpectWrongType(e.ZAdd("str", {{1, "m"}}));
  ExpectWrongType(e.ZScore("str", "m"));
  ExpectWrongType(e.ZRem("str", {"m"}));
  ExpectWrongType(e.ZRange("str", 0, -1));
  ExpectWrongType(e.ZCard("str"));
  // Between the new types too, and the string is untouched.
  ASSERT_EQ(e.SAdd("set", {"m"}).value(), 1);
  ExpectWrongType(e.ZAdd("set", {{1, "m"}}));
  ExpectWrongType(e.Get("set"));
  EXPECT_EQ(e.Get("str").value(), "v");
  EXPECT_EQ(R("TYPE", "set"), Reply::Status("set"));
}

TEST_P(TypedApiTest, TypedWritesAreSeenByExecute) {
  QdbEngine& e = *engine_;
  ASSERT_EQ(e.HSet("h", {{"f", "v"}, {"g", "w"}}).value(), 2);
  ASSERT_EQ(e.SAdd("s", {"a", "b"}).value(), 2);
  ASSERT_EQ(e.RPush("l", {"x", "y"}).value(), 2);
  ASSERT_EQ(e.ZAdd("z", {{1.5, "a"}, {0, "b"}}).value(), 2);
  EXPECT_EQ(R("TYPE", "h"), Reply::Status("hash"));
  EXPECT_EQ(R("HGET", "h", "g"), Str("w"));
  EXPECT_EQ(R("HLEN", "h"), Int(2));
  EXPECT_EQ(R("TYPE", "s"), Reply::Status("set"));
  EXPECT_EQ(R("SISMEMBER", "s", "b"), Int(1));
  EXPECT_EQ(Sorted(Strs(R("SMEMBERS", "s"))), (V{"a", "b"}));
  EXPECT_EQ(R("TYPE", "l"), Reply::Status("list"));
  EXPECT_EQ(Strs(R("LRANGE", "l", "0", "-1")), (V{"x", "y"}));
  EXPECT_EQ(R("TYPE", "z"), Reply::Status("zset"));
  EXPECT_EQ(R("ZSCORE", "z", "a"), Str("1.5"));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "0", "-1", "WITHSCORES")),
            (V{"b", "0", "a", "1.5"}));
  EXPECT_EQ(R("DBSIZE"), Int(4));
}

TEST_P(TypedApiTest, ExecuteWritesAreSeenByTypedCalls) {
  QdbEngine& e = *engine_;
  ASSERT_EQ(R("HSET", "h", "f", "v", "g", "w"), Int(2));
  ASSERT_EQ(R("SADD", "s", "a", "b"), Int(2));
  ASSERT_EQ(R("LPUSH", "l", "x", "y"), Int(2));
  ASSERT_EQ(R("ZADD", "z", "1.5", "a", "-inf", "b"), Int(2));
  EXPECT_EQ(e.HGet("h", "f").value(), "v");
  EXPECT_EQ(Sorted(e.HGetAll("h").value()), (FV{{"f", "v"}, {"g", "w"}}));
  EXPECT_EQ(e.SCard("s").value(), 2);
  EXPECT_TRUE(e.SIsMember("s", "a").value());
  EXPECT_EQ(e.LRange("l", 0, -1).value(), (V{"y", "x"}));
  EXPECT_EQ(e.RPop("l").value(), "x");
  EXPECT_EQ(R("LLEN", "l"), Int(1));
  EXPECT_EQ(e.ZRange("z", 0, -1).value(), (ZV{{-INFINITY, "b"}, {1.5, "a"}}));
  EXPECT_EQ(e.ZScore("z", "a").value(), 1.5);
  // A typed write on a RESP-made key continues it.
  EXPECT_EQ(e.ZAdd("z", {{3, "c"}}).value(), 1);
  EXPECT_EQ(R("ZCARD", "z"), Int(3));
}

TEST_P(TypedApiTest, DbArgumentSelectsTheLogicalDb) {
  QdbEngine& e = *engine_;
  ASSERT_EQ(e.HSet("h", {{"f", "3"}}, 3).value(), 1);
  ASSERT_EQ(e.ZAdd("z", {{1, "m"}}, 15).value(), 1);
  EXPECT_EQ(e.HGet("h", "f").value(), std::nullopt);
  EXPECT_EQ(e.HGet("h", "f", 3).value(), "3");
  EXPECT_EQ(e.ZCard("z").value(), 0);
  EXPECT_EQ(e.ZCard("z", 15).value(), 1);
  EXPECT_EQ(R("SELECT", "3"), Ok());
  EXPECT_EQ(R("HGET", "h", "f"), Str("3"));
  ExpectRedisError(e.SAdd("s", {"m"}, 16), "ERR DB index is out of range",
                   absl::StatusCode::kInvalidArgument);
  ExpectRedisError(e.LLen("l", -1), "ERR DB index is out of range",
                   absl::StatusCode::kInvalidArgument);
}

TEST_P(TypedApiTest, ConcurrentTypedAndRespPushesAllLand) {
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      QdbEngine::Context ctx;
      for (int i = 0; i < kPerThread; ++i) {
        const std::string v = absl::StrCat(t, ":", i);
        if (t % 2 == 0) {
          ASSERT_TRUE(engine_->LPush("l", {v}).ok());
          ASSERT_TRUE(engine_->ZAdd("z", {{static_cast<double>(i), v}}).ok());
        } else {
          ASSERT_EQ(engine_->Execute(ctx, {"RPUSH", "l", v}).type,
                    Reply::Type::kInteger);
          ASSERT_EQ(
              engine_->Execute(ctx, {"ZADD", "z", std::to_string(i), v}).type,
              Reply::Type::kInteger);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(engine_->LLen("l").value(), kThreads * kPerThread);
  EXPECT_EQ(engine_->LRange("l", 0, -1).value().size(),
            size_t{kThreads * kPerThread});
  EXPECT_EQ(engine_->ZCard("z").value(), kThreads * kPerThread);
  EXPECT_EQ(engine_->ZRange("z", 0, -1).value().size(),
            size_t{kThreads * kPerThread});
}

REBORN_ALL_ENGINES(TypedApiTest);

}  // namespace
}  // namespace reborn
