#include "routing/merge.h"

#include <gtest/gtest.h>

namespace reborn::routing {
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

TEST(MergeTest, ShardPubSubIntrospection) {
  // A migrating slot's channel is held at both ends: listed once, counted
  // once.
  EXPECT_EQ(MergeDistinctArrays({"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
                                 "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"}),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
  EXPECT_EQ(MergeNumsubMax({"*4\r\n$1\r\na\r\n:2\r\n$1\r\nb\r\n:0\r\n",
                            "*4\r\n$1\r\na\r\n:2\r\n$1\r\nb\r\n:3\r\n"}),
            "*4\r\n$1\r\na\r\n:2\r\n$1\r\nb\r\n:3\r\n");
  EXPECT_EQ(MergeNumsubMax({"*2\r\n$1\r\na\r\n:2\r\n", "*0\r\n"})[0], '-');
  EXPECT_EQ(MergeNumsubMax({"-ERR x\r\n", "*0\r\n"}), "-ERR x\r\n");
}

TEST(MergeTest, ScriptsAndInfoFields) {
  EXPECT_EQ(MergeSame({"$2\r\nab\r\n", "$2\r\nab\r\n"}), "$2\r\nab\r\n");
  EXPECT_EQ(MergeSame({"+OK\r\n", "-ERR no\r\n"}), "-ERR no\r\n");
  EXPECT_EQ(MergeMinIntegers({"*2\r\n:1\r\n:1\r\n", "*2\r\n:1\r\n:0\r\n"}),
            "*2\r\n:1\r\n:0\r\n");
  EXPECT_EQ(MergeMinIntegers({"*1\r\n:1\r\n", "*2\r\n:1\r\n:0\r\n"})[0], '-');
  std::vector<std::string> parts = {
      BulkReply("# Memory\r\nused_memory:100\r\nused_memory_rss:7\r\n"),
      BulkReply("# Memory\r\nused_memory:23\r\n")};
  EXPECT_EQ(SumInfoField(parts, "used_memory"), 123);
  EXPECT_EQ(SumInfoField(parts, "used_memory_rss"), 7);
  EXPECT_FALSE(SumInfoField(parts, "keyspace_hits").has_value());
  EXPECT_EQ(BytesToHuman(1023), "1023B");
  EXPECT_EQ(BytesToHuman(1536), "1.50K");
  EXPECT_EQ(BytesToHuman(3 * 1024 * 1024), "3.00M");
  // Only db<n> lines of a whole INFO are keyspace lines.
  EXPECT_EQ(MergeKeyspace({BulkReply("# Server\r\ntcp_port:1\r\n# Keyspace\r\n"
                                     "db0:keys=2,expires=0,avg_ttl=0\r\n")}),
            "# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n");
}

}  // namespace
}  // namespace reborn::routing
