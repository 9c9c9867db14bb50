#include "resp/request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace reborn::resp {
namespace {

using Args = std::vector<std::string>;

// Feeds `input` in chunks of `chunk` bytes and collects every command.
struct Collected {
  std::vector<Args> commands;
  std::string error;
};

Collected ParseAll(std::string_view input, size_t chunk,
                   ParserLimits limits = {}) {
  RequestParser parser(limits);
  Collected out;
  std::string buffer;
  for (size_t off = 0; off < input.size(); off += chunk) {
    buffer.append(input.substr(off, chunk));
    while (true) {
      size_t consumed = 0;
      Args args;
      auto result = parser.Parse(buffer, &consumed, &args);
      buffer.erase(0, consumed);
      if (result == RequestParser::Result::kError) {
        out.error = parser.error();
        return out;
      }
      if (result == RequestParser::Result::kNeedMore) break;
      if (!args.empty()) out.commands.push_back(args);
    }
  }
  return out;
}

TEST(RequestParserTest, ParsesMultibulkAtEverySplitPoint) {
  const std::string input =
      "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n*1\r\n$4\r\nPING\r\n";
  for (size_t chunk = 1; chunk <= input.size(); ++chunk) {
    auto got = ParseAll(input, chunk);
    ASSERT_EQ(got.error, "") << chunk;
    ASSERT_EQ(got.commands.size(), 2u) << chunk;
    EXPECT_EQ(got.commands[0], (Args{"SET", "key", "va\r\nl"}));
    EXPECT_EQ(got.commands[1], (Args{"PING"}));
  }
}

// Servers pass the same vector for every command, and the parser refills
// the strings it hands back: shorter and longer commands, a big argument and
// inline commands in between must all come out exact.
TEST(RequestParserTest, ReusedArgumentVectorHoldsExactlyEachCommand) {
  const std::string big(100000, 'b');
  const std::vector<Args> want = {
      {"SET", "key:0000000000001", "v"},
      {"GET", "k"},
      {"MSET", "a", "1", "bb", "22", "ccc", big},
      {"PING"},
      {"set", "x y", "z"},  // inline
      {"SET", "key:0000000000002", "value-longer-than-sso"},
      {"DEL", "a", "bb", "ccc"},
  };
  std::string input;
  for (const Args& cmd : want) {
    if (cmd[0] == "set") {
      input += "set \"x y\" z\r\n";
      continue;
    }
    absl::StrAppend(&input, "*", cmd.size(), "\r\n");
    for (const std::string& arg : cmd) {
      absl::StrAppend(&input, "$", arg.size(), "\r\n", arg, "\r\n");
    }
  }
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}, input.size()}) {
    RequestParser parser;
    Args args;  // one vector, as a connection keeps it
    std::vector<Args> got;
    std::string buffer;
    for (size_t off = 0; off < input.size(); off += chunk) {
      buffer.append(input.substr(off, chunk));
      while (true) {
        size_t consumed = 0;
        auto result = parser.Parse(buffer, &consumed, &args);
        buffer.erase(0, consumed);
        ASSERT_NE(result, RequestParser::Result::kError) << parser.error();
        if (result == RequestParser::Result::kNeedMore) break;
        got.push_back(args);
      }
    }
    EXPECT_EQ(got, want) << "chunk " << chunk;
  }
}

TEST(RequestParserTest, ParsesInlineWithQuotesAndEscapes) {
  auto got = ParseAll("set \"a b\" 'c\\'d' \"\\x41\\n\"\r\nPING\n", 3);
  ASSERT_EQ(got.error, "");
  ASSERT_EQ(got.commands.size(), 2u);
  EXPECT_EQ(got.commands[0], (Args{"set", "a b", "c'd", "A\n"}));
  EXPECT_EQ(got.commands[1], (Args{"PING"}));
}

TEST(RequestParserTest, EmptyInlineLinesAndZeroMultibulkAreSkipped) {
  auto got = ParseAll("\r\n\n*0\r\n*-1\r\nPING\r\n", 100);
  ASSERT_EQ(got.error, "");
  ASSERT_EQ(got.commands.size(), 1u);
}

TEST(RequestParserTest, RejectsWithRedisErrorTexts) {
  EXPECT_EQ(ParseAll("*abc\r\n", 100).error,
            "ERR Protocol error: invalid multibulk length");
  EXPECT_EQ(ParseAll("*1\r\n$-5\r\n", 100).error,
            "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(ParseAll("*1\r\nx3\r\n", 100).error,
            "ERR Protocol error: expected '$', got 'x'");
  EXPECT_EQ(ParseAll("set \"abc\r\n", 100).error,
            "ERR Protocol error: unbalanced quotes in request");
  EXPECT_EQ(ParseAll("set \"abc\"x\r\n", 100).error,
            "ERR Protocol error: unbalanced quotes in request");
  EXPECT_EQ(ParseAll(std::string(70 * 1024, 'a'), 1024).error,
            "ERR Protocol error: too big inline request");
}

TEST(RequestParserTest, EnforcesConfiguredLimits) {
  ParserLimits limits;
  limits.max_bulk_len = 10;
  limits.max_multibulk_len = 3;
  EXPECT_EQ(ParseAll("*1\r\n$11\r\n", 100, limits).error,
            "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(ParseAll("*1\r\n$10\r\n0123456789\r\n", 100, limits).error, "");
  EXPECT_EQ(ParseAll("*4\r\n", 100, limits).error,
            "ERR Protocol error: invalid multibulk length");
}

// Ten million empty arguments cost memory even though each is 0 bytes: the
// overhead of every argument counts against client-query-buffer-limit.
TEST(RequestParserTest, ArgumentOverheadCountsAgainstTheQueryLimit) {
  ParserLimits limits;
  limits.max_argument_bytes = 100 * kArgumentOverhead;
  std::string empties = "*1000\r\n";
  for (int i = 0; i < 1000; ++i) empties += "$0\r\n\r\n";
  EXPECT_EQ(ParseAll(empties, 4096, limits).error,
            "ERR Protocol error: too big request (client-query-buffer-limit)");
  std::string fits = "*99\r\n";
  for (int i = 0; i < 99; ++i) fits += "$0\r\n\r\n";
  EXPECT_EQ(ParseAll(fits, 4096, limits).error, "");
  // A big argument is refused from its header, before its bytes arrive.
  EXPECT_EQ(ParseAll("*1\r\n$5000\r\n", 4096, limits).error,
            "ERR Protocol error: too big request (client-query-buffer-limit)");
}

TEST(RequestParserTest, UnauthenticatedClientsGetRedisSmallLimits) {
  ParserLimits limits;
  limits.unauthenticated = true;
  EXPECT_EQ(ParseAll("*11\r\n", 100, limits).error,
            "ERR Protocol error: unauthenticated multibulk length");
  EXPECT_EQ(ParseAll("*1\r\n$16385\r\n", 100, limits).error,
            "ERR Protocol error: unauthenticated bulk length");
  std::string at_limit = "*1\r\n$16384\r\n" + std::string(16384, 'x') + "\r\n";
  EXPECT_EQ(ParseAll(at_limit, 4096, limits).error, "");
  limits.unauthenticated = false;
  EXPECT_EQ(ParseAll("*11\r\n", 100, limits).error, "");
}

TEST(RequestParserTest, LargeBulkArrivingInPiecesIsNotRescanned) {
  std::string value(1 << 20, 'v');
  std::string input = "*2\r\n$3\r\nGET\r\n$" + std::to_string(value.size()) +
                      "\r\n" + value + "\r\n";
  auto got = ParseAll(input, 4096);
  ASSERT_EQ(got.commands.size(), 1u);
  EXPECT_EQ(got.commands[0][1].size(), value.size());
}

}  // namespace
}  // namespace reborn::resp
