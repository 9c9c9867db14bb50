#include "repl/backlog.h"

#include <string>

#include "gtest/gtest.h"

namespace reborn::repl {
namespace {

TEST(BacklogTest, EmptyBacklogCoversOnlyTheNextByte) {
  Backlog b(16, 100);
  EXPECT_EQ(b.master_offset(), 100);
  EXPECT_EQ(b.first_offset(), 101);
  EXPECT_EQ(b.histlen(), 0u);
  EXPECT_TRUE(b.Covers(101));
  EXPECT_FALSE(b.Covers(100));
  EXPECT_FALSE(b.Covers(102));
  EXPECT_EQ(b.CopyFrom(101), "");
}

TEST(BacklogTest, OffsetsCountEveryByteFromOne) {
  Backlog b(16);
  b.Append("hello");
  b.Append("world");
  EXPECT_EQ(b.master_offset(), 10);
  EXPECT_EQ(b.first_offset(), 1);
  EXPECT_EQ(b.CopyFrom(1), "helloworld");
  EXPECT_EQ(b.CopyFrom(6), "world");
  EXPECT_EQ(b.CopyFrom(11), "");
  EXPECT_FALSE(b.Covers(12));
}

TEST(BacklogTest, WrapsAroundKeepingTheNewestBytes) {
  Backlog b(8);
  std::string all;
  for (int i = 0; i < 20; ++i) {
    std::string chunk(static_cast<size_t>(i % 5 + 1),
                      static_cast<char>('a' + i));
    b.Append(chunk);
    all += chunk;
    const size_t hist = std::min<size_t>(8, all.size());
    ASSERT_EQ(b.histlen(), hist);
    ASSERT_EQ(b.master_offset(), static_cast<int64_t>(all.size()));
    ASSERT_EQ(b.CopyFrom(b.first_offset()), all.substr(all.size() - hist));
    ASSERT_FALSE(b.Covers(b.first_offset() - 1));
  }
}

TEST(BacklogTest, AppendLargerThanCapacityKeepsTheTail) {
  Backlog b(4);
  b.Append("ab");
  b.Append("0123456789");
  EXPECT_EQ(b.master_offset(), 12);
  EXPECT_EQ(b.first_offset(), 9);
  EXPECT_EQ(b.CopyFrom(9), "6789");
  EXPECT_EQ(b.CopyFrom(11), "89");
}

TEST(BacklogTest, ResetForgetsHistoryAndMovesTheOffset) {
  Backlog b(8);
  b.Append("abcdef");
  b.Reset(1000);
  EXPECT_EQ(b.master_offset(), 1000);
  EXPECT_EQ(b.histlen(), 0u);
  EXPECT_FALSE(b.Covers(5));
  b.Append("xy");
  EXPECT_EQ(b.CopyFrom(1001), "xy");
}

TEST(BacklogTest, ResizeKeepsTheNewestBytes) {
  Backlog b(8);
  b.Append("abcdefghij");  // holds cdefghij
  b.Resize(4);
  EXPECT_EQ(b.CopyFrom(b.first_offset()), "ghij");
  EXPECT_EQ(b.first_offset(), 7);
  b.Resize(16);
  b.Append("klm");
  EXPECT_EQ(b.CopyFrom(7), "ghijklm");
}

TEST(BacklogTest, MemoryGrowsWithTheStreamNotWithTheCapacity) {
  // CONFIG SET repl-backlog-size 100gb must not allocate 100 GB.
  Backlog b(size_t{100} << 30);
  EXPECT_EQ(b.capacity(), size_t{100} << 30);
  EXPECT_EQ(b.allocated(), 0u);
  std::string all;
  for (int i = 0; i < 1000; ++i) {
    std::string chunk(100, static_cast<char>('a' + i % 26));
    b.Append(chunk);
    all += chunk;
  }
  EXPECT_GE(b.allocated(), all.size());
  EXPECT_LE(b.allocated(), 2 * all.size());
  EXPECT_EQ(b.CopyFrom(1), all);
  b.Resize(size_t{200} << 30);
  EXPECT_LE(b.allocated(), 2 * all.size());
  EXPECT_EQ(b.CopyFrom(1), all);
}

TEST(BacklogTest, GrowingKeepsTheRingOrderAfterAWrap) {
  Backlog b(64 * 1024);
  std::string all;
  for (int i = 0; i < 5000; ++i) {
    std::string chunk = std::to_string(i) + ";";
    b.Append(chunk);
    all += chunk;
    const size_t hist = std::min<size_t>(64 * 1024, all.size());
    ASSERT_EQ(b.CopyFrom(b.first_offset()), all.substr(all.size() - hist));
  }
  b.Resize(1024 * 1024);  // grows again on the next appends
  for (int i = 0; i < 20000; ++i) {
    std::string chunk = std::to_string(i) + ",";
    b.Append(chunk);
    all += chunk;
  }
  const size_t hist = std::min<size_t>(1024 * 1024, all.size());
  EXPECT_EQ(b.CopyFrom(b.first_offset()), all.substr(all.size() - hist));
}

}  // namespace
}  // namespace reborn::repl
