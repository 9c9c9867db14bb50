// String commands through QdbEngine::Execute, on every backend.
#include "engine_fixture.h"

namespace reborn {
namespace {

constexpr std::string_view kNotInt =
    "ERR value is not an integer or out of range";

using StringsTest = EngineTest;

TEST_P(StringsTest, GetSetBasics) {
  EXPECT_EQ(R("GET", "k"), Nil());
  EXPECT_EQ(R("SET", "k", "v"), Ok());
  EXPECT_EQ(R("GET", "k"), Str("v"));
  EXPECT_EQ(R("set", "k", std::string("bin\0\r\n", 6)), Ok());
  EXPECT_EQ(R("GET", "k"), Str(std::string("bin\0\r\n", 6)));
  EXPECT_EQ(R("GET"), Err("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(
      R("NOSUCH", "a"),
      Err("ERR unknown command 'NOSUCH', with args beginning with: 'a' "));
}

TEST_P(StringsTest, SetConditionsAndGet) {
  EXPECT_EQ(R("SET", "k", "1", "XX"), Nil());
  EXPECT_EQ(R("SET", "k", "1", "NX"), Ok());
  EXPECT_EQ(R("SET", "k", "2", "NX"), Nil());
  EXPECT_EQ(R("SET", "k", "3", "XX", "GET"), Str("1"));
  EXPECT_EQ(R("SET", "k", "4", "NX", "GET"), Str("3"));
  EXPECT_EQ(R("GET", "k"), Str("3"));
  EXPECT_EQ(R("SET", "new", "x", "GET"), Nil());
  EXPECT_EQ(R("SET", "k", "1", "NX", "XX"), Err("ERR syntax error"));
  EXPECT_EQ(R("SET", "k", "1", "EX", "10", "PX", "100"),
            Err("ERR syntax error"));
  EXPECT_EQ(R("SET", "k", "1", "KEEPTTL", "EX", "1"), Err("ERR syntax error"));
  EXPECT_EQ(R("SET", "k", "1", "EX"), Err("ERR syntax error"));
  EXPECT_EQ(R("SET", "k", "1", "EX", "x"), Err(kNotInt));
  EXPECT_EQ(R("SET", "k", "1", "EX", "0"),
            Err("ERR invalid expire time in 'set' command"));
  EXPECT_EQ(R("SET", "k", "1", "PX", "-5"),
            Err("ERR invalid expire time in 'set' command"));
  EXPECT_EQ(R("SET", "k", "1", "EX", "9223372036854775807"),
            Err("ERR invalid expire time in 'set' command"));
  EXPECT_EQ(R("SET", "k", "1", "PERSIST"), Err("ERR syntax error"));
}

TEST_P(StringsTest, SetExpiryOptionsAndKeepTtl) {
  EXPECT_EQ(R("SET", "k", "v", "EX", "100"), Ok());
  Reply ttl = R("PTTL", "k");
  EXPECT_GT(ttl.integer, 99000);
  EXPECT_LE(ttl.integer, 100000);
  EXPECT_EQ(R("SET", "k", "v2", "KEEPTTL"), Ok());
  EXPECT_GT(R("TTL", "k").integer, 98);
  EXPECT_EQ(R("SET", "k", "v3"), Ok());
  EXPECT_EQ(R("TTL", "k"), Int(-1));
  EXPECT_EQ(R("SET", "k", "v", "PXAT", "1"), Ok());  // in the past
  EXPECT_EQ(R("GET", "k"), Nil());
  EXPECT_EQ(R("EXISTS", "k"), Int(0));
  EXPECT_EQ(R("SET", "k", "v", "EXAT", "99999999999"), Ok());
  EXPECT_EQ(R("EXPIRETIME", "k"), Int(99999999999));
  EXPECT_EQ(R("SETEX", "s", "0", "v"),
            Err("ERR invalid expire time in 'setex' command"));
  EXPECT_EQ(R("SETEX", "s", "10", "v"), Ok());
  EXPECT_EQ(R("TTL", "s"), Int(10));
  EXPECT_EQ(R("PSETEX", "p", "10000", "v"), Ok());
  EXPECT_EQ(R("TTL", "p"), Int(10));
  EXPECT_EQ(R("PSETEX", "p", "x", "v"), Err(kNotInt));
}

TEST_P(StringsTest, ExpiredKeysAreInvisible) {
  EXPECT_EQ(R("SET", "k", "v", "PX", "30"), Ok());
  EXPECT_EQ(R("SET", "keep", "v"), Ok());
  usleep(60 * 1000);
  EXPECT_EQ(R("GET", "k"), Nil());
  EXPECT_EQ(R("EXISTS", "k"), Int(0));
  EXPECT_EQ(R("TTL", "k"), Int(-2));
  EXPECT_EQ(R("DBSIZE"), Int(1));
  EXPECT_EQ(R("KEYS", "*"), Arr({Str("keep")}));
  EXPECT_EQ(R("RANDOMKEY"), Str("keep"));
  EXPECT_EQ(R("SCAN", "0", "COUNT", "100"),
            Arr({Str("0"), Arr({Str("keep")})}));
  EXPECT_EQ(R("SETNX", "k", "again"), Int(1));
  EXPECT_EQ(R("DBSIZE"), Int(2));
}

TEST_P(StringsTest, SetnxGetsetGetdelGetex) {
  EXPECT_EQ(R("SETNX", "k", "1"), Int(1));
  EXPECT_EQ(R("SETNX", "k", "2"), Int(0));
  EXPECT_EQ(R("GETSET", "k", "3"), Str("1"));
  EXPECT_EQ(R("GETSET", "n", "3"), Nil());
  EXPECT_EQ(R("GETDEL", "k"), Str("3"));
  EXPECT_EQ(R("GETDEL", "k"), Nil());
  EXPECT_EQ(R("GETEX", "n", "EX", "100"), Str("3"));
  EXPECT_EQ(R("TTL", "n"), Int(100));
  EXPECT_EQ(R("GETEX", "n", "PERSIST"), Str("3"));
  EXPECT_EQ(R("TTL", "n"), Int(-1));
  EXPECT_EQ(R("GETEX", "n", "EX", "1", "PERSIST"), Err("ERR syntax error"));
  EXPECT_EQ(R("GETEX", "n", "NX"), Err("ERR syntax error"));
  EXPECT_EQ(R("GETEX", "missing", "EX", "0"), Nil());  // 7.0: key first
  EXPECT_EQ(R("GETEX", "n", "EX", "0"),
            Err("ERR invalid expire time in 'getex' command"));
  EXPECT_EQ(R("GETEX", "n", "PXAT", "1"), Str("3"));
  EXPECT_EQ(R("EXISTS", "n"), Int(0));
}

TEST_P(StringsTest, MgetMsetMsetnx) {
  EXPECT_EQ(R("MSET", "a", "1", "b", "2", "a", "3"), Ok());
  EXPECT_EQ(R("MGET", "a", "b", "c"), Arr({Str("3"), Str("2"), Nil()}));
  EXPECT_EQ(R("DBSIZE"), Int(2));
  EXPECT_EQ(R("MSET", "a", "1", "b"),
            Err("ERR wrong number of arguments for 'mset' command"));
  EXPECT_EQ(R("MSETNX", "c", "1", "a", "x"), Int(0));
  EXPECT_EQ(R("GET", "c"), Nil());
  EXPECT_EQ(R("MSETNX", "c", "1", "d", "2"), Int(1));
  EXPECT_EQ(R("MGET", "c", "d"), Arr({Str("1"), Str("2")}));
}

TEST_P(StringsTest, IncrDecrFamily) {
  EXPECT_EQ(R("INCR", "n"), Int(1));
  EXPECT_EQ(R("INCRBY", "n", "10"), Int(11));
  EXPECT_EQ(R("DECR", "n"), Int(10));
  EXPECT_EQ(R("DECRBY", "n", "-5"), Int(15));
  EXPECT_EQ(R("INCRBY", "n", "x"), Err(kNotInt));
  EXPECT_EQ(R("SET", "s", "abc"), Ok());
  EXPECT_EQ(R("INCR", "s"), Err(kNotInt));
  EXPECT_EQ(R("SET", "s", " 1"), Ok());
  EXPECT_EQ(R("INCR", "s"), Err(kNotInt));
  EXPECT_EQ(R("SET", "m", "9223372036854775807"), Ok());
  EXPECT_EQ(R("INCR", "m"), Err("ERR increment or decrement would overflow"));
  EXPECT_EQ(R("DECRBY", "n", "-9223372036854775808"),
            Err("ERR decrement would overflow"));
  EXPECT_EQ(R("SET", "t", "5", "EX", "100"), Ok());
  EXPECT_EQ(R("INCR", "t"), Int(6));
  EXPECT_EQ(R("TTL", "t"), Int(100));  // INCR keeps the TTL
}

TEST_P(StringsTest, IncrByFloat) {
  EXPECT_EQ(R("INCRBYFLOAT", "f", "10.5"), Str("10.5"));
  EXPECT_EQ(R("INCRBYFLOAT", "f", "0.1"), Str("10.6"));
  EXPECT_EQ(R("INCRBYFLOAT", "f", "-5.6"), Str("5"));
  EXPECT_EQ(R("INCRBYFLOAT", "f", "5.0e3"), Str("5005"));
  EXPECT_EQ(R("INCRBYFLOAT", "f", "abc"),
            Err("ERR value is not a valid float"));
  EXPECT_EQ(R("INCRBYFLOAT", "f", "inf"),
            Err("ERR increment would produce NaN or Infinity"));
  EXPECT_EQ(R("SET", "s", "x"), Ok());
  EXPECT_EQ(R("INCRBYFLOAT", "s", "1"), Err("ERR value is not a valid float"));
}

TEST_P(StringsTest, AppendStrlenRanges) {
  EXPECT_EQ(R("APPEND", "k", "Hello"), Int(5));
  EXPECT_EQ(R("APPEND", "k", " World"), Int(11));
  EXPECT_EQ(R("STRLEN", "k"), Int(11));
  EXPECT_EQ(R("STRLEN", "none"), Int(0));
  EXPECT_EQ(R("GETRANGE", "k", "0", "4"), Str("Hello"));
  EXPECT_EQ(R("GETRANGE", "k", "-5", "-1"), Str("World"));
  EXPECT_EQ(R("GETRANGE", "k", "5", "2"), Str(""));
  EXPECT_EQ(R("GETRANGE", "k", "-1", "-5"), Str(""));
  EXPECT_EQ(R("GETRANGE", "k", "0", "100"), Str("Hello World"));
  EXPECT_EQ(R("SUBSTR", "k", "6", "-1"), Str("World"));
  EXPECT_EQ(R("GETRANGE", "none", "0", "1"), Str(""));
  EXPECT_EQ(R("GETRANGE", "k", "a", "1"), Err(kNotInt));
  EXPECT_EQ(R("SETRANGE", "k", "6", "Redis"), Int(11));
  EXPECT_EQ(R("GET", "k"), Str("Hello Redis"));
  EXPECT_EQ(R("SETRANGE", "p", "3", "x"), Int(4));
  EXPECT_EQ(R("GET", "p"), Str(std::string("\0\0\0x", 4)));
  EXPECT_EQ(R("SETRANGE", "e", "3", ""), Int(0));
  EXPECT_EQ(R("EXISTS", "e"), Int(0));
  EXPECT_EQ(R("SETRANGE", "k", "-1", "x"), Err("ERR offset is out of range"));
}

TEST_P(StringsTest, StringSizeLimit) {
  max_bulk_ = 100;
  Open();
  EXPECT_EQ(R("SET", "k", std::string(60, 'a')), Ok());
  EXPECT_EQ(
      R("APPEND", "k", std::string(60, 'b')),
      Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
  EXPECT_EQ(
      R("SETRANGE", "k", "99", "xx"),
      Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
  EXPECT_EQ(R("SETBIT", "k", "800", "1"),
            Err("ERR bit offset is not an integer or out of range"));
  EXPECT_EQ(R("STRLEN", "k"), Int(60));
  ASSERT_TRUE(engine_->SetProtoMaxBulkLen(200).ok());
  EXPECT_EQ(R("APPEND", "k", std::string(60, 'b')), Int(120));
}

TEST_P(StringsTest, BitCommands) {
  EXPECT_EQ(R("SETBIT", "b", "7", "1"), Int(0));
  EXPECT_EQ(R("SETBIT", "b", "7", "1"), Int(1));
  EXPECT_EQ(R("GET", "b"), Str("\x01"));
  EXPECT_EQ(R("GETBIT", "b", "7"), Int(1));
  EXPECT_EQ(R("GETBIT", "b", "100"), Int(0));
  EXPECT_EQ(R("SETBIT", "b", "-1", "1"),
            Err("ERR bit offset is not an integer or out of range"));
  EXPECT_EQ(R("SETBIT", "b", "1", "2"),
            Err("ERR bit is not an integer or out of range"));
  EXPECT_EQ(R("SET", "s", "foobar"), Ok());
  EXPECT_EQ(R("BITCOUNT", "s"), Int(26));
  EXPECT_EQ(R("BITCOUNT", "s", "0", "0"), Int(4));
  EXPECT_EQ(R("BITCOUNT", "s", "1", "1"), Int(6));
  EXPECT_EQ(R("BITCOUNT", "s", "1", "1", "BYTE"), Int(6));
  EXPECT_EQ(R("BITCOUNT", "s", "5", "30", "BIT"), Int(17));
  EXPECT_EQ(R("BITCOUNT", "s", "0"), Err("ERR syntax error"));
  EXPECT_EQ(R("BITCOUNT", "s", "0", "1", "X"), Err("ERR syntax error"));
  EXPECT_EQ(R("BITCOUNT", "none", "0", "1"), Int(0));
  EXPECT_EQ(R("BITCOUNT", "none", "x"), Int(0));  // 7.0: lookup first
  EXPECT_EQ(R("SET", "p", "\xff\xf0\x00"), Ok());
  EXPECT_EQ(R("BITPOS", "p", "0"), Int(12));
  EXPECT_EQ(R("SET", "p", std::string("\x00\xff\xf0", 3)), Ok());
  EXPECT_EQ(R("BITPOS", "p", "1", "0"), Int(8));
  EXPECT_EQ(R("BITPOS", "p", "1", "2"), Int(16));
  EXPECT_EQ(R("BITPOS", "p", "1", "2", "-1", "BYTE"), Int(16));
  EXPECT_EQ(R("BITPOS", "p", "1", "7", "15", "BIT"), Int(8));
  EXPECT_EQ(R("SET", "z", std::string(3, '\0')), Ok());
  EXPECT_EQ(R("BITPOS", "z", "1"), Int(-1));
  EXPECT_EQ(R("BITPOS", "none", "1"), Int(-1));
  EXPECT_EQ(R("BITPOS", "none", "0"), Int(0));
  EXPECT_EQ(R("SET", "ff", "\xff\xff\xff"), Ok());
  EXPECT_EQ(R("BITPOS", "ff", "0"), Int(24));
  EXPECT_EQ(R("BITPOS", "ff", "0", "0", "-1"), Int(-1));
  EXPECT_EQ(R("BITPOS", "ff", "2"),
            Err("ERR The bit argument must be 1 or 0."));
}

TEST_P(StringsTest, BitOp) {
  EXPECT_EQ(R("SET", "a", "foobar"), Ok());
  EXPECT_EQ(R("SET", "b", "abcdef"), Ok());
  EXPECT_EQ(R("BITOP", "AND", "d", "a", "b"), Int(6));
  EXPECT_EQ(R("GET", "d"), Str("`bc`ab"));
  EXPECT_EQ(R("BITOP", "or", "d", "a", "missing"), Int(6));
  EXPECT_EQ(R("GET", "d"), Str("foobar"));
  EXPECT_EQ(R("BITOP", "NOT", "d", "a", "b"),
            Err("ERR BITOP NOT must be called with a single source key."));
  EXPECT_EQ(R("BITOP", "NAND", "d", "a"), Err("ERR syntax error"));
  EXPECT_EQ(R("BITOP", "XOR", "d", "x", "y"), Int(0));
  EXPECT_EQ(R("EXISTS", "d"), Int(0));
}

TEST_P(StringsTest, TypedApiMatchesCommands) {
  ASSERT_TRUE(engine_->Set("k", "v").ok());
  EXPECT_EQ(*engine_->Get("k"), "v");
  QdbEngine::SetOptions nx;
  nx.condition = QdbEngine::SetOptions::Condition::kIfAbsent;
  EXPECT_FALSE(*engine_->Set("k", "w", nx));
  EXPECT_EQ(*engine_->IncrBy("n", 5), 5);
  EXPECT_EQ(*engine_->Append("k", "x"), 2);
  EXPECT_EQ(*engine_->Ttl("k"), std::nullopt);
  EXPECT_TRUE(*engine_->Expire("k", absl::Seconds(100)));
  EXPECT_GT(**engine_->Ttl("k"), absl::Seconds(99));
  EXPECT_EQ(engine_->Ttl("nokey").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(*engine_->Expire("nokey", absl::Seconds(1)));
  QdbEngine::SetOptions with_ttl;
  with_ttl.ttl = absl::Milliseconds(-1);
  EXPECT_EQ(engine_->Set("t", "v", with_ttl).status().code(),
            absl::StatusCode::kInvalidArgument);
  with_ttl.ttl = absl::Seconds(50);
  EXPECT_TRUE(*engine_->Set("t", "v", with_ttl));
  EXPECT_LE(**engine_->Ttl("t"), absl::Seconds(50));
  EXPECT_EQ(*engine_->Del({"t"}), 1);
  EXPECT_EQ(*engine_->Exists({"k", "n", "z"}), 2);
  EXPECT_EQ(*engine_->DbSize(), 2u);
  auto wrong = engine_->IncrBy("k", 1);
  EXPECT_EQ(std::string(wrong.status().message()), kNotInt);
  EXPECT_EQ(*engine_->Del({"k", "n"}), 2);
  EXPECT_FALSE(engine_->Get("k", 16).ok());
}

TEST_P(StringsTest, WrongTypeOnNonStringMetadata) {
  PlantHash("h");
  EXPECT_EQ(R("TYPE", "h"), Reply::Status("hash"));
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"GET", "h"},
                                             {"APPEND", "h", "x"},
                                             {"INCR", "h"},
                                             {"INCRBYFLOAT", "h", "1"},
                                             {"STRLEN", "h"},
                                             {"GETRANGE", "h", "0", "1"},
                                             {"SETRANGE", "h", "0", "x"},
                                             {"GETBIT", "h", "0"},
                                             {"SETBIT", "h", "0", "1"},
                                             {"BITCOUNT", "h"},
                                             {"BITPOS", "h", "1"},
                                             {"GETDEL", "h"},
                                             {"GETEX", "h"},
                                             {"GETSET", "h", "x"},
                                             {"SET", "h", "x", "GET"},
                                             {"BITOP", "AND", "d", "h"}}) {
    EXPECT_EQ(engine_->Execute(ctx_, cmd), Err(kWrongType)) << cmd[0];
  }
  EXPECT_EQ(R("MGET", "h"), Arr({Nil()}));
  EXPECT_EQ(R("SET", "h", "x"), Ok());
  EXPECT_EQ(R("TYPE", "h"), Reply::Status("string"));
}

REBORN_ALL_ENGINES(StringsTest);

}  // namespace
}  // namespace reborn
