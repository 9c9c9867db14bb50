#include "scripting/lua_engine.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rdb/crc64.h"
#include "scripting/function_dump.h"
#include "scripting/sha1.h"

namespace reborn::scripting {
namespace {

// Answers redis.call() with canned replies and records what was called.
class FakeHost : public ScriptHost {
 public:
  std::string Call(std::vector<std::string>& args, int protocol) override {
    calls.push_back(args);
    protocols.push_back(protocol);
    return next_reply;
  }
  bool ShouldKill() override { return kill; }
  std::optional<bool> AclCheck(const std::vector<std::string>& args) override {
    if (args[0] == "nosuch") return std::nullopt;
    return args[0] != "hset";
  }
  void Log(int, std::string_view message) override {
    logs.emplace_back(message);
  }

  std::string next_reply = "+OK\r\n";
  bool kill = false;
  std::vector<std::vector<std::string>> calls;
  std::vector<int> protocols;
  std::vector<std::string> logs;
};

class LuaEngineTest : public ::testing::Test {
 protected:
  // Runs `body` with no keys and returns the reply in `protocol`.
  std::string Eval(std::string_view body, int protocol = 2,
                   std::vector<std::string> keys = {},
                   std::vector<std::string> argv = {}) {
    absl::StatusOr<std::string> sha = engine_.Load(body);
    if (!sha.ok()) return std::string(sha.status().message());
    std::string out;
    resp::ReplyWriter writer(&out, protocol);
    engine_.Run(*sha, keys, argv, host_, writer);
    return out;
  }

  LuaEngine engine_;
  FakeHost host_;
};

TEST(Sha1Test, MatchesKnownDigests) {
  EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1Hex(std::string(1000, 'a')),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

TEST_F(LuaEngineTest, LuaNumbersBecomeTruncatedIntegers) {
  EXPECT_EQ(Eval("return 3.99"), ":3\r\n");
  EXPECT_EQ(Eval("return -3.99"), ":-3\r\n");
}

TEST_F(LuaEngineTest, AclCheckCmdAsksTheHost) {
  EXPECT_EQ(Eval("return redis.acl_check_cmd('set', 'k', 1)"), ":1\r\n");
  EXPECT_EQ(Eval("return redis.acl_check_cmd('hset', 'k', 'f', 1)"), "$-1\r\n");
  EXPECT_THAT(Eval("return redis.acl_check_cmd('nosuch')"),
              ::testing::HasSubstr(
                  "ERR Invalid command passed to redis.acl_check_cmd()"));
  EXPECT_THAT(Eval("return redis.acl_check_cmd()"),
              ::testing::HasSubstr("Please specify at least one argument"));
}

TEST_F(LuaEngineTest, BooleansFollowTheScriptProtocol) {
  EXPECT_EQ(Eval("return true"), ":1\r\n");
  EXPECT_EQ(Eval("return false"), "$-1\r\n");
  EXPECT_EQ(Eval("redis.setresp(3) return false", 3), "#f\r\n");
  EXPECT_EQ(Eval("redis.setresp(3) return true", 3), "#t\r\n");
}

TEST_F(LuaEngineTest, TablesBecomeArraysUpToTheFirstNil) {
  EXPECT_EQ(Eval("return {1,'a',{2},nil,5}"),
            "*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n");
}

TEST_F(LuaEngineTest, SpecialTablesBecomeTypedReplies) {
  EXPECT_EQ(Eval("return {err='CODE bad'}"), "-CODE bad\r\n");
  EXPECT_EQ(Eval("return {ok='FINE'}"), "+FINE\r\n");
  EXPECT_EQ(Eval("return redis.error_reply('oops')"), "-ERR oops\r\n");
  EXPECT_EQ(Eval("return {double=1.5}", 3), ",1.5\r\n");
  EXPECT_EQ(Eval("return {double=1.5}", 2), "$3\r\n1.5\r\n");
  EXPECT_EQ(Eval("return {map={a=1}}", 3), "%1\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(Eval("return {map={a=1}}", 2), "*2\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(Eval("return {set={a=true}}", 3), "~1\r\n$1\r\na\r\n");
  EXPECT_EQ(Eval("return {big_number='12345'}", 3), "(12345\r\n");
}

TEST_F(LuaEngineTest, RedisCallPassesNumbersWithFullPrecision) {
  Eval("redis.call('set', 'k', 1.5, 10)");
  ASSERT_EQ(host_.calls.size(), 1u);
  EXPECT_EQ(host_.calls[0],
            (std::vector<std::string>{"set", "k", "1.5", "10"}));
  EXPECT_EQ(host_.protocols[0], 2);
}

TEST_F(LuaEngineTest, Resp2NilsBecomeFalseAndResp3NullBecomesNil) {
  host_.next_reply = "$-1\r\n";
  EXPECT_EQ(Eval("return redis.call('get','x') == false"), ":1\r\n");
  host_.next_reply = "_\r\n";
  EXPECT_EQ(Eval("redis.setresp(3) return redis.call('get','x') == nil"),
            ":1\r\n");
  EXPECT_EQ(host_.protocols.back(), 3);
}

TEST_F(LuaEngineTest, CommandRepliesBecomeLuaValues) {
  host_.next_reply = "*2\r\n$1\r\na\r\n:7\r\n";
  EXPECT_EQ(Eval("local r = redis.call('x') return {type(r[1]), r[2]}"),
            "*2\r\n$6\r\nstring\r\n:7\r\n");
  host_.next_reply = "+PONG\r\n";
  EXPECT_EQ(Eval("return redis.call('ping').ok"), "$4\r\nPONG\r\n");
}

TEST_F(LuaEngineTest, CallRaisesCommandErrorsAndPcallReturnsThem) {
  host_.next_reply = "-WRONGTYPE Operation against a key\r\n";
  std::string raised = Eval("return redis.call('incr','k')");
  EXPECT_EQ(raised.rfind("-WRONGTYPE Operation against a key script: ", 0), 0u)
      << raised;
  EXPECT_NE(raised.find(", on @user_script:1."), std::string::npos);
  EXPECT_EQ(Eval("return redis.pcall('incr','k')"),
            "-WRONGTYPE Operation against a key\r\n");
}

// lua_error() longjmps past C++ destructors. Under the sanitizer build
// (docs/testing.md) LeakSanitizer fails this test if a raising redis.call(),
// redis.acl_check_cmd() or redis.register_function() still had a heap string
// or vector alive when it raised (the arguments and texts are longer than the
// small-string buffer on purpose).
TEST_F(LuaEngineTest, RaisingApiCallsFreeTheirCxxObjects) {
  const std::string long_arg(100, 'k');
  host_.next_reply =
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
  EXPECT_THAT(
      Eval("return redis.call('incr', ARGV[1], ARGV[1])", 2, {}, {long_arg}),
      ::testing::HasSubstr("-WRONGTYPE Operation against a key"));
  EXPECT_THAT(
      Eval("return redis.acl_check_cmd('nosuch', ARGV[1])", 2, {}, {long_arg}),
      ::testing::HasSubstr("ERR Invalid command passed"));
  // The second registration fails with the long name alive in a C++ string.
  const std::string twice =
      "redis.register_function('" + long_arg + "', function() return 1 end)\n";
  absl::StatusOr<std::string> lib =
      engine_.LoadLibrary("#!lua name=leaklib\n" + twice + twice, false);
  ASSERT_FALSE(lib.ok());
  EXPECT_THAT(std::string(lib.status().message()),
              ::testing::HasSubstr("Function already exists in the library"));
}

TEST_F(LuaEngineTest, KeysAndArgvAreGlobals) {
  EXPECT_EQ(
      Eval("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", 2, {"k"}, {"a", "b"}),
      "*4\r\n$1\r\nk\r\n$1\r\na\r\n:1\r\n:2\r\n");
}

TEST_F(LuaEngineTest, SandboxRefusesGlobalsAndEscapes) {
  EXPECT_NE(Eval("x = 1").find("Attempt to modify a readonly table"),
            std::string::npos);
  EXPECT_NE(Eval("return nosuch")
                .find("Script attempted to access "
                      "nonexistent global variable "
                      "'nosuch'"),
            std::string::npos);
  for (const char* escape :
       {"return os.time()", "return io.write('x')", "dofile('/etc/passwd')",
        "return debug.getinfo(1)", "return getfenv(0)", "rawset(_G, 'x', 1)",
        "setmetatable(_G, nil)", "redis.call = nil", "string.rep = nil",
        "cjson.encode = nil", "loadstring('y = 1')()"}) {
    EXPECT_EQ(Eval(escape).rfind("-ERR ", 0), 0u) << escape;
  }
}

TEST_F(LuaEngineTest, LibrariesAreLoaded) {
  EXPECT_EQ(Eval("return cjson.encode({1,2})"), "$5\r\n[1,2]\r\n");
  EXPECT_EQ(Eval("return bit.bor(1,2)"), ":3\r\n");
  EXPECT_EQ(Eval("return redis.sha1hex('abc')"),
            "$40\r\na9993e364706816aba3e25717850c26c9cd0d89d\r\n");
}

TEST_F(LuaEngineTest, KillFlagEndsAScriptEvenThroughPcall) {
  host_.kill = true;
  std::string out =
      Eval("while true do pcall(function() while true do end end) end");
  EXPECT_EQ(out.rfind("-ERR Script killed by user with SCRIPT KILL...", 0), 0u)
      << out;
}

TEST_F(LuaEngineTest, LoadCachesByShaAndFlushForgets) {
  absl::StatusOr<std::string> sha = engine_.Load("return 1");
  ASSERT_TRUE(sha.ok());
  EXPECT_EQ(*sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_TRUE(engine_.Exists(*sha));
  engine_.Flush();
  EXPECT_FALSE(engine_.Exists(*sha));
  EXPECT_EQ(engine_.Load("return 'x").status().message(),
            "ERR Error compiling script (new function): user_script:1: "
            "unfinished string near '<eof>'");
}

TEST(ShebangTest, ParsesFlagsAndRefusesUnknownOnes) {
  uint32_t flags = 0;
  size_t skip = 0;
  ASSERT_TRUE(ParseShebang("return 1", &flags, &skip).ok());
  EXPECT_EQ(flags, kScriptEvalCompat);
  ASSERT_TRUE(
      ParseShebang("#!lua flags=no-writes,allow-oom\nreturn 1", &flags, &skip)
          .ok());
  EXPECT_EQ(flags, kScriptNoWrites | kScriptAllowOom);
  EXPECT_EQ(skip, 31u);  // the newline stays: line numbers are kept
  EXPECT_EQ(ParseShebang("#!lua flags=bad\n", &flags, &skip).message(),
            "ERR Unexpected flag in script shebang: bad");
  EXPECT_EQ(ParseShebang("#!lua", &flags, &skip).message(),
            "ERR Invalid script shebang");
}

TEST(FunctionDumpTest, RoundTripsAndRefusesBadPayloads) {
  const std::vector<std::string> codes = {
      "#!lua name=a\nredis.register_function('fa', function() return 1 end)",
      "#!lua name=b\nredis.register_function('fb', function() return 2 end)"};
  for (bool compress : {false, true}) {
    std::string payload = EncodeFunctionDump(codes, compress);
    // Opcode FUNCTION2, then the code as an RDB string.
    EXPECT_EQ(static_cast<uint8_t>(payload[0]), 245);
    absl::StatusOr<std::vector<std::string>> back = DecodeFunctionDump(payload);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, codes);
    payload[3] ^= 1;
    EXPECT_EQ(DecodeFunctionDump(payload).status().message(),
              "ERR DUMP payload version or checksum are wrong");
  }
  // An empty dump is just the footer.
  EXPECT_EQ(EncodeFunctionDump({}).size(), 10u);
  // A key's DUMP is no function payload.
  std::string not_function = EncodeFunctionDump(codes, false);
  not_function[0] = 0;  // RDB string type
  // Recompute the CRC over the changed bytes.
  std::string body = not_function.substr(0, not_function.size() - 8);
  uint64_t crc = rdb::Crc64(0, body);
  for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>(crc >> (8 * i)));
  EXPECT_EQ(DecodeFunctionDump(body).status().message(),
            "ERR given type is not a function");
}

}  // namespace
}  // namespace reborn::scripting
