// SORT and SORT_RO through QdbEngine::Execute, on every backend. Expected
// replies were taken from redis-server 7.0.
#include "qdb/commands/sort.h"

#include "engine_fixture.h"

namespace reborn {
namespace {

using SortTest = EngineTest;

constexpr std::string_view kScores =
    "ERR One or more scores can't be converted into double";

Reply Strs(std::initializer_list<const char*> items) {
  Reply r;
  r.type = Reply::Type::kArray;
  for (const char* s : items) r.elements.push_back(Reply::String(s));
  return r;
}

TEST_P(SortTest, NumericAlphaAndLimit) {
  EXPECT_EQ(R("RPUSH", "l", "3", "1", "2", "10"), Int(4));
  EXPECT_EQ(R("SORT", "l"), Strs({"1", "2", "3", "10"}));
  EXPECT_EQ(R("SORT", "l", "DESC"), Strs({"10", "3", "2", "1"}));
  EXPECT_EQ(R("SORT", "l", "ALPHA"), Strs({"1", "10", "2", "3"}));
  EXPECT_EQ(R("SORT", "l", "LIMIT", "1", "2"), Strs({"2", "3"}));
  EXPECT_EQ(R("SORT", "l", "LIMIT", "-5", "-3"), Strs({"1", "2", "3", "10"}));
  EXPECT_EQ(R("SORT", "l", "LIMIT", "9", "2"), Arr({}));
  EXPECT_EQ(R("SORT_RO", "l", "desc", "limit", "0", "1"), Strs({"10"}));
  EXPECT_EQ(R("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"),
            Strs({"2", "1"}));
  EXPECT_EQ(R("SORT", "nokey"), Arr({}));

  EXPECT_EQ(R("SADD", "s", "c", "a", "b"), Int(3));
  EXPECT_EQ(R("SORT", "s"), Err(kScores));
  EXPECT_EQ(R("SORT", "s", "ALPHA"), Strs({"a", "b", "c"}));
  EXPECT_EQ(R("SADD", "si", "5", "-1", "30"), Int(3));
  EXPECT_EQ(R("SORT", "si", "BY", "nosort"), Strs({"-1", "5", "30"}));

  EXPECT_EQ(R("ZADD", "z", "3", "a", "1", "b", "2", "c"), Int(3));
  EXPECT_EQ(R("SORT", "z"), Err(kScores));
  EXPECT_EQ(R("SORT", "z", "ALPHA"), Strs({"a", "b", "c"}));
  EXPECT_EQ(R("SORT", "z", "BY", "nosort"), Strs({"b", "c", "a"}));
  EXPECT_EQ(R("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "2"),
            Strs({"a", "c"}));
}

TEST_P(SortTest, ByAndGetPatterns) {
  R("RPUSH", "l", "3", "1", "2", "10");
  R("MSET", "w_3", "30", "w_1", "10", "w_2", "5", "w_10", "1");
  R("HSET", "h_3", "f", "c");
  R("HSET", "h_1", "f", "a");
  EXPECT_EQ(R("SORT", "l", "BY", "w_*"), Strs({"10", "2", "1", "3"}));
  Reply r =
      R("SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "h_*->f");
  EXPECT_EQ(
      r, Arr({Str("10"), Str("1"), Nil(), Str("2"), Str("5"), Nil(), Str("1"),
              Str("10"), Str("a"), Str("3"), Str("30"), Str("c")}));
  EXPECT_EQ(R("SORT", "l", "BY", "h_*->f", "ALPHA"),
            Strs({"2", "10", "1", "3"}));
  // "w_*->" has no field: the key "w_1->" is missing, all scores are 0.
  EXPECT_EQ(R("SORT", "l", "BY", "w_*->"), Strs({"1", "10", "2", "3"}));
  EXPECT_EQ(R("SET", "w_2", "x"), Ok());
  EXPECT_EQ(R("SORT", "l", "BY", "w_*"), Err(kScores));
  EXPECT_EQ(R("SORT", "l", "GET", "nostar"), Arr({Nil(), Nil(), Nil(), Nil()}));
}

TEST_P(SortTest, StoreAndErrors) {
  R("RPUSH", "l", "3", "1", "2");
  R("SADD", "s", "c", "a", "b");
  R("SET", "str", "x");
  EXPECT_EQ(R("SORT", "l", "STORE", "d"), Int(3));
  EXPECT_EQ(R("LRANGE", "d", "0", "-1"), Strs({"1", "2", "3"}));
  EXPECT_EQ(R("SORT", "s", "BY", "nosort", "STORE", "d"), Int(3));
  EXPECT_EQ(R("LRANGE", "d", "0", "-1"), Strs({"a", "b", "c"}));
  EXPECT_EQ(R("SORT", "l", "GET", "nope_*", "STORE", "str"), Int(3));
  EXPECT_EQ(R("LRANGE", "str", "0", "-1"), Strs({"", "", ""}));
  EXPECT_EQ(R("SORT", "nokey", "STORE", "d"), Int(0));
  EXPECT_EQ(R("EXISTS", "d"), Int(0));
  EXPECT_EQ(R("SORT", "l", "LIMIT", "x", "1"),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(R("SORT", "l", "LIMIT", "1"), Err("ERR syntax error"));
  EXPECT_EQ(R("SORT", "l", "STORE"), Err("ERR syntax error"));
  EXPECT_EQ(R("SORT_RO", "l", "STORE", "d"), Err("ERR syntax error"));
  EXPECT_EQ(R("SORT", "l", "GET"), Err("ERR syntax error"));
  R("SET", "k", "v");
  EXPECT_EQ(R("SORT", "k"), Err(kWrongType));
  EXPECT_EQ(R("SORT", "k", "foo"), Err("ERR syntax error"));
}

TEST(SortPatternTest, Resolve) {
  using K = qdb::PatternTarget::Kind;
  EXPECT_EQ(qdb::ResolveSortPattern("#", "e").kind, K::kSelf);
  EXPECT_EQ(qdb::ResolveSortPattern("abc", "e").kind, K::kNone);
  qdb::PatternTarget t = qdb::ResolveSortPattern("a*b->f", "e");
  EXPECT_EQ(t.kind, K::kKey);
  EXPECT_EQ(t.key, "aeb");
  EXPECT_EQ(t.field, "f");
  t = qdb::ResolveSortPattern("a*b->", "e");
  EXPECT_EQ(t.key, "aeb->");
  EXPECT_FALSE(t.field.has_value());
  t = qdb::ResolveSortPattern("a->x*", "e");
  EXPECT_EQ(t.key, "a->xe");
}

REBORN_ALL_ENGINES(SortTest);

}  // namespace
}  // namespace reborn
