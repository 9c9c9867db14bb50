#include "proxy/cluster_face.h"

#include <gtest/gtest.h>

#include "routing/slot_hash.h"

namespace reborn::proxy {
namespace {

TEST(ClusterFaceTest, KeySlotIsRedisClusters) {
  EXPECT_EQ(routing::RedisClusterKeySlot("foo"), 12182);  // redis.io's examples
  EXPECT_EQ(routing::RedisClusterKeySlot("bar"), 5061);
  EXPECT_EQ(routing::RedisClusterKeySlot("{user1000}.following"),
            routing::RedisClusterKeySlot("{user1000}.followers"));
  EXPECT_EQ(routing::RedisClusterKeySlot("{}x"),
            routing::RedisClusterKeySlot("{}x"));
  EXPECT_NE(routing::RedisClusterKeySlot("{}x"),
            routing::RedisClusterKeySlot("x"));
}

TEST(ClusterFaceTest, SlotsSplitEvenlyOverSortedProxies) {
  ClusterView view =
      MakeClusterView("h:2", {"h:3", "h:1", "h:2", "h:3"});  // duplicates
  ASSERT_EQ(view.nodes, (std::vector<std::string>{"h:1", "h:2", "h:3"}));
  EXPECT_EQ(view.self, 1u);
  EXPECT_EQ(ClusterSlotRange(0, 3), std::make_pair(0, 5460));
  EXPECT_EQ(ClusterSlotRange(2, 3), std::make_pair(10922, 16383));
  EXPECT_EQ(MakeClusterView("me:1", {}).nodes.size(), 1u);
  EXPECT_EQ(ClusterNodeId("h:1").size(), 40u);
  EXPECT_EQ(ClusterNodeId("h:1"), ClusterNodeId("h:1"));
  EXPECT_NE(ClusterNodeId("h:1"), ClusterNodeId("h:2"));
}

TEST(ClusterFaceTest, NodesText) {
  ClusterView view = MakeClusterView("10.0.0.1:7000", {"10.0.0.2:7000"});
  std::string text = ClusterNodesText(view);
  EXPECT_NE(text.find(" 10.0.0.1:7000@17000 myself,master - 0 0 1 connected "
                      "0-8191\n"),
            std::string::npos);
  EXPECT_NE(text.find(" 10.0.0.2:7000@17000 master - 0 0 2 connected "
                      "8192-16383\n"),
            std::string::npos);
}

}  // namespace
}  // namespace reborn::proxy
