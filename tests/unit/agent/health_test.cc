#include "agent/health.h"

#include "gtest/gtest.h"

namespace reborn::agent {
namespace {

TEST(AgentHealthTest, ParsesAMastersReplicationInfo) {
  ServerHealth h;
  ParseReplicationInfo(
      "# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"
      "slave0:ip=127.0.0.1,port=7001,state=online,offset=42,lag=0\r\n"
      "master_replid:abc\r\nmaster_repl_offset:1234\r\n",
      &h);
  EXPECT_TRUE(h.is_master);
  EXPECT_EQ(h.offset, 1234);
  EXPECT_EQ(h.master, "");
}

TEST(AgentHealthTest, ParsesAReplicasReplicationInfo) {
  ServerHealth h;
  ParseReplicationInfo(
      "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n"
      "master_port:7000\r\nmaster_link_status:up\r\n"
      "master_sync_in_progress:0\r\nslave_repl_offset:999\r\n"
      "master_repl_offset:999\r\n",
      &h);
  EXPECT_FALSE(h.is_master);
  EXPECT_EQ(h.master, "127.0.0.1:7000");
  EXPECT_TRUE(h.link_up);
  EXPECT_FALSE(h.syncing);
  EXPECT_EQ(h.offset, 999);
}

TEST(AgentHealthTest, AClosedPortIsUnreachable) {
  ServerHealth h = Probe("127.0.0.1:1", absl::Milliseconds(200), "");
  EXPECT_FALSE(h.reachable);
  EXPECT_FALSE(h.error.empty());
}

TEST(AgentHealthTest, SplitsAddresses) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(SplitHostPort("127.0.0.1:6380", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 6380);
  EXPECT_FALSE(SplitHostPort("nope", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("h:0", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort(":80", &host, &port).ok());
}

}  // namespace
}  // namespace reborn::agent
