// Unit tests of the RDB building blocks: CRC-64, LZF, listpack, ziplist,
// intset and zipmap, with hand-built encodings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "rdb/crc64.h"
#include "rdb/intset.h"
#include "rdb/listpack.h"
#include "rdb/lzf.h"
#include "rdb/ziplist.h"
#include "test_util.h"

namespace reborn::rdb {
namespace {

using test_util::Hex;
using ::testing::ElementsAre;

TEST(Crc64Test, MatchesRedisCheckValue) {
  // From Redis' crc64.c self test.
  EXPECT_EQ(Crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
}

TEST(Crc64Test, IsIncremental) {
  std::string data(1000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  uint64_t whole = Crc64(0, data);
  for (size_t cut : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u}) {
    EXPECT_EQ(Crc64(Crc64(0, data.substr(0, cut)), data.substr(cut)), whole);
  }
}

TEST(LzfTest, RoundTripsCompressibleData) {
  std::mt19937 rng(7);
  for (size_t n : {8u, 21u, 100u, 4096u, 100000u}) {
    std::string s;
    while (s.size() < n) {
      s += (rng() % 3 == 0) ? std::string(rng() % 300, 'x')
                            : std::string(1, static_cast<char>(rng()));
    }
    s.resize(n);
    auto packed = LzfCompress(s);
    if (!packed) continue;
    EXPECT_LE(packed->size() + 4, s.size());
    auto back = LzfDecompress(*packed, s.size());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, s);
  }
  auto packed = LzfCompress(std::string(100000, 'a'));
  ASSERT_TRUE(packed.has_value());
  EXPECT_LT(packed->size(), 1200u);  // 3 bytes per 264
}

TEST(LzfTest, RefusesIncompressibleData) {
  std::mt19937 rng(3);
  std::string s(1000, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  EXPECT_FALSE(LzfCompress(s).has_value());
}

TEST(LzfTest, DecodesRedisOutputAndRejectsCorruption) {
  // "ab" * 100 as Redis 7.0 compresses it (from a DUMP payload).
  std::string packed = Hex("02616261e0ba01016162");
  auto out = LzfDecompress(packed, 200);
  ASSERT_TRUE(out.ok());
  std::string expect;
  for (int i = 0; i < 100; ++i) expect += "ab";
  EXPECT_EQ(*out, expect);
  EXPECT_FALSE(LzfDecompress(packed, 199).ok());         // overflow
  EXPECT_FALSE(LzfDecompress(packed, 201).ok());         // short
  EXPECT_FALSE(LzfDecompress(Hex("05616263"), 6).ok());  // literal past end
  EXPECT_FALSE(LzfDecompress(Hex("20ff"), 3).ok());  // reference before start
  EXPECT_FALSE(LzfDecompress(Hex("e0"), 9).ok());    // truncated reference
}

TEST(ListpackTest, DecodesRedisListpack) {
  // The listpack of RPUSH l a b 1 2 in Redis 7.0.
  std::string lp =
      Hex("110000000400816102816202010102"
          "01ff");
  std::vector<std::string> out;
  ASSERT_TRUE(ListpackDecode(lp, 100, &out).ok());
  EXPECT_THAT(out, ElementsAre("a", "b", "1", "2"));
}

TEST(ListpackTest, BuilderRoundTripsEveryEncoding) {
  std::vector<std::string> in = {"0",
                                 "127",
                                 "128",
                                 "-1",
                                 "-4096",
                                 "4095",
                                 "-4097",
                                 "32767",
                                 "-32768",
                                 "32768",
                                 "8388607",
                                 "-8388608",
                                 "8388608",
                                 "2147483647",
                                 "-2147483649",
                                 "9223372036854775807",
                                 "-9223372036854775808",
                                 "9223372036854775808",  // not an int64
                                 "",
                                 "01",
                                 "+1",
                                 "-0",
                                 std::string(63, 'a'),
                                 std::string(64, 'b'),
                                 std::string(4095, 'c'),
                                 std::string(4096, 'd'),
                                 std::string(70000, 'e')};
  ListpackBuilder b;
  for (const auto& s : in) b.Append(s);
  std::string lp = b.Finish();
  std::vector<std::string> out;
  ASSERT_TRUE(ListpackDecode(lp, 1000, &out).ok());
  EXPECT_EQ(out, in);
  // Integers took their compact encodings: "127" is one byte + backlen.
  ListpackBuilder small;
  small.Append("127");
  EXPECT_EQ(small.Finish(), Hex("0900000001007f01ff"));
  ListpackBuilder neg;
  neg.Append("-1");
  EXPECT_EQ(neg.Finish(), Hex("0a0000000100dfff02ff"));
}

TEST(ListpackTest, RejectsCorruptInput) {
  ListpackBuilder b;
  b.Append("hello");
  b.Append("12345");
  std::string lp = b.Finish();
  std::vector<std::string> out;
  EXPECT_FALSE(ListpackDecode(lp, 1, &out).ok());  // entry limit
  for (size_t cut = 0; cut < lp.size(); ++cut) {
    std::string t = lp.substr(0, cut);
    if (t.size() >= 4) t[0] = static_cast<char>(t.size());
    EXPECT_FALSE(ListpackDecode(t, 100, &out).ok()) << cut;
  }
  std::string bad_count = lp;
  bad_count[4] = 3;
  EXPECT_FALSE(ListpackDecode(bad_count, 100, &out).ok());
  std::string bad_backlen = lp;
  bad_backlen[6 + 6] = 9;  // backlen of "hello"
  EXPECT_FALSE(ListpackDecode(bad_backlen, 100, &out).ok());
  std::string bad_len = lp;
  bad_len[6] = static_cast<char>(0x80 | 60);  // string longer than the rest
  EXPECT_FALSE(ListpackDecode(bad_len, 100, &out).ok());
}

TEST(ZiplistTest, DecodesEveryEncoding) {
  test_util::ZiplistBuilder b;
  b.AddString("a");
  b.AddString(std::string(300, 'x'));  // 14-bit length; next prevlen is 5 bytes
  b.AddString(std::string(17000, 'y'));  // 32-bit length
  b.AddInt(-5, 0xfe);
  b.AddInt(-300, 0xc0);
  b.AddInt(-8000000, 0xf0);
  b.AddInt(2000000000, 0xd0);
  b.AddInt(-9000000000000LL, 0xe0);
  b.AddInt(0, 0xf1);
  b.AddInt(0, 0xfd);
  std::string zl = b.Finish();
  std::vector<std::string> out;
  ASSERT_TRUE(ZiplistDecode(zl, 100, &out).ok());
  EXPECT_THAT(
      out, ElementsAre("a", std::string(300, 'x'), std::string(17000, 'y'),
                       "-5", "-300", "-8000000", "2000000000", "-9000000000000",
                       "0", "12"));
}

TEST(ZiplistTest, RejectsCorruptInput) {
  test_util::ZiplistBuilder b;
  b.AddString("abc");
  b.AddInt(7, 0xfe);
  std::string zl = b.Finish();
  std::vector<std::string> out;
  for (size_t cut = 0; cut < zl.size(); ++cut) {
    std::string t = zl.substr(0, cut);
    if (t.size() >= 4) t[0] = static_cast<char>(t.size());
    EXPECT_FALSE(ZiplistDecode(t, 100, &out).ok()) << cut;
  }
  std::string bad_prev = zl;
  bad_prev[10 + 5] = 9;  // prevlen of the second entry
  EXPECT_FALSE(ZiplistDecode(bad_prev, 100, &out).ok());
  std::string bad_count = zl;
  bad_count[8] = 5;
  EXPECT_FALSE(ZiplistDecode(bad_count, 100, &out).ok());
}

TEST(IntsetTest, RoundTripsAndValidates) {
  std::vector<int64_t> v = {-70000, -3, 0, 5, 1 << 20};
  std::string is = IntsetEncode(v);
  EXPECT_EQ(is.size(), 8u + 5 * 4);
  std::vector<std::string> out;
  ASSERT_TRUE(IntsetDecode(is, 10, &out).ok());
  EXPECT_THAT(out, ElementsAre("-70000", "-3", "0", "5", "1048576"));
  EXPECT_EQ(IntsetEncode({1, 2}).size(), 8u + 2 * 2);
  EXPECT_EQ(IntsetEncode({1, 1LL << 40}).size(), 8u + 2 * 8);
  // The intset of SADD si 1 2 3 in Redis 7.0.
  out.clear();
  ASSERT_TRUE(IntsetDecode(Hex("0200000003000000010002000300"), 10, &out).ok());
  EXPECT_THAT(out, ElementsAre("1", "2", "3"));
  EXPECT_FALSE(IntsetDecode(is.substr(0, is.size() - 1), 10, &out).ok());
  EXPECT_FALSE(IntsetDecode(is, 4, &out).ok());
  EXPECT_FALSE(IntsetDecode(IntsetEncode({3, 2}), 10, &out).ok());
  EXPECT_FALSE(IntsetDecode(IntsetEncode({2, 2}), 10, &out).ok());
  std::string bad_width = is;
  bad_width[0] = 3;
  EXPECT_FALSE(IntsetDecode(bad_width, 10, &out).ok());
}

TEST(ZipmapTest, DecodesAndRejectsTruncation) {
  std::vector<std::pair<std::string, std::string>> in = {
      {"f", "v"}, {std::string(300, 'k'), "x"}, {"n", std::string(260, 'v')}};
  std::string zm = test_util::BuildZipmap(in);
  std::vector<std::pair<std::string, std::string>> out;
  ASSERT_TRUE(ZipmapDecode(zm, 10, &out).ok());
  EXPECT_EQ(out, in);
  for (size_t cut = 0; cut < zm.size(); ++cut) {
    out.clear();
    EXPECT_FALSE(ZipmapDecode(zm.substr(0, cut), 10, &out).ok()) << cut;
  }
}

}  // namespace
}  // namespace reborn::rdb
