#include "net/query_buffer.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace reborn::net {
namespace {

void Append(QueryBuffer& q, const std::string& text) {
  size_t room = 0;
  char* at = q.PrepareRead(text.size(), &room);
  ASSERT_GE(room, text.size());
  std::memcpy(at, text.data(), text.size());
  q.Commit(text.size());
}

TEST(QueryBufferTest, StartsEmptyAndReadsIntoItsRoom) {
  QueryBuffer q;
  EXPECT_EQ(q.capacity(), 0u);
  size_t room = 0;
  q.PrepareRead(16384, &room);
  EXPECT_EQ(room, 16384u);
  EXPECT_EQ(q.capacity(), 16384u);  // what CLIENT LIST shows as qbuf-free
  Append(q, "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(q.view(), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(q.size() + q.free(), q.capacity());
}

TEST(QueryBufferTest, ConsumeKeepsTheRestAndEmptiesToTheStart) {
  QueryBuffer q;
  Append(q, "abcdef");
  q.Consume(2);
  EXPECT_EQ(q.view(), "cdef");
  q.Consume(4);
  EXPECT_TRUE(q.empty());
  size_t room = 0;
  q.PrepareRead(1, &room);
  EXPECT_EQ(room, q.capacity());  // emptied: the whole buffer is room again
}

TEST(QueryBufferTest, GrowsForABigArgumentKeepingTheUnparsedBytes) {
  QueryBuffer q;
  Append(q, "xx");
  q.Consume(1);
  const std::string big(400000, 'A');
  Append(q, big);
  EXPECT_EQ(q.size(), big.size() + 1);
  EXPECT_EQ(q.view().substr(0, 2), "xA");
  EXPECT_GE(q.capacity(), big.size() + 1);
}

TEST(QueryBufferTest, MovesDataToTheFrontBeforeGrowing) {
  QueryBuffer q;
  size_t room = 0;
  q.PrepareRead(100, &room);
  const size_t cap = q.capacity();
  Append(q, std::string(cap - 10, 'a'));
  q.Consume(cap - 20);  // 10 bytes left, near the end
  q.PrepareRead(50, &room);
  EXPECT_EQ(q.capacity(), cap);  // room made by moving, not by allocating
  EXPECT_EQ(q.view(), std::string(10, 'a'));
}

TEST(QueryBufferTest, TrimAndReleaseGiveMemoryBackButNeverData) {
  QueryBuffer q;
  Append(q, std::string(100000, 'B'));
  q.Consume(99990);
  q.Trim(0);
  EXPECT_EQ(q.capacity(), 10u);
  EXPECT_EQ(q.view(), std::string(10, 'B'));
  q.Release();  // not empty: kept
  EXPECT_EQ(q.capacity(), 10u);
  q.Consume(10);
  q.Release();
  EXPECT_EQ(q.capacity(), 0u);
  q.Trim(5);  // never grows
  EXPECT_EQ(q.capacity(), 0u);
}

}  // namespace
}  // namespace reborn::net
