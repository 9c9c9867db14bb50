// Redis' HyperLogLog representation (qdb/types/hll_format.h). Expected bytes,
// registers and counts were taken from redis-server 7.0.15 (PFADD, GET,
// PFDEBUG DECODE, PFCOUNT).
#include "qdb/types/hll_format.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace reborn::qdb::hll {
namespace {

std::string Header(uint8_t encoding) {
  std::string h("HYLL", 4);
  h.push_back(static_cast<char>(encoding));
  h.append(11, '\0');
  return h;
}

std::string AddAll(std::string value, int from, int to,
                   int64_t max_bytes = kDefaultSparseMaxBytes) {
  for (int i = from; i < to; ++i) {
    EXPECT_TRUE(Add(value, absl::StrCat("d-", i), max_bytes).ok());
  }
  return value;
}

TEST(HllFormatTest, NewHllIsOneXZeroWithAValidZeroCache) {
  const std::string v = NewSparse();
  EXPECT_EQ(v, Header(kSparse) + "\x7f\xff");
  EXPECT_TRUE(LooksValid(v));
  EXPECT_EQ(CachedCardinality(v), 0u);
  EXPECT_EQ(DecodeSparse(v), "Z:16384");
  EXPECT_EQ(*Count(v), 0u);
}

TEST(HllFormatTest, ElementsHashToRedisRegisters) {
  // PFADD x <e>; PFDEBUG DECODE x on redis-server.
  const std::pair<const char*, const char*> cases[] = {
      {"a", "Z:12711 v:2,1 Z:3672"}, {"b", "Z:15780 v:1,1 Z:603"},
      {"c", "Z:8436 v:1,1 Z:7947"},  {"foo", "Z:7348 v:5,1 Z:9035"},
      {"", "Z:5938 v:2,1 Z:10445"},
  };
  for (const auto& [element, decoded] : cases) {
    std::string v = NewSparse();
    ASSERT_TRUE(*Add(v, element, kDefaultSparseMaxBytes));
    EXPECT_EQ(DecodeSparse(v), decoded) << element;
  }
}

TEST(HllFormatTest, SparseBytesMatchRedis) {
  std::string v = NewSparse();
  for (const char* e : {"a", "b", "c"}) {
    ASSERT_TRUE(Add(v, e, kDefaultSparseMaxBytes).ok());
  }
  // GET after PFADD hll a b c: the cache is marked not valid (0x80).
  std::string want = Header(kSparse);
  want[15] = '\x80';
  want += std::string("\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a", 11);
  EXPECT_EQ(v, want);
  EXPECT_EQ(CachedCardinality(v), std::nullopt);
  EXPECT_EQ(*Count(v), 3u);
  // Adding them again changes nothing.
  for (const char* e : {"a", "b", "c"}) {
    EXPECT_FALSE(*Add(v, e, kDefaultSparseMaxBytes));
  }
}

TEST(HllFormatTest, CountsMatchRedis) {
  // 100 elements stay sparse: 281 bytes, PFCOUNT 100, and the start of GET.
  std::string small = AddAll(NewSparse(), 0, 100);
  EXPECT_EQ(EncodingOf(small), kSparse);
  EXPECT_EQ(small.size(), 281u);
  EXPECT_EQ(small.substr(16, 8),
            std::string("\x40\x6a\x80\x40\x40\x80\x40\xe4", 8));
  EXPECT_EQ(*Count(small), 100u);
  // 4000 go dense; 200000 estimate as Redis does.
  std::string mid = AddAll(NewSparse(), 0, 4000);
  EXPECT_EQ(EncodingOf(mid), kDense);
  EXPECT_EQ(mid.size(), kDenseSize);
  EXPECT_EQ(*Count(mid), 4042u);
  std::string big = AddAll(mid, 4000, 200000);
  EXPECT_EQ(*Count(big), 199626u);
  // The union of all three is the biggest (they share their elements).
  RawRegisters max{};
  for (const std::string* v : {&small, &mid, &big}) {
    ASSERT_TRUE(MergeInto(*v, max).ok());
  }
  EXPECT_EQ(CountRaw(max), 199626u);
}

TEST(HllFormatTest, CachedCardinalityIsLittleEndianWithAValidityBit) {
  std::string v = NewSparse();
  SetCachedCardinality(v, 0x0102030405060708ULL & ~(1ULL << 63));
  EXPECT_EQ(v.substr(8, 8), std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_EQ(CachedCardinality(v), 0x0102030405060708ULL);
  InvalidateCache(v);
  EXPECT_EQ(CachedCardinality(v), std::nullopt);
  SetCachedCardinality(v, 7);
  EXPECT_EQ(CachedCardinality(v), 7u);
}

TEST(HllFormatTest, DenseRegistersDoNotDisturbNeighbours) {
  std::string v = NewSparse();
  ASSERT_TRUE(ToDense(v).ok());
  auto* regs = reinterpret_cast<uint8_t*>(v.data()) + kHeaderSize;
  for (int i = 0; i < kRegisters; ++i) {
    DenseSet(regs, i, static_cast<uint8_t>((i * 7 + 3) & kRegisterMax));
  }
  for (int i = 0; i < kRegisters; ++i) {
    ASSERT_EQ(DenseGet(regs, i), (i * 7 + 3) & kRegisterMax) << i;
  }
  // Register 1 is the top 2 bits of byte 0 and the low 4 of byte 1.
  DenseSet(regs, 0, 0);
  DenseSet(regs, 1, 63);
  DenseSet(regs, 2, 0);
  EXPECT_EQ(regs[0], 0xc0);
  EXPECT_EQ(regs[1] & 0x0f, 0x0f);
  EXPECT_EQ(DenseGet(regs, kRegisters - 1), ((kRegisters - 1) * 7 + 3) & 63);
}

TEST(HllFormatTest, SparseSplitsAndMergesOpcodes) {
  std::string v = NewSparse();
  ASSERT_TRUE(*SetRegister(v, 5, 3, kDefaultSparseMaxBytes));
  EXPECT_EQ(DecodeSparse(v), "z:5 v:3,1 Z:16378");
  ASSERT_TRUE(*SetRegister(v, 6, 3, kDefaultSparseMaxBytes));
  EXPECT_EQ(DecodeSparse(v), "z:5 v:3,2 Z:16377");  // merged
  ASSERT_TRUE(*SetRegister(v, 4, 3, kDefaultSparseMaxBytes));
  EXPECT_EQ(DecodeSparse(v), "z:4 v:3,3 Z:16377");
  ASSERT_TRUE(*SetRegister(v, 5, 9, kDefaultSparseMaxBytes));
  EXPECT_EQ(DecodeSparse(v), "z:4 v:3,1 v:9,1 v:3,1 Z:16377");
  EXPECT_FALSE(*SetRegister(v, 5, 2, kDefaultSparseMaxBytes));
  ASSERT_TRUE(*SetRegister(v, 16383, 1, kDefaultSparseMaxBytes));
  EXPECT_EQ(DecodeSparse(v), "z:4 v:3,1 v:9,1 v:3,1 Z:16376 v:1,1");
  ASSERT_TRUE(ToDense(v).ok());
  const auto* regs = reinterpret_cast<const uint8_t*>(v.data()) + kHeaderSize;
  EXPECT_EQ(DenseGet(regs, 3), 0);
  EXPECT_EQ(DenseGet(regs, 4), 3);
  EXPECT_EQ(DenseGet(regs, 5), 9);
  EXPECT_EQ(DenseGet(regs, 6), 3);
  EXPECT_EQ(DenseGet(regs, 16383), 1);
}

TEST(HllFormatTest, PromotesToDenseOnBigValuesAndSize) {
  // A run above 32 does not fit a VAL opcode.
  std::string v = NewSparse();
  ASSERT_TRUE(*SetRegister(v, 10, 33, kDefaultSparseMaxBytes));
  EXPECT_EQ(EncodingOf(v), kDense);
  // A value may not grow past the limit; at 0 the first element promotes.
  std::string w = NewSparse();
  ASSERT_TRUE(*Add(w, "x", 0));
  EXPECT_EQ(EncodingOf(w), kDense);
  std::string limited = AddAll(NewSparse(), 0, 100, 100);
  EXPECT_EQ(EncodingOf(limited), kDense);
  std::string unlimited = AddAll(NewSparse(), 0, 100, 1000);
  EXPECT_EQ(EncodingOf(unlimited), kSparse);
  EXPECT_EQ(*Count(limited), *Count(unlimited));
}

TEST(HllFormatTest, ValidityChecksOfTheHeader) {
  EXPECT_FALSE(LooksValid("HYLL"));
  EXPECT_FALSE(LooksValid("HYLX" + Header(kSparse).substr(4)));
  EXPECT_FALSE(LooksValid(Header(2)));
  EXPECT_FALSE(LooksValid(Header(kDense) + std::string(100, '\0')));
  EXPECT_TRUE(LooksValid(Header(kDense) + std::string(kDenseSize - 16, '\0')));
  // A sparse value's opcodes are checked when read, not here.
  EXPECT_TRUE(LooksValid(Header(kSparse)));
}

TEST(HllFormatTest, CorruptedSparseOpcodesAreDetected) {
  RawRegisters max{};
  // Too few registers.
  const std::string short_runs = Header(kSparse) + "\x3f";
  EXPECT_FALSE(Count(short_runs).ok());
  EXPECT_FALSE(MergeInto(short_runs, max).ok());
  std::string copy = short_runs;
  EXPECT_FALSE(ToDense(copy).ok());
  EXPECT_EQ(copy, short_runs);
  // Too many: runs summing past 2^32 must not wrap around.
  std::string huge = Header(kSparse);
  for (int i = 0; i < 131072 + 1000; ++i) huge += "\x7f\xff";
  huge += "\xff";
  EXPECT_EQ(Count(huge).status().message(),
            "INVALIDOBJ Corrupted HLL object detected");
  EXPECT_FALSE(MergeInto(huge, max).ok());
  // An add beyond the last opcode fails; one inside the covered part works.
  std::string partial = Header(kSparse) + "\x3f";
  EXPECT_FALSE(SetRegister(partial, 100, 1, kDefaultSparseMaxBytes).ok());
  EXPECT_TRUE(*SetRegister(partial, 3, 1, kDefaultSparseMaxBytes));
  EXPECT_EQ(DecodeSparse(partial), "z:3 v:1,1 z:60");
}

TEST(HllFormatTest, SelfTestPasses) {
  EXPECT_EQ(SelfTest(kDefaultSparseMaxBytes, 42), "");
}

}  // namespace
}  // namespace reborn::qdb::hll
