// Sorted-set commands through QdbEngine::Execute, on every backend: the
// member column and the score index must agree after every kind of write.
#include "absl/strings/str_cat.h"
#include "engine_fixture.h"

namespace reborn {
namespace {

using ZSetsTest = EngineTest;

using V = std::vector<std::string>;

TEST_P(ZSetsTest, AddFlagsAndScores) {
  EXPECT_EQ(R("ZADD", "z", "1", "a", "2", "b"), Int(2));
  EXPECT_EQ(R("ZADD", "z", "NX", "5", "a", "3", "c"), Int(1));
  EXPECT_EQ(R("ZSCORE", "z", "a"), Str("1"));
  EXPECT_EQ(R("ZADD", "z", "XX", "CH", "7", "a", "9", "new"), Int(1));
  EXPECT_EQ(R("ZSCORE", "z", "new"), Nil());
  EXPECT_EQ(R("ZADD", "z", "GT", "CH", "6", "a", "4", "b"), Int(1));
  EXPECT_EQ(R("ZSCORE", "z", "a"), Str("7"));
  EXPECT_EQ(R("ZSCORE", "z", "b"), Str("4"));
  EXPECT_EQ(R("ZADD", "z", "LT", "CH", "8", "a", "2.5", "b"), Int(1));
  EXPECT_EQ(R("ZSCORE", "z", "b"), Str("2.5"));
  EXPECT_EQ(R("ZADD", "z", "INCR", "1.5", "b"), Str("4"));
  EXPECT_EQ(R("ZADD", "z", "NX", "INCR", "1", "b"), Nil());
  EXPECT_EQ(R("ZADD", "z", "NX", "XX", "1", "b"),
            Err("ERR XX and NX options at the same time are not compatible"));
  EXPECT_EQ(R("ZADD", "z", "INCR", "1", "a", "1", "b"),
            Err("ERR INCR option supports a single increment-element pair"));
  EXPECT_EQ(R("ZADD", "z", "nan", "a"), Err("ERR value is not a valid float"));
  EXPECT_EQ(R("ZADD", "z", "inf", "top", "-inf", "bottom"), Int(2));
  EXPECT_EQ(R("ZSCORE", "z", "top"), Str("inf"));
  EXPECT_EQ(R("ZINCRBY", "z", "-inf", "top"),
            Err("ERR resulting score is not a number (NaN)"));
  EXPECT_EQ(R("ZMSCORE", "z", "bottom", "nope", "c"),
            Arr({Str("-inf"), Nil(), Str("3")}));
  EXPECT_EQ(R("ZCARD", "z"), Int(5));
  EXPECT_EQ(R("SET", "s", "v"), Ok());
  EXPECT_EQ(R("ZADD", "s", "1", "a"), Err(kWrongType));
}

TEST_P(ZSetsTest, RangesByRankScoreAndLex) {
  EXPECT_EQ(R("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
            Int(5));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "1", "-2")), (V{"b", "c", "d"}));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "0", "1", "REV", "WITHSCORES")),
            (V{"e", "5", "d", "4"}));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "(1", "4", "BYSCORE", "LIMIT", "1", "2")),
            (V{"c", "d"}));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "+inf", "(3", "BYSCORE", "REV")),
            (V{"e", "d"}));
  EXPECT_EQ(Strs(R("ZRANGEBYSCORE", "z", "-inf", "2")), (V{"a", "b"}));
  EXPECT_EQ(Strs(R("ZREVRANGEBYSCORE", "z", "5", "4")), (V{"e", "d"}));
  EXPECT_EQ(R("ZCOUNT", "z", "(1", "(5"), Int(3));
  EXPECT_EQ(R("ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "0"),
            Err("ERR syntax error"));
  EXPECT_EQ(R("ZRANK", "z", "c"), Int(2));
  EXPECT_EQ(R("ZREVRANK", "z", "c"), Int(2));
  EXPECT_EQ(R("ZRANK", "z", "nope"), Nil());

  EXPECT_EQ(R("ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"), Int(4));
  EXPECT_EQ(Strs(R("ZRANGEBYLEX", "lex", "[b", "(d")), (V{"b", "c"}));
  EXPECT_EQ(Strs(R("ZREVRANGEBYLEX", "lex", "+", "(b")), (V{"d", "c"}));
  EXPECT_EQ(R("ZLEXCOUNT", "lex", "-", "+"), Int(4));
  EXPECT_EQ(R("ZRANGEBYLEX", "lex", "b", "d"),
            Err("ERR min or max not valid string range item"));
}

TEST_P(ZSetsTest, IncrementsMoveTheScoreIndex) {
  EXPECT_EQ(R("ZADD", "z", "1", "a", "2", "b", "3", "c"), Int(3));
  EXPECT_EQ(R("ZINCRBY", "z", "10", "a"), Str("11"));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "0", "-1")), (V{"b", "c", "a"}));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "0", "10", "BYSCORE")), (V{"b", "c"}));
  EXPECT_EQ(R("ZADD", "z", "0", "c"), Int(0));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "0", "-1", "WITHSCORES")),
            (V{"c", "0", "b", "2", "a", "11"}));
  EXPECT_EQ(R("ZCOUNT", "z", "-inf", "+inf"), Int(3));
}

TEST_P(ZSetsTest, RemovalsAndPops) {
  EXPECT_EQ(R("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
              "6", "f"),
            Int(6));
  EXPECT_EQ(R("ZREM", "z", "a", "nope"), Int(1));
  EXPECT_EQ(R("ZREMRANGEBYSCORE", "z", "(2", "3"), Int(1));
  EXPECT_EQ(R("ZREMRANGEBYRANK", "z", "-1", "-1"), Int(1));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "0", "-1")), (V{"b", "d", "e"}));
  EXPECT_EQ(Strs(R("ZPOPMIN", "z")), (V{"b", "2"}));
  EXPECT_EQ(Strs(R("ZPOPMAX", "z", "5")), (V{"e", "5", "d", "4"}));
  EXPECT_EQ(R("EXISTS", "z"), Int(0));
  EXPECT_EQ(R("ZPOPMIN", "z"), Arr({}));
  EXPECT_EQ(R("ZADD", "lex", "0", "a", "0", "b", "0", "c"), Int(3));
  EXPECT_EQ(R("ZREMRANGEBYLEX", "lex", "[a", "(c"), Int(2));
  EXPECT_EQ(Strs(R("ZRANGE", "lex", "0", "-1")), (V{"c"}));
  EXPECT_EQ(Strs(R("ZMPOP", "2", "nope", "lex", "MIN")).size(), 2u);
  EXPECT_EQ(R("EXISTS", "lex"), Int(0));
}

TEST_P(ZSetsTest, SetOperationsAndStores) {
  EXPECT_EQ(R("ZADD", "x", "1", "a", "2", "b", "3", "c"), Int(3));
  EXPECT_EQ(R("ZADD", "y", "10", "b", "20", "c", "30", "d"), Int(3));
  EXPECT_EQ(R("ZUNIONSTORE", "u", "2", "x", "y", "WEIGHTS", "2", "1"), Int(4));
  EXPECT_EQ(Strs(R("ZRANGE", "u", "0", "-1", "WITHSCORES")),
            (V{"a", "2", "b", "14", "c", "26", "d", "30"}));
  EXPECT_EQ(R("ZINTERSTORE", "i", "2", "x", "y", "AGGREGATE", "MAX"), Int(2));
  EXPECT_EQ(Strs(R("ZRANGE", "i", "0", "-1", "WITHSCORES")),
            (V{"b", "10", "c", "20"}));
  EXPECT_EQ(Strs(R("ZDIFF", "2", "x", "y")), (V{"a"}));
  EXPECT_EQ(R("ZINTERCARD", "2", "x", "y", "LIMIT", "1"), Int(1));
  EXPECT_EQ(R("ZRANGESTORE", "r", "u", "1", "2"), Int(2));
  EXPECT_EQ(Strs(R("ZRANGE", "r", "0", "-1")), (V{"b", "c"}));
  // A store over its own source, and one with an empty result.
  EXPECT_EQ(R("ZINTERSTORE", "x", "2", "x", "y"), Int(2));
  EXPECT_EQ(Strs(R("ZRANGE", "x", "0", "-1", "WITHSCORES")),
            (V{"b", "12", "c", "23"}));
  EXPECT_EQ(R("ZDIFFSTORE", "r", "2", "x", "x"), Int(0));
  EXPECT_EQ(R("EXISTS", "r"), Int(0));
  EXPECT_EQ(R("ZUNIONSTORE", "u", "0", "x"),
            Err("ERR at least 1 input key is needed for 'zunionstore' "
                "command"));
}

TEST_P(ZSetsTest, DeleteAndRecreateSeesNoOldMembers) {
  std::vector<std::string> add = {"ZADD", "z"};
  for (int i = 0; i < 300; ++i) {
    add.push_back(std::to_string(i));
    add.push_back(absl::StrCat("m", i));
  }
  EXPECT_EQ(engine_->Execute(ctx_, add), Int(300));
  EXPECT_EQ(R("ZRANK", "z", "m299"), Int(299));
  EXPECT_EQ(R("DEL", "z"), Int(1));
  EXPECT_EQ(R("ZADD", "z", "5", "fresh"), Int(1));
  EXPECT_EQ(R("ZCARD", "z"), Int(1));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "-inf", "+inf", "BYSCORE")), (V{"fresh"}));
  EXPECT_EQ(R("ZSCORE", "z", "m7"), Nil());
  EXPECT_EQ(R("SET", "z", "string"), Ok());
  EXPECT_EQ(R("ZADD", "z", "1", "a"), Err(kWrongType));
  EXPECT_EQ(R("DEL", "z"), Int(1));
  EXPECT_EQ(R("ZADD", "z", "1", "a"), Int(1));
  EXPECT_EQ(Strs(R("ZRANGE", "z", "0", "-1")), (V{"a"}));
}

REBORN_ALL_ENGINES(ZSetsTest);

}  // namespace
}  // namespace reborn
