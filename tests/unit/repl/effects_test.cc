#include "repl/effects.h"

#include "gtest/gtest.h"

namespace reborn::repl {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::vector<Command> E(const Command& args, std::string_view reply) {
  return EffectOf(args, reply, kNow);
}

TEST(EffectsTest, RelativeExpiriesBecomeAbsolute) {
  EXPECT_EQ(E({"EXPIRE", "k", "10"}, ":1\r\n"),
            (std::vector<Command>{{"PEXPIREAT", "k", "1700000010000"}}));
  EXPECT_EQ(E({"pexpire", "k", "5"}, ":1\r\n"),
            (std::vector<Command>{{"PEXPIREAT", "k", "1700000000005"}}));
  EXPECT_EQ(E({"expireat", "k", "1800000000"}, ":1\r\n"),
            (std::vector<Command>{{"PEXPIREAT", "k", "1800000000000"}}));
  EXPECT_TRUE(E({"EXPIRE", "missing", "10"}, ":0\r\n").empty());
}

TEST(EffectsTest, GetdelIsADelAndMpopIsAPopWithItsCount) {
  EXPECT_EQ(E({"GETDEL", "k"}, "$1\r\nv\r\n"),
            (std::vector<Command>{{"DEL", "k"}}));
  EXPECT_TRUE(E({"GETDEL", "k"}, "$-1\r\n").empty());
  EXPECT_EQ(E({"LMPOP", "2", "a", "b", "RIGHT", "COUNT", "5"},
              "*2\r\n$1\r\nb\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n"),
            (std::vector<Command>{{"RPOP", "b", "2"}}));
  EXPECT_EQ(
      E({"lmpop", "1", "a", "left"}, "*2\r\n$1\r\na\r\n*1\r\n$1\r\nx\r\n"),
      (std::vector<Command>{{"LPOP", "a", "1"}}));
  // ZMPOP in RESP3: [key, [[member, score], ...]].
  EXPECT_EQ(E({"ZMPOP", "1", "z", "MAX", "COUNT", "3"},
              "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nm\r\n,1\r\n"),
            (std::vector<Command>{{"ZPOPMAX", "z", "1"}}));
  EXPECT_TRUE(E({"LMPOP", "1", "a", "LEFT"}, "*-1\r\n").empty());
  EXPECT_TRUE(E({"ZMPOP", "1", "z", "MIN"}, "_\r\n").empty());
}

TEST(EffectsTest, ExpiryInThePastIsADel) {
  EXPECT_EQ(E({"EXPIRE", "k", "-1"}, ":1\r\n"),
            (std::vector<Command>{{"DEL", "k"}}));
  EXPECT_EQ(E({"PEXPIREAT", "k", "1"}, ":1\r\n"),
            (std::vector<Command>{{"DEL", "k"}}));
}

TEST(EffectsTest, SetWithExpiryBecomesPxat) {
  EXPECT_EQ(E({"SET", "k", "v", "EX", "10"}, "+OK\r\n"),
            (std::vector<Command>{{"SET", "k", "v", "PXAT", "1700000010000"}}));
  EXPECT_EQ(E({"SETEX", "k", "10", "v"}, "+OK\r\n"),
            (std::vector<Command>{{"SET", "k", "v", "PXAT", "1700000010000"}}));
  EXPECT_EQ(E({"PSETEX", "k", "10", "v"}, "+OK\r\n"),
            (std::vector<Command>{{"SET", "k", "v", "PXAT", "1700000000010"}}));
  EXPECT_EQ(E({"SET", "k", "v", "KEEPTTL"}, "+OK\r\n"),
            (std::vector<Command>{{"SET", "k", "v", "KEEPTTL"}}));
}

TEST(EffectsTest, SetThatDidNotHappenIsNotPropagated) {
  EXPECT_TRUE(E({"SET", "k", "v", "NX"}, "$-1\r\n").empty());
  EXPECT_TRUE(E({"SET", "k", "v", "NX"}, "_\r\n").empty());
  // NX GET answers the old value when it did not set.
  EXPECT_TRUE(E({"SET", "k", "v", "NX", "GET"}, "$1\r\nx\r\n").empty());
  EXPECT_EQ(E({"SET", "k", "v", "XX", "GET"}, "$1\r\nx\r\n"),
            (std::vector<Command>{{"SET", "k", "v"}}));
}

TEST(EffectsTest, GetexChangesOnlyTheTtl) {
  EXPECT_EQ(E({"GETEX", "k", "PX", "100"}, "$1\r\nv\r\n"),
            (std::vector<Command>{{"PEXPIREAT", "k", "1700000000100"}}));
  EXPECT_EQ(E({"GETEX", "k", "PERSIST"}, "$1\r\nv\r\n"),
            (std::vector<Command>{{"PERSIST", "k"}}));
  EXPECT_TRUE(E({"GETEX", "k"}, "$1\r\nv\r\n").empty());
  EXPECT_TRUE(E({"GETEX", "k", "EX", "1"}, "$-1\r\n").empty());
}

TEST(EffectsTest, FloatIncrementsPropagateTheirResult) {
  EXPECT_EQ(E({"INCRBYFLOAT", "k", "0.1"}, "$3\r\n1.1\r\n"),
            (std::vector<Command>{{"SET", "k", "1.1", "KEEPTTL"}}));
  EXPECT_EQ(E({"HINCRBYFLOAT", "h", "f", "2"}, "$1\r\n3\r\n"),
            (std::vector<Command>{{"HSET", "h", "f", "3"}}));
}

TEST(EffectsTest, SpopBecomesSremOfWhatWasPopped) {
  EXPECT_EQ(E({"SPOP", "s"}, "$1\r\na\r\n"),
            (std::vector<Command>{{"SREM", "s", "a"}}));
  EXPECT_EQ(E({"SPOP", "s", "2"}, "*2\r\n$1\r\na\r\n$2\r\nbc\r\n"),
            (std::vector<Command>{{"SREM", "s", "a", "bc"}}));
  EXPECT_TRUE(E({"SPOP", "s"}, "$-1\r\n").empty());
  EXPECT_TRUE(E({"SPOP", "s", "3"}, "*0\r\n").empty());
}

TEST(EffectsTest, RestoreTtlBecomesAbsolute) {
  EXPECT_EQ(E({"RESTORE", "k", "100", "payload", "REPLACE"}, "+OK\r\n"),
            (std::vector<Command>{{"RESTORE", "k", "1700000000100", "payload",
                                   "REPLACE", "ABSTTL"}}));
  EXPECT_EQ(E({"RESTORE", "k", "0", "payload"}, "+OK\r\n"),
            (std::vector<Command>{{"RESTORE", "k", "0", "payload"}}));
  // An absolute TTL and the other options go as sent (Redis rewrites only
  // a relative TTL).
  EXPECT_EQ(
      E({"restore", "k", "1800000000000", "payload", "absttl"}, "+OK\r\n"),
      (std::vector<Command>{
          {"restore", "k", "1800000000000", "payload", "absttl"}}));
  EXPECT_EQ(E({"RESTORE", "k", "100", "payload", "IDLETIME", "5"}, "+OK\r\n"),
            (std::vector<Command>{{"RESTORE", "k", "1700000000100", "payload",
                                   "IDLETIME", "5", "ABSTTL"}}));
  EXPECT_EQ(E({"SLOTSRESTORE", "a", "0", "p1", "b", "5", "p2"}, "+OK\r\n"),
            (std::vector<Command>{
                {"RESTORE", "a", "0", "p1", "REPLACE"},
                {"RESTORE", "b", "1700000000005", "p2", "REPLACE", "ABSTTL"}}));
}

TEST(EffectsTest, BlockingFormsAndFailuresAreNotPropagated) {
  EXPECT_TRUE(E({"BLPOP", "l", "0"}, "*2\r\n$1\r\nl\r\n$1\r\nx\r\n").empty());
  EXPECT_TRUE(E({"SET", "k", "v"}, "-ERR oops\r\n").empty());
  EXPECT_TRUE(E({"LPOP", "l"}, "$-1\r\n").empty());
  EXPECT_TRUE(E({"DEL", "k"}, ":0\r\n").empty());
}

TEST(EffectsTest, OtherWritesAreVerbatim) {
  EXPECT_EQ(E({"LPUSH", "l", "a"}, ":1\r\n"),
            (std::vector<Command>{{"LPUSH", "l", "a"}}));
  EXPECT_EQ(E({"FLUSHALL"}, "+OK\r\n"), (std::vector<Command>{{"FLUSHALL"}}));
  EXPECT_EQ(E({"SWAPDB", "0", "1"}, "+OK\r\n"),
            (std::vector<Command>{{"SWAPDB", "0", "1"}}));
}

TEST(EffectsTest, AppendCommandEncodesRespMultibulk) {
  std::string out;
  AppendCommand({"SET", "k", ""}, &out);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

}  // namespace
}  // namespace reborn::repl
