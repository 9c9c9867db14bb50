#include "server/write_effect.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

namespace reborn::server {
namespace {

int64_t Changes(std::vector<std::string> args, std::string_view reply) {
  std::string name = args[0];
  for (char& ch : name) ch = static_cast<char>(std::tolower(ch));
  return WriteChanges(name, args, reply);
}

// Redis' server.dirty increments (the expectations are what redis-server
// 7.0 counts; tests/integration/server/test_dirty_counter.py checks them
// against one).
TEST(WriteChangesTest, CountsKeysAndElementsAsRedis) {
  EXPECT_EQ(Changes({"set", "k", "v"}, "+OK\r\n"), 1);
  EXPECT_EQ(Changes({"set", "k", "v", "NX"}, "$-1\r\n"), 0);
  EXPECT_EQ(Changes({"set", "k", "v", "nx", "get"}, "$1\r\nx\r\n"), 0);
  EXPECT_EQ(Changes({"set", "k", "v", "NX", "GET"}, "$-1\r\n"), 1);
  EXPECT_EQ(Changes({"set", "k", "v", "XX", "GET"}, "$-1\r\n"), 0);
  EXPECT_EQ(Changes({"set", "k", "v", "GET"}, "_\r\n"), 1);
  EXPECT_EQ(Changes({"mset", "a", "1", "b", "2", "c", "3"}, "+OK\r\n"), 3);
  EXPECT_EQ(Changes({"msetnx", "a", "1", "b", "2"}, ":1\r\n"), 2);
  EXPECT_EQ(Changes({"msetnx", "a", "1", "b", "2"}, ":0\r\n"), 0);
  EXPECT_EQ(Changes({"hset", "h", "a", "1", "b", "2"}, ":1\r\n"), 2);
  EXPECT_EQ(Changes({"lpush", "l", "a", "b", "c"}, ":3\r\n"), 3);
  EXPECT_EQ(Changes({"rpushx", "l", "a", "b"}, ":0\r\n"), 0);
  EXPECT_EQ(Changes({"rpushx", "l", "a", "b"}, ":3\r\n"), 2);
  EXPECT_EQ(Changes({"del", "a", "b", "c"}, ":2\r\n"), 2);
  EXPECT_EQ(Changes({"sadd", "s", "a", "b"}, ":0\r\n"), 0);
  EXPECT_EQ(Changes({"srem", "s", "a", "b"}, ":2\r\n"), 2);
  EXPECT_EQ(Changes({"getex", "k"}, "$1\r\nv\r\n"), 0);
  EXPECT_EQ(Changes({"getex", "k", "EX", "9"}, "$1\r\nv\r\n"), 1);
  EXPECT_EQ(Changes({"getex", "k", "EX", "9"}, "$-1\r\n"), 0);
  EXPECT_EQ(Changes({"setrange", "k", "0", ""}, ":3\r\n"), 0);
  EXPECT_EQ(Changes({"setrange", "k", "0", "x"}, ":3\r\n"), 1);
  EXPECT_EQ(Changes({"incr", "n"}, ":1\r\n"), 1);
  EXPECT_EQ(Changes({"linsert", "l", "BEFORE", "a", "b"}, ":-1\r\n"), 0);
  EXPECT_EQ(Changes({"linsert", "l", "BEFORE", "a", "b"}, ":4\r\n"), 1);
}

TEST(WriteChangesTest, CountsPoppedElementsInEveryReplyShape) {
  EXPECT_EQ(Changes({"lpop", "l"}, "$1\r\na\r\n"), 1);
  EXPECT_EQ(Changes({"lpop", "l"}, "$-1\r\n"), 0);
  EXPECT_EQ(Changes({"lpop", "l", "5"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"), 2);
  EXPECT_EQ(Changes({"spop", "s", "5"}, "~2\r\n$1\r\na\r\n$1\r\nb\r\n"), 2);
  EXPECT_EQ(Changes({"spop", "s", "5"}, "*0\r\n"), 0);
  // ZPOPMIN with a count: flat in RESP2, pairs in RESP3.
  EXPECT_EQ(Changes({"zpopmin", "z", "2"},
                    "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            2);
  EXPECT_EQ(Changes({"zpopmin", "z", "2"},
                    "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n"),
            2);
  EXPECT_EQ(Changes({"zpopmax", "z"}, "*2\r\n$1\r\na\r\n$1\r\n1\r\n"), 1);
  EXPECT_EQ(Changes({"lmpop", "1", "l", "LEFT", "COUNT", "5"},
                    "*2\r\n$1\r\nl\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            3);
  EXPECT_EQ(Changes({"lmpop", "1", "l", "LEFT"}, "*-1\r\n"), 0);
}

TEST(WriteChangesTest, StoreFormsAndFunctions) {
  EXPECT_EQ(Changes({"sort", "l"}, "*1\r\n$1\r\na\r\n"), 0);
  EXPECT_EQ(Changes({"sort", "l", "STORE", "d"}, ":3\r\n"), 3);
  EXPECT_EQ(Changes({"georadius", "g", "0", "0", "1", "km"}, "*0\r\n"), 0);
  EXPECT_EQ(Changes({"function", "load", "code"}, "$3\r\nlib\r\n"), 1);
  EXPECT_EQ(Changes({"function", "list"}, "*0\r\n"), 0);
  EXPECT_EQ(Changes({"function", "flush"}, "+OK\r\n"), 1);
  EXPECT_EQ(Changes({"set", "k", "v"}, "-ERR oops\r\n"), 0);
  EXPECT_EQ(Changes({"xgroup", "DESTROY", "x", "g"}, ":0\r\n"), 0);
  EXPECT_EQ(Changes({"xgroup", "CREATE", "x", "g", "0"}, "+OK\r\n"), 1);
}

}  // namespace
}  // namespace reborn::server
