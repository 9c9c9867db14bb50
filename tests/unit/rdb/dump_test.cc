// DUMP payload encoding and decoding: real Redis 7.0 payloads, round trips of
// every type and encoding, old encodings built by hand, and bad input.
#include "rdb/dump.h"

#include <gtest/gtest.h>

#include <cmath>

#include "rdb/crc64.h"
#include "rdb/format.h"
#include "rdb/listpack.h"
#include "rdb/value_parser.h"
#include "rdb/value_writer.h"
#include "test_util.h"

namespace reborn::rdb {
namespace {

using test_util::Hex;

// Wraps a type byte and body into a DUMP payload with a valid footer.
std::string Payload(uint8_t type, std::string_view body, int version = 10) {
  std::string out(1, static_cast<char>(type));
  out.append(body);
  out.push_back(static_cast<char>(version & 0xff));
  out.push_back(static_cast<char>(version >> 8));
  uint64_t crc = Crc64(0, out);
  test_util::PutLe(crc, 8, &out);
  return out;
}

std::string Str(std::string_view s) {
  std::string out;
  WriteString(s, false, &out);
  return out;
}

Value MustDecode(std::string_view payload) {
  std::string detail;
  auto v = DecodeDump(payload, {}, &detail);
  EXPECT_TRUE(v.ok()) << v.status() << " " << detail;
  return v.ok() ? *v : Value();
}

TEST(DumpTest, DecodesRedis70Payloads) {
  // DUMP output of redis-server 7.0.15.
  EXPECT_EQ(MustDecode(Hex("000568656c6c6f0a006372df766534200a")),
            Value::String("hello"));
  EXPECT_EQ(MustDecode(Hex("00c139300a009d94ea2793fc08b9")),
            Value::String("12345"));
  std::string ab;
  for (int i = 0; i < 100; ++i) ab += "ab";
  EXPECT_EQ(
      MustDecode(Hex("00c30a40c802616261e0ba010161620a0024a6e84170c0c68c")),
      Value::String(ab));
  EXPECT_EQ(MustDecode(Hex("1201021111000000040081610281620201010201ff0a006d72"
                           "713e9b43482b")),
            Value::List({"a", "b", "1", "2"}));
  EXPECT_EQ(
      MustDecode(Hex("0b0e02000000030000000100020003000a00a5025ce26d6e4d1b")),
      Value::Set({"1", "2", "3"}));
  EXPECT_TRUE(SameContents(MustDecode(Hex("0202017801790a00ac3a8d681184aa31")),
                           Value::Set({"x", "y"})));
  EXPECT_EQ(MustDecode(Hex("111414000000040081610283312e35048162020201ff0a00fa"
                           "02b425af188763")),
            Value::Zset({{"a", 1.5}, {"b", 2}}));
  EXPECT_EQ(MustDecode(Hex("1012120000000400816602817602816e020701ff0a00b82ade"
                           "a8407ffaa8")),
            Value::Hash({{"f", "v"}, {"n", "7"}}));
}

TEST(DumpTest, RoundTripsEveryTypeCompactAndPlain) {
  for (bool compact : {true, false}) {
    for (bool compress : {true, false}) {
      EncodeOptions o;
      o.compact = compact;
      o.compress = compress;
      for (const Value& v : test_util::SampleValues()) {
        std::string payload = EncodeDump(v, o);
        Value back = MustDecode(payload);
        EXPECT_TRUE(SameContents(back, v))
            << ValueTypeName(v.type) << " size " << v.size();
        if (v.type == ValueType::kList || v.type == ValueType::kString ||
            v.type == ValueType::kHash) {
          EXPECT_EQ(back, v);  // order kept
        }
      }
    }
  }
}

TEST(DumpTest, WritesRedisEncodings) {
  EXPECT_EQ(EncodeDump(Value::String("hello")),
            Hex("000568656c6c6f0a006372df766534200a"));
  EXPECT_EQ(EncodeDump(Value::String("12345")),
            Hex("00c139300a009d94ea2793fc08b9"));
  EXPECT_EQ(
      EncodeDump(Value::List({"a", "b", "1", "2"})),
      Hex("1201021111000000040081610281620201010201ff0a006d72713e9b43482b"));
  EXPECT_EQ(EncodeDump(Value::Set({"3", "1", "2"})),
            Hex("0b0e02000000030000000100020003000a00a5025ce26d6e4d1b"));
  EXPECT_EQ(
      EncodeDump(Value::Zset({{"b", 2}, {"a", 1.5}})),
      Hex("111414000000040081610283312e35048162020201ff0a00fa02b425af188763"));
  EXPECT_EQ(
      EncodeDump(Value::Hash({{"f", "v"}, {"n", "7"}})),
      Hex("1012120000000400816602817602816e020701ff0a00b82adea8407ffaa8"));
  EXPECT_EQ(static_cast<uint8_t>(EncodeDump(Value::Set({"x", "y"}))[0]),
            kTypeSet);
}

TEST(DumpTest, ScoresSurviveExactly) {
  std::vector<double> scores = {0.0,
                                -0.0,
                                1.0 / 3,
                                -1e-300,
                                1e308,
                                9007199254740993.0,
                                4.5e15,
                                -2.5,
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::denorm_min()};
  for (bool compact : {true, false}) {
    std::vector<std::pair<std::string, double>> z;
    for (size_t i = 0; i < scores.size(); ++i) {
      z.emplace_back(absl::StrCat("m", i), scores[i]);
    }
    EncodeOptions o;
    o.compact = compact;
    Value back = MustDecode(EncodeDump(Value::Zset(z), o));
    ASSERT_EQ(back.scores.size(), z.size());
    for (const auto& [m, s] : back.scores) {
      size_t i = std::stoul(m.substr(1));
      EXPECT_EQ(std::signbit(s), std::signbit(scores[i])) << m;
      EXPECT_EQ(s, scores[i]) << m;
    }
  }
}

TEST(DumpTest, DecodesOldEncodings) {
  // Plain list, set, hash; text-score zset; ziplist list/zset/hash;
  // quicklist of ziplists; zipmap hash; listpack set (RDB 11 type 20);
  // quicklist 2 with a plain node.
  std::string body;
  WriteLength(2, &body);
  body += Str("x") + Str("12");
  EXPECT_EQ(MustDecode(Payload(kTypeList, body, 6)), Value::List({"x", "12"}));

  body.clear();
  WriteLength(2, &body);
  body += Str("a") +
          "\x03"
          "1.5" +
          Str("b") + "\xfe";
  EXPECT_EQ(MustDecode(Payload(kTypeZset, body, 7)),
            Value::Zset(
                {{"a", 1.5}, {"b", std::numeric_limits<double>::infinity()}}));

  test_util::ZiplistBuilder zl;
  zl.AddString("m");
  zl.AddString("2.5");
  zl.AddString("n");
  zl.AddInt(3, 0xf4);
  EXPECT_EQ(MustDecode(Payload(kTypeZsetZiplist, Str(zl.Finish()), 9)),
            Value::Zset({{"m", 2.5}, {"n", 3}}));

  test_util::ZiplistBuilder zh;
  zh.AddString("f");
  zh.AddInt(-100, 0xfe);
  EXPECT_EQ(MustDecode(Payload(kTypeHashZiplist, Str(zh.Finish()), 9)),
            Value::Hash({{"f", "-100"}}));

  test_util::ZiplistBuilder z1, z2;
  z1.AddString("a");
  z1.AddInt(1, 0xf2);
  z2.AddString("b");
  body.clear();
  WriteLength(2, &body);
  body += Str(z1.Finish()) + Str(z2.Finish());
  EXPECT_EQ(MustDecode(Payload(kTypeListQuicklist, body, 9)),
            Value::List({"a", "1", "b"}));
  EXPECT_EQ(MustDecode(Payload(kTypeListZiplist, Str(z1.Finish()), 6)),
            Value::List({"a", "1"}));

  EXPECT_EQ(MustDecode(Payload(kTypeHashZipmap,
                               Str(test_util::BuildZipmap({{"k", "v"}})), 6)),
            Value::Hash({{"k", "v"}}));

  ListpackBuilder lp;
  lp.Append("s1");
  lp.Append("77");
  EXPECT_EQ(MustDecode(Payload(kTypeSetListpack, Str(lp.Finish()))),
            Value::Set({"s1", "77"}));

  lp.Append("p1");
  body.clear();
  WriteLength(2, &body);
  WriteLength(kQuicklistNodePlain, &body);
  body += Str("big plain element");
  WriteLength(kQuicklistNodePacked, &body);
  body += Str(lp.Finish());
  EXPECT_EQ(MustDecode(Payload(kTypeListQuicklist2, body)),
            Value::List({"big plain element", "p1"}));

  // Integer-encoded strings of every width.
  EXPECT_EQ(MustDecode(Payload(kTypeString, Hex("c0ff"))), Value::String("-1"));
  EXPECT_EQ(MustDecode(Payload(kTypeString, Hex("c10080"))),
            Value::String("-32768"));
  EXPECT_EQ(MustDecode(Payload(kTypeString, Hex("c2ffffff7f"))),
            Value::String("2147483647"));
  // 64-bit length prefix.
  EXPECT_EQ(MustDecode(Payload(kTypeString, Hex("81000000000000000261"
                                                "62"))),
            Value::String("ab"));
}

TEST(DumpTest, ReportsRedisErrorTexts) {
  std::string good = EncodeDump(Value::String("hello"));
  auto expect_err = [](std::string_view p, const char* text) {
    auto v = DecodeDump(p);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().message(), text);
  };
  std::string bad_crc = good;
  bad_crc.back() ^= 1;
  expect_err(bad_crc, kDumpChecksumError);
  expect_err(Payload(kTypeString, Str("hello"), 11), kDumpChecksumError);
  expect_err("short", kDumpChecksumError);
  expect_err(Payload(kTypeString, Str("hello") + "x"), kDumpBadFormatError);
  expect_err(Payload(42, Str("hello")), kDumpBadFormatError);
  expect_err(Payload(kTypeModule2, Str("hello")), kDumpBadFormatError);
  expect_err(Payload(kTypeStreamListpacks2, Str("hello")), kDumpBadFormatError);
  std::string empty_list;
  WriteLength(0, &empty_list);
  expect_err(Payload(kTypeList, empty_list), kDumpBadFormatError);
  std::string dup;
  WriteLength(2, &dup);
  dup += Str("a") + Str("a");
  expect_err(Payload(kTypeSet, dup), kDumpBadFormatError);
  std::string nan_score;
  WriteLength(1, &nan_score);
  nan_score += Str("a") + "\xfd";
  expect_err(Payload(kTypeZset, nan_score), kDumpBadFormatError);
  std::string detail;
  EXPECT_FALSE(DecodeDump(Payload(kTypeSet, dup), {}, &detail).ok());
  EXPECT_NE(detail.find("duplicate"), std::string::npos) << detail;
}

TEST(DumpTest, EveryTruncationAndBitFlipFailsCleanly) {
  for (const Value& v : test_util::SampleValues(5)) {
    if (v.size() > 200) continue;
    std::string payload = EncodeDump(v);
    std::string body = payload.substr(1, payload.size() - 11);
    for (size_t cut = 0; cut < body.size(); ++cut) {
      // A valid footer over a truncated body: decoding must fail, not crash.
      EXPECT_FALSE(DecodeDump(Payload(static_cast<uint8_t>(payload[0]),
                                      body.substr(0, cut)))
                       .ok());
    }
    for (size_t i = 0; i < body.size(); i += 3) {
      std::string flipped = body;
      flipped[i] ^= static_cast<char>(0x41);
      (void)DecodeDump(Payload(static_cast<uint8_t>(payload[0]), flipped));
    }
  }
}

TEST(DumpTest, LimitsStopAbsurdLengths) {
  Limits limits;
  limits.max_string_bytes = 1000;
  limits.max_elements = 10;
  // A 2^40-byte string claims: rejected up front, nothing allocated.
  std::string body = Hex("810000010000000000");
  auto v = DecodeValue(kTypeString, body, limits);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("exceeds the limit"),
            absl::string_view::npos);
  // An LZF string claiming a huge expansion.
  EXPECT_FALSE(DecodeValue(kTypeString,
                           Hex("c301"
                               "43e8"
                               "00"),
                           {})
                   .ok());
  // Too many elements.
  std::string list;
  WriteLength(11, &list);
  EXPECT_FALSE(DecodeValue(kTypeList, list, limits).ok());
  // Default limits: a 2^60 element count is rejected.
  EXPECT_FALSE(DecodeValue(kTypeList, Hex("811000000000000000"), {}).ok());
}

}  // namespace
}  // namespace reborn::rdb
