#include "qdb/encoding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "qdb/numbers.h"
#include "reborn/slot.h"

namespace reborn::qdb {
namespace {

TEST(EncodingTest, MetaKeyCarriesDbAndSlotPrefix) {
  std::string k = EncodeMetaKey(3, "foo");
  ASSERT_EQ(k.size(), 6u);
  EXPECT_EQ(static_cast<uint8_t>(k[0]), 3);
  EXPECT_EQ(GetFixed16(k.data() + 1), SlotOf("foo"));
  uint8_t db;
  uint16_t slot;
  std::string_view key;
  ASSERT_TRUE(DecodeMetaKey(k, &db, &slot, &key));
  EXPECT_EQ(db, 3);
  EXPECT_EQ(slot, 289);
  EXPECT_EQ(key, "foo");
  EXPECT_GE(k, SlotBegin(3, 289));
  EXPECT_LT(k, SlotEnd(3, 289));
  EXPECT_LT(k, DbEnd(3));
}

TEST(EncodingTest, SetConvertedFlagRoundTrips) {
  for (bool converted : {false, true}) {
    Metadata m;
    m.type = DataType::kSet;
    m.version = 42;
    m.size = 7;
    m.converted = converted;
    const std::string encoded = EncodeMetadata(m);
    Metadata out;
    ASSERT_TRUE(DecodeMetadata(encoded, &out).ok());
    EXPECT_EQ(out.type, DataType::kSet);
    EXPECT_EQ(out.converted, converted);
    EXPECT_EQ(out.version, 42u);
    EXPECT_EQ(out.size, 7u);
    DataType type;
    int64_t expire_ms;
    ASSERT_TRUE(DecodeMetadataHeader(encoded, &type, &expire_ms).ok());
    EXPECT_EQ(type, DataType::kSet);
  }
}

TEST(EncodingTest, StringMetadataRoundTrips) {
  Metadata m;
  m.type = DataType::kString;
  m.expire_ms = 1700000000123;
  m.value = std::string("bin\0ary", 7);
  Metadata out;
  ASSERT_TRUE(DecodeMetadata(EncodeMetadata(m), &out).ok());
  EXPECT_EQ(out.type, DataType::kString);
  EXPECT_EQ(out.expire_ms, m.expire_ms);
  EXPECT_EQ(out.value, m.value);
}

TEST(EncodingTest, StringFormRoundTripsAndOldRecordsReadAsAuto) {
  for (StringForm form : {StringForm::kAuto, StringForm::kRaw,
                          StringForm::kEmbstr, StringForm::kUnshared}) {
    Metadata m;
    m.value = "12";
    m.form = form;
    Metadata out;
    ASSERT_TRUE(DecodeMetadata(EncodeMetadata(m), &out).ok());
    EXPECT_EQ(out.form, form);
    EXPECT_EQ(out.type, DataType::kString);
    EXPECT_EQ(out.value, "12");
  }
  // A record from before the form: the bare type byte.
  std::string old(1, static_cast<char>(DataType::kString));
  old += std::string(8, '\0') + "v";
  Metadata out;
  out.form = StringForm::kRaw;
  ASSERT_TRUE(DecodeMetadata(old, &out).ok());
  EXPECT_EQ(out.form, StringForm::kAuto);
  // Other types never carry one.
  Metadata hash;
  hash.type = DataType::kHash;
  hash.form = StringForm::kRaw;
  ASSERT_TRUE(DecodeMetadata(EncodeMetadata(hash), &out).ok());
  EXPECT_EQ(out.type, DataType::kHash);
  EXPECT_EQ(out.form, StringForm::kAuto);
}

TEST(EncodingTest, ListMetadataKeepsVersionSizeHeadTail) {
  Metadata m;
  m.type = DataType::kList;
  m.version = 42;
  m.size = 7;
  m.list_head = 1ULL << 62;
  m.list_tail = (1ULL << 62) + 7;
  Metadata out;
  ASSERT_TRUE(DecodeMetadata(EncodeMetadata(m), &out).ok());
  EXPECT_EQ(out.version, 42u);
  EXPECT_EQ(out.size, 7u);
  EXPECT_EQ(out.list_head, m.list_head);
  EXPECT_EQ(out.list_tail, m.list_tail);
  EXPECT_EQ(out.expire_ms, 0);
}

TEST(EncodingTest, CorruptMetadataIsDataLoss) {
  Metadata out;
  EXPECT_TRUE(absl::IsDataLoss(DecodeMetadata("x", &out)));
  EXPECT_TRUE(absl::IsDataLoss(DecodeMetadata(std::string(9, '\x09'), &out)));
  std::string hash(9, '\0');
  hash[0] = static_cast<char>(DataType::kHash);
  EXPECT_TRUE(absl::IsDataLoss(DecodeMetadata(hash, &out)));
}

TEST(EncodingTest, MemberKeysOfDifferentKeysNeverInterleave) {
  // "a" + member "b..." must not collide with key "ab": keylen separates.
  std::string k1 = EncodeMemberKey(0, "a", 1, "bc");
  std::string k2 = EncodeMemberKey(0, "ab", 1, "c");
  EXPECT_NE(k1, k2);
  uint8_t db;
  std::string_view key, member;
  uint64_t version;
  ASSERT_TRUE(DecodeMemberKey(k1, &db, &key, &version, &member));
  EXPECT_EQ(key, "a");
  EXPECT_EQ(version, 1u);
  EXPECT_EQ(member, "bc");
  const std::string prefix = MemberPrefix(0, "a", 1);
  EXPECT_EQ(k1.compare(0, prefix.size(), prefix), 0);
  EXPECT_LT(k1, PrefixEnd(prefix));
}

TEST(EncodingTest, OrderedDoublesSortNumerically) {
  std::vector<double> v = {-std::numeric_limits<double>::infinity(),
                           -1e300,
                           -2.5,
                           -1,
                           -0.0,
                           0,
                           1e-300,
                           1,
                           2.5,
                           1e300,
                           std::numeric_limits<double>::infinity()};
  for (size_t i = 0; i + 1 < v.size(); ++i) {
    EXPECT_LE(EncodeOrderedDouble(v[i]), EncodeOrderedDouble(v[i + 1])) << i;
    EXPECT_EQ(DecodeOrderedDouble(EncodeOrderedDouble(v[i])), v[i]);
  }
  std::string a = EncodeScoreKey(0, "z", 1, -3, "m");
  std::string b = EncodeScoreKey(0, "z", 1, 2, "a");
  EXPECT_LT(a, b);
}

TEST(EncodingTest, PrefixEndHandlesFF) {
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), "");
}

TEST(NumbersTest, ParseInt64FollowsString2ll) {
  int64_t v;
  EXPECT_TRUE(ParseInt64("0", &v));
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(ParseInt64("9223372036854775807", &v));
  EXPECT_FALSE(ParseInt64("9223372036854775808", &v));
  EXPECT_FALSE(ParseInt64("+1", &v));
  EXPECT_FALSE(ParseInt64("01", &v));
  EXPECT_FALSE(ParseInt64("-0", &v));
  EXPECT_FALSE(ParseInt64(" 1", &v));
  EXPECT_FALSE(ParseInt64("1 ", &v));
  EXPECT_FALSE(ParseInt64("", &v));
  EXPECT_FALSE(ParseInt64("1.0", &v));
}

TEST(NumbersTest, LongDoubleFormatsLikeRedis) {
  EXPECT_EQ(FormatLongDouble(10.5L), "10.5");
  EXPECT_EQ(FormatLongDouble(3.0L), "3");
  EXPECT_EQ(FormatLongDouble(-0.0L), "0");
  EXPECT_EQ(FormatLongDouble(5.0e3L), "5000");
  long double v;
  EXPECT_TRUE(ParseLongDouble("1e3", &v));
  EXPECT_FALSE(ParseLongDouble(" 1", &v));
  EXPECT_FALSE(ParseLongDouble("nan", &v));
  EXPECT_FALSE(ParseLongDouble("1x", &v));
}

}  // namespace
}  // namespace reborn::qdb
