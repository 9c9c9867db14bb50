#include "admin/config_service.h"

#include <gtest/gtest.h>

namespace reborn::admin {
namespace {

TEST(ParseReplicationInfoTest, Replica) {
  ReplicationInfo r = ParseReplicationInfo(
      "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n"
      "master_port:6379\r\nmaster_link_status:up\r\n"
      "slave_read_repl_offset:1234\r\nslave_repl_offset:1200\r\n"
      "master_replid:abcd\r\nmaster_repl_offset:1200\r\n");
  EXPECT_EQ(r.role, "slave");
  EXPECT_EQ(r.master_host, "127.0.0.1");
  EXPECT_EQ(r.master_port, 6379);
  EXPECT_TRUE(r.link_up);
  EXPECT_EQ(r.replid, "abcd");
  EXPECT_EQ(r.offset, 1200);
}

TEST(ParseReplicationInfoTest, MasterUsesMasterOffset) {
  ReplicationInfo r = ParseReplicationInfo(
      "# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"
      "slave0:ip=127.0.0.1,port=7000,state=online,offset=42,lag=0\r\n"
      "master_replid:ff\r\nmaster_repl_offset:99\r\n");
  EXPECT_EQ(r.role, "master");
  EXPECT_FALSE(r.link_up);
  EXPECT_EQ(r.replid, "ff");
  EXPECT_EQ(r.offset, 99);
}

TEST(ParseReplicationInfoTest, GarbageKeepsDefaults) {
  ReplicationInfo r = ParseReplicationInfo("nonsense\nmaster_port:x\n:\n");
  EXPECT_EQ(r.role, "");
  EXPECT_EQ(r.master_port, 0);
  EXPECT_EQ(r.offset, 0);
}

}  // namespace
}  // namespace reborn::admin
