#include "proxy/merge.h"

#include <gtest/gtest.h>

namespace reborn::proxy {
namespace {

TEST(MergeTest, MgetPlacesElementsByKeyPosition) {
  std::vector<std::string> parts = {"*2\r\n$1\r\na\r\n$-1\r\n",
                                    "*1\r\n$2\r\nbb\r\n"};
  EXPECT_EQ(MergeMget(parts, {{0, 2}, {1}}, 3),
            "*3\r\n$1\r\na\r\n$2\r\nbb\r\n$-1\r\n");
}

TEST(MergeTest, FirstErrorWins) {
  std::vector<std::string> parts = {":1\r\n", "-ERR down\r\n"};
  EXPECT_EQ(MergeSum(parts), "-ERR down\r\n");
  EXPECT_EQ(MergeOk({"+OK\r\n", "-WRONGTYPE x\r\n"}), "-WRONGTYPE x\r\n");
}

TEST(MergeTest, SumsAndArrays) {
  EXPECT_EQ(MergeSum({":1\r\n", ":41\r\n"}), ":42\r\n");
  EXPECT_EQ(MergeArrays({"*1\r\n$1\r\na\r\n", "*0\r\n", "*1\r\n$1\r\nb\r\n"}),
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
}

TEST(MergeTest, KeyspaceSums) {
  std::string a = "# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=5\r\n";
  std::string b = "# Keyspace\r\ndb0:keys=4,expires=0,avg_ttl=9\r\n";
  EXPECT_EQ(MergeKeyspace({BulkReply(a), BulkReply(b)}),
            "# Keyspace\r\ndb0:keys=7,expires=1,avg_ttl=9\r\n");
}

TEST(MergeTest, ScanCursorEncodesGroup) {
  // Backend cursor 5 on group 1 of 2.
  std::string reply = "*2\r\n$1\r\n5\r\n*1\r\n$1\r\nk\r\n";
  std::string out = ScanReply(reply, 1, 2);
  uint64_t expect = (5u << kScanGroupBits) | 1;
  EXPECT_EQ(out,
            "*2\r\n" + BulkReply(std::to_string(expect)) + "*1\r\n$1\r\nk\r\n");
  auto c = DecodeScanCursor(std::to_string(expect));
  EXPECT_EQ(c->backend, 5u);
  EXPECT_EQ(c->group_index, 1u);
  // Backend done on group 0 of 2: continue at group 1.
  EXPECT_EQ(ScanReply("*2\r\n$1\r\n0\r\n*0\r\n", 0, 2),
            "*2\r\n$1\r\n1\r\n*0\r\n");
  // Last group done: 0.
  EXPECT_EQ(ScanReply("*2\r\n$1\r\n0\r\n*0\r\n", 1, 2),
            "*2\r\n$1\r\n0\r\n*0\r\n");
  EXPECT_FALSE(DecodeScanCursor("x").has_value());
}

TEST(MergeTest, EmptyScanBatchGoesOn) {
  auto next = EmptyScanBatchCursor("*2\r\n$1\r\n1\r\n*0\r\n");
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->group_index, 1u);
  EXPECT_EQ(next->backend, 0u);
  EXPECT_FALSE(EmptyScanBatchCursor("*2\r\n$1\r\n0\r\n*0\r\n"));
  EXPECT_FALSE(EmptyScanBatchCursor("*2\r\n$1\r\n1\r\n*1\r\n$1\r\nk\r\n"));
  EXPECT_FALSE(EmptyScanBatchCursor("-ERR x\r\n"));
}

}  // namespace
}  // namespace reborn::proxy
