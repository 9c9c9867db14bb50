// BITFIELD's field access and overflow rules (qdb/types/bitfield.h), and the
// command through QdbEngine::Execute on every backend. Expected values were
// taken from redis-server 7.0.
#include "qdb/types/bitfield.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "engine_fixture.h"

namespace reborn {
namespace {

using qdb::BitFieldBytesNeeded;
using qdb::BitFieldOp;
using qdb::BitFieldOverflow;
using qdb::GetBitField;
using qdb::WriteBitField;

BitFieldOp Op(BitFieldOp::Kind kind, bool is_signed, int bits, uint64_t offset,
              int64_t value = 0,
              BitFieldOverflow ow = BitFieldOverflow::kWrap) {
  BitFieldOp op;
  op.kind = kind;
  op.is_signed = is_signed;
  op.bits = bits;
  op.offset = offset;
  op.value = value;
  op.overflow = ow;
  return op;
}

constexpr auto kGet = BitFieldOp::Kind::kGet;
constexpr auto kSet = BitFieldOp::Kind::kSet;
constexpr auto kIncr = BitFieldOp::Kind::kIncrBy;

TEST(BitFieldTest, FieldsAreMostSignificantBitFirstAcrossBytes) {
  const std::string s("\x12\x34\x56", 3);
  EXPECT_EQ(GetBitField(s, Op(kGet, false, 8, 0)), 0x12);
  EXPECT_EQ(GetBitField(s, Op(kGet, false, 8, 4)), 0x23);
  EXPECT_EQ(GetBitField(s, Op(kGet, false, 12, 12)), 0x456);
  EXPECT_EQ(GetBitField(s, Op(kGet, false, 1, 3)), 1);
  // Bits past the end read as zeros.
  EXPECT_EQ(GetBitField(s, Op(kGet, false, 16, 16)), 0x5600);
  EXPECT_EQ(GetBitField(s, Op(kGet, true, 4, 16)), 5);
  EXPECT_EQ(GetBitField("\xff", Op(kGet, true, 4, 0)), -1);
  EXPECT_EQ(GetBitField("\x80", Op(kGet, true, 8, 0)), -128);
  EXPECT_EQ(GetBitField(std::string(8, '\xff'), Op(kGet, true, 64, 0)), -1);
}

TEST(BitFieldTest, SetReturnsTheOldValueAndTouchesOnlyItsBits) {
  std::string s(2, '\xff');
  bool changed;
  EXPECT_EQ(WriteBitField(s, Op(kSet, false, 4, 6, 0), &changed), 15);
  EXPECT_TRUE(changed);
  EXPECT_EQ(s, "\xfc\x3f");
  EXPECT_EQ(WriteBitField(s, Op(kSet, false, 4, 6, 0), &changed), 0);
  EXPECT_FALSE(changed);
}

TEST(BitFieldTest, OverflowWrapSatFail) {
  std::string s(8, '\0');
  bool changed;
  // u8: 100 + 257 wraps to 101; SAT stops at 255; FAIL refuses.
  ASSERT_TRUE(WriteBitField(s, Op(kSet, false, 8, 0, 100), &changed));
  EXPECT_EQ(WriteBitField(s, Op(kIncr, false, 8, 0, 257), &changed), 101);
  EXPECT_EQ(
      WriteBitField(s, Op(kIncr, false, 8, 0, 257, BitFieldOverflow::kSat),
                    &changed),
      255);
  EXPECT_EQ(
      WriteBitField(s, Op(kIncr, false, 8, 0, -256, BitFieldOverflow::kSat),
                    &changed),
      0);
  EXPECT_EQ(
      WriteBitField(s, Op(kIncr, false, 8, 0, -1, BitFieldOverflow::kFail),
                    &changed),
      std::nullopt);
  EXPECT_EQ(GetBitField(s, Op(kGet, false, 8, 0)), 0);
  // i8: 127 + 1 wraps to -128, saturates at 127; SET of 200 wraps to -56.
  ASSERT_TRUE(WriteBitField(s, Op(kSet, true, 8, 0, 127), &changed));
  EXPECT_EQ(WriteBitField(s, Op(kIncr, true, 8, 0, 1, BitFieldOverflow::kSat),
                          &changed),
            127);
  EXPECT_EQ(WriteBitField(s, Op(kIncr, true, 8, 0, 1), &changed), -128);
  EXPECT_EQ(WriteBitField(s, Op(kSet, true, 8, 0, 200), &changed), -128);
  EXPECT_EQ(GetBitField(s, Op(kGet, true, 8, 0)), -56);
  // u8 SET of -1 reads as 2^64-1, above the top: SAT stores 255.
  EXPECT_EQ(WriteBitField(s, Op(kSet, false, 8, 0, -1, BitFieldOverflow::kSat),
                          &changed),
            200);
  EXPECT_EQ(GetBitField(s, Op(kGet, false, 8, 0)), 255);
  // i64 at its limits.
  const int64_t min = std::numeric_limits<int64_t>::min();
  ASSERT_TRUE(WriteBitField(s, Op(kSet, true, 64, 0, min), &changed));
  EXPECT_EQ(WriteBitField(s, Op(kIncr, true, 64, 0, -1, BitFieldOverflow::kSat),
                          &changed),
            min);
  EXPECT_EQ(
      WriteBitField(s, Op(kIncr, true, 64, 0, -1, BitFieldOverflow::kFail),
                    &changed),
      std::nullopt);
  EXPECT_EQ(WriteBitField(s, Op(kIncr, true, 64, 0, -1), &changed),
            std::numeric_limits<int64_t>::max());
}

TEST(BitFieldTest, BytesNeededCountsWritesOnly) {
  EXPECT_EQ(BitFieldBytesNeeded({Op(kGet, false, 8, 800)}), 0u);
  EXPECT_EQ(BitFieldBytesNeeded({Op(kSet, false, 8, 0, 1)}), 1u);
  EXPECT_EQ(BitFieldBytesNeeded({Op(kSet, false, 8, 1, 1)}), 2u);
  EXPECT_EQ(BitFieldBytesNeeded(
                {Op(kIncr, true, 64, 64, 1), Op(kGet, false, 8, 4000)}),
            16u);
}

using BitFieldCommandTest = EngineTest;

TEST_P(BitFieldCommandTest, RepliesAsRedis) {
  EXPECT_EQ(R("BITFIELD", "bits", "set", "i8", "0", "255", "set", "i8", "0",
              "100", "get", "i8", "0"),
            Arr({Int(0), Int(-1), Int(100)}));
  EXPECT_EQ(R("BITFIELD", "m", "SET", "i8", "0", "10", "SET", "i8", "64", "10",
              "INCRBY", "i8", "10", "99900"),
            Arr({Int(0), Int(0), Int(60)}));
  EXPECT_EQ(R("STRLEN", "m"), Int(9));
  EXPECT_EQ(R("BITFIELD", "abc", "set", "u8", "#0", "65", "set", "u8", "#1",
              "66", "set", "u8", "#2", "67"),
            Arr({Int(0), Int(0), Int(0)}));
  EXPECT_EQ(R("GET", "abc"), Str("ABC"));
  EXPECT_EQ(R("BITFIELD", "f", "overflow", "fail", "set", "u8", "0", "256"),
            Arr({Nil()}));
  EXPECT_EQ(R("EXISTS", "f"), Int(1));  // created all the same, as Redis
  EXPECT_EQ(R("BITFIELD", "nokey"), Arr({}));
  EXPECT_EQ(R("EXISTS", "nokey"), Int(0));
  EXPECT_EQ(R("BITFIELD_RO", "abc", "get", "u8", "8"), Arr({Int(66)}));
  EXPECT_EQ(R("BITFIELD_RO", "abc", "set", "u8", "8", "1"),
            Err("ERR BITFIELD_RO only supports the GET subcommand"));
  EXPECT_EQ(R("BITFIELD", "abc", "get", "u64", "0"),
            Err("ERR Invalid bitfield type. Use something like i16 u8. Note "
                "that u64 is not supported but i64 is."));
  EXPECT_EQ(R("BITFIELD", "abc", "get", "u8", "-1"),
            Err("ERR bit offset is not an integer or out of range"));
  EXPECT_EQ(R("BITFIELD", "abc", "overflow", "up"),
            Err("ERR Invalid OVERFLOW type specified"));
  EXPECT_EQ(R("BITFIELD", "abc", "get", "u8"), Err("ERR syntax error"));
  EXPECT_EQ(R("BITFIELD", "abc", "set", "u8", "0", "x"),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(R("RPUSH", "l", "x"), Int(1));
  EXPECT_EQ(R("BITFIELD", "l", "get", "u8", "0"),
            Err("WRONGTYPE Operation against a key holding the wrong kind of "
                "value"));
}

// What SETBIT and BITFIELD report as changes (Redis' server.dirty): a
// created or grown string counts every write, otherwise only a bit or
// field that changed; an OVERFLOW FAIL write counts nothing.
TEST_P(BitFieldCommandTest, ReportsChangesAsRedisCountsThem) {
  qdb::Strings& strings = qdb::CoreOf(*engine_).strings();
  qdb::Keyspace& ks = qdb::CoreOf(*engine_).keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());  // as the handlers hold it
  const uint8_t db = ks.Physical(0);
  bool changed = false;
  auto bit = [&](uint64_t offset, int value) {
    auto r = strings.SetBit(db, "b", offset, value, &changed);
    EXPECT_TRUE(r.ok()) << r.status();
    return changed;
  };
  EXPECT_TRUE(bit(0, 0));   // created
  EXPECT_FALSE(bit(0, 0));  // same bit
  EXPECT_TRUE(bit(0, 1));   // flipped
  EXPECT_FALSE(bit(0, 1));
  EXPECT_TRUE(bit(90, 0));  // grown
  EXPECT_FALSE(bit(90, 0));
  auto field = [&](std::vector<BitFieldOp> ops) {
    int64_t changes = -1;
    auto r = strings.BitField(db, "f", ops, &changes);
    EXPECT_TRUE(r.ok()) << r.status();
    return changes;
  };
  EXPECT_EQ(field({Op(kSet, true, 5, 0, 0), Op(kSet, true, 5, 0, 0)}), 2);
  EXPECT_EQ(field({Op(kSet, true, 5, 0, 0)}), 0);
  EXPECT_EQ(field({Op(kSet, true, 5, 0, 1), Op(kSet, true, 5, 0, 1),
                   Op(kGet, false, 4, 0)}),
            1);
  EXPECT_EQ(field({Op(kIncr, true, 5, 0, 1), Op(kIncr, true, 5, 0, 0)}), 1);
  EXPECT_EQ(field({Op(kSet, false, 2, 8, 3),
                   Op(kIncr, false, 2, 8, 1, BitFieldOverflow::kFail)}),
            1);
  EXPECT_EQ(field({Op(kSet, true, 5, 90, 0)}), 1);  // grown
}

REBORN_ALL_ENGINES(BitFieldCommandTest);

}  // namespace
}  // namespace reborn
