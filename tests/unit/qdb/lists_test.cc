// List commands through QdbEngine::Execute, on every backend.
#include "engine_fixture.h"

namespace reborn {
namespace {

using ListsTest = EngineTest;

using V = std::vector<std::string>;

TEST_P(ListsTest, PushPopBothEnds) {
  EXPECT_EQ(R("RPUSH", "l", "b", "c"), Int(2));
  EXPECT_EQ(R("LPUSH", "l", "a", "z"), Int(4));
  EXPECT_EQ(Strs(R("LRANGE", "l", "0", "-1")), (V{"z", "a", "b", "c"}));
  EXPECT_EQ(R("LPOP", "l"), Str("z"));
  EXPECT_EQ(R("RPOP", "l"), Str("c"));
  EXPECT_EQ(R("LLEN", "l"), Int(2));
  EXPECT_EQ(Strs(R("RPOP", "l", "5")), (V{"b", "a"}));
  EXPECT_EQ(R("EXISTS", "l"), Int(0));
  EXPECT_EQ(R("LPOP", "l"), Nil());
  EXPECT_EQ(R("LPUSHX", "l", "x"), Int(0));
  EXPECT_EQ(R("LPOP", "l", "-1"),
            Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(R("SET", "s", "v"), Ok());
  EXPECT_EQ(R("LPUSH", "s", "v"),
            Err("WRONGTYPE Operation against a key holding the wrong kind of "
                "value"));
}

TEST_P(ListsTest, IndexSetTrim) {
  EXPECT_EQ(R("RPUSH", "l", "a", "b", "c", "d", "e"), Int(5));
  EXPECT_EQ(R("LINDEX", "l", "0"), Str("a"));
  EXPECT_EQ(R("LINDEX", "l", "-1"), Str("e"));
  EXPECT_EQ(R("LINDEX", "l", "5"), Nil());
  EXPECT_EQ(R("LSET", "l", "1", "B"), Ok());
  EXPECT_EQ(R("LSET", "l", "9", "B"), Err("ERR index out of range"));
  EXPECT_EQ(R("LSET", "nokey", "0", "B"), Err("ERR no such key"));
  EXPECT_EQ(R("LTRIM", "l", "1", "-2"), Ok());
  EXPECT_EQ(Strs(R("LRANGE", "l", "0", "-1")), (V{"B", "c", "d"}));
  EXPECT_EQ(R("LTRIM", "l", "5", "1"), Ok());
  EXPECT_EQ(R("EXISTS", "l"), Int(0));
}

TEST_P(ListsTest, InsertRemPos) {
  EXPECT_EQ(R("RPUSH", "l", "a", "x", "b", "x", "c"), Int(5));
  EXPECT_EQ(R("LINSERT", "l", "BEFORE", "a", "0"), Int(6));
  EXPECT_EQ(R("LINSERT", "l", "AFTER", "c", "9"), Int(7));
  EXPECT_EQ(R("LINSERT", "l", "AFTER", "nope", "9"), Int(-1));
  EXPECT_EQ(R("LINSERT", "nokey", "AFTER", "a", "9"), Int(0));
  EXPECT_EQ(Strs(R("LRANGE", "l", "0", "-1")),
            (V{"0", "a", "x", "b", "x", "c", "9"}));
  EXPECT_EQ(R("LPOS", "l", "x"), Int(2));
  EXPECT_EQ(R("LPOS", "l", "x", "RANK", "-1"), Int(4));
  EXPECT_EQ(R("LPOS", "l", "x", "COUNT", "0"), Arr({Int(2), Int(4)}));
  EXPECT_EQ(R("LREM", "l", "-1", "x"), Int(1));
  EXPECT_EQ(Strs(R("LRANGE", "l", "0", "-1")),
            (V{"0", "a", "x", "b", "c", "9"}));
  EXPECT_EQ(R("LREM", "l", "0", "a"), Int(1));
  EXPECT_EQ(R("LINDEX", "l", "4"), Str("9"));
  EXPECT_EQ(R("LLEN", "l"), Int(5));
}

TEST_P(ListsTest, MoveAndMPop) {
  EXPECT_EQ(R("RPUSH", "a", "1", "2", "3"), Int(3));
  EXPECT_EQ(R("LMOVE", "a", "b", "LEFT", "RIGHT"), Str("1"));
  EXPECT_EQ(R("RPOPLPUSH", "a", "a"), Str("3"));
  EXPECT_EQ(Strs(R("LRANGE", "a", "0", "-1")), (V{"3", "2"}));
  EXPECT_EQ(R("LMPOP", "2", "nokey", "a", "RIGHT", "COUNT", "5"),
            Arr({Str("a"), Arr({Str("2"), Str("3")})}));
  EXPECT_EQ(R("LMPOP", "1", "a", "LEFT"), Nil());
  EXPECT_EQ(R("RPOPLPUSH", "b", "c"), Str("1"));
  EXPECT_EQ(R("DBSIZE"), Int(1));
}

TEST_P(ListsTest, DeleteAndRecreateSeesNoOldElements) {
  EXPECT_EQ(R("RPUSH", "l", "a", "b"), Int(2));
  EXPECT_EQ(R("DEL", "l"), Int(1));
  EXPECT_EQ(R("RPUSH", "l", "c"), Int(1));
  EXPECT_EQ(Strs(R("LRANGE", "l", "0", "-1")), (V{"c"}));
  EXPECT_EQ(R("COPY", "l", "m"), Int(1));
  EXPECT_EQ(R("TYPE", "m"), Reply::Status("list"));
  EXPECT_EQ(Strs(R("LRANGE", "m", "0", "-1")), (V{"c"}));
}

REBORN_ALL_ENGINES(ListsTest);

}  // namespace
}  // namespace reborn
