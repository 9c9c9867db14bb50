// PFADD / PFCOUNT / PFMERGE / PFDEBUG through QdbEngine::Execute, on every
// backend. Expected replies were taken from redis-server 7.0.
#include "engine_fixture.h"

namespace reborn {
namespace {

using HyperLogLogTest = EngineTest;

constexpr std::string_view kNotHll =
    "WRONGTYPE Key is not a valid HyperLogLog string value.";
constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr std::string_view kCorrupted =
    "INVALIDOBJ Corrupted HLL object detected";

TEST_P(HyperLogLogTest, AddCountAndCacheInTheValue) {
  EXPECT_EQ(R("PFADD", "h"), Int(1));  // created
  EXPECT_EQ(R("PFADD", "h"), Int(0));
  EXPECT_EQ(R("PFCOUNT", "h"), Int(0));
  EXPECT_EQ(R("PFADD", "h", "a", "b", "c"), Int(1));
  EXPECT_EQ(R("PFADD", "h", "a", "b", "c"), Int(0));
  EXPECT_EQ(R("GETRANGE", "h", "15", "15"), Str("\x80"));
  EXPECT_EQ(R("PFCOUNT", "h"), Int(3));
  // PFCOUNT stored the cardinality (and cleared the not-valid bit).
  EXPECT_EQ(R("GETRANGE", "h", "8", "15"),
            Str(std::string("\x03\0\0\0\0\0\0\0", 8)));
  EXPECT_EQ(R("PFCOUNT", "h"), Int(3));
  EXPECT_EQ(R("PFCOUNT", "nokey"), Int(0));
  EXPECT_EQ(R("PFCOUNT", "h", "nokey"), Int(3));
  EXPECT_EQ(R("OBJECT", "ENCODING", "h"), Str("raw"));
}

TEST_P(HyperLogLogTest, WritesKeepTheTtl) {
  EXPECT_EQ(R("PFADD", "h", "a"), Int(1));
  EXPECT_EQ(R("EXPIRE", "h", "1000"), Int(1));
  EXPECT_EQ(R("PFADD", "h", "b"), Int(1));
  EXPECT_EQ(R("PFCOUNT", "h"), Int(2));
  EXPECT_EQ(R("PFMERGE", "h", "x"), Ok());
  EXPECT_EQ(R("PFDEBUG", "TODENSE", "h"), Int(1));
  EXPECT_EQ(R("TTL", "h"), Int(1000));
}

TEST_P(HyperLogLogTest, MergeIsTheUnionAndFollowsDenseInputs) {
  EXPECT_EQ(R("PFADD", "a", "1", "2", "3"), Int(1));
  EXPECT_EQ(R("PFADD", "b", "3", "4", "5"), Int(1));
  EXPECT_EQ(R("PFMERGE", "m", "a", "b", "nokey"), Ok());
  EXPECT_EQ(R("PFCOUNT", "m"), Int(5));
  EXPECT_EQ(R("PFDEBUG", "ENCODING", "m"), Reply::Status("sparse"));
  EXPECT_EQ(R("PFDEBUG", "TODENSE", "b"), Int(1));
  EXPECT_EQ(R("PFDEBUG", "TODENSE", "b"), Int(0));
  EXPECT_EQ(R("PFMERGE", "m2", "a", "b"), Ok());
  EXPECT_EQ(R("PFDEBUG", "ENCODING", "m2"), Reply::Status("dense"));
  EXPECT_EQ(R("PFCOUNT", "m2"), Int(5));
  EXPECT_EQ(R("PFMERGE", "empty"), Ok());
  EXPECT_EQ(R("PFCOUNT", "empty"), Int(0));
  EXPECT_EQ(R("PFDEBUG", "DECODE", "m2"),
            Err("ERR HLL encoding is not sparse"));
}

TEST_P(HyperLogLogTest, ErrorsAsRedis) {
  EXPECT_EQ(R("SET", "s", "plain"), Ok());
  EXPECT_EQ(R("RPUSH", "l", "x"), Int(1));
  EXPECT_EQ(R("PFADD", "s", "a"), Err(kNotHll));
  EXPECT_EQ(R("PFADD", "l", "a"), Err(kWrongType));
  EXPECT_EQ(R("PFCOUNT", "s"), Err(kNotHll));
  EXPECT_EQ(R("PFCOUNT", "nokey", "l"), Err(kWrongType));
  EXPECT_EQ(R("PFMERGE", "s"), Err(kNotHll));
  EXPECT_EQ(R("PFDEBUG", "GETREG", "nokey"),
            Err("ERR The specified key does not exist"));
  EXPECT_EQ(R("PFADD", "h", "a"), Int(1));
  EXPECT_EQ(R("PFDEBUG", "Nope", "h"),
            Err("ERR Unknown PFDEBUG subcommand 'Nope'"));
  // Extra bytes after the last opcode: the registers no longer add up.
  EXPECT_EQ(R("APPEND", "h", "hello"), Int(26));
  EXPECT_EQ(R("PFCOUNT", "h"), Err(kCorrupted));
  EXPECT_EQ(R("PFCOUNT", "h", "h"), Err(kCorrupted));
  EXPECT_EQ(R("PFMERGE", "m", "h"), Err(kCorrupted));
  EXPECT_EQ(R("EXISTS", "m"), Int(0));
  EXPECT_EQ(R("SETRANGE", "h", "4", "x"), Int(26));
  EXPECT_EQ(R("PFCOUNT", "h"), Err(kNotHll));
}

REBORN_ALL_ENGINES(HyperLogLogTest);

}  // namespace
}  // namespace reborn
