#include "agent/apps.h"

#include "gtest/gtest.h"

namespace reborn::agent {
namespace {

using json = nlohmann::json;

AppContext Context() {
  AppContext c;
  c.dir = "/tmp/agent";
  c.qdb_bin = "/bin/qdb-server";
  c.redis_bin = "/bin/redis-server";
  c.proxy_bin = "/bin/reborn-proxy";
  c.config_bin = "/bin/reborn-config";
  return c;
}

TEST(AgentAppsTest, QdbGetsItsPortDataDirAndReplicaOf) {
  auto spec = BuildAppSpec(
      "qdb",
      json{{"port", 7001}, {"engine", "memory"}, {"replicaof", "h:7000"}},
      Context());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->id, "qdb-7001");
  EXPECT_EQ(spec->dir, "/tmp/agent/apps/qdb-7001");
  EXPECT_EQ(spec->log, "/tmp/agent/apps/qdb-7001/log");
  EXPECT_EQ(spec->argv,
            (std::vector<std::string>{
                "/bin/qdb-server", "--port", "7001", "--bind", "127.0.0.1",
                "--dir", "/tmp/agent/apps/qdb-7001/data", "--engine", "memory",
                "--replicaof", "h", "7000"}));
  EXPECT_EQ(spec->ports, std::vector<int>{7001});
}

TEST(AgentAppsTest, NoPortPicksAFreeOne) {
  auto spec = BuildAppSpec("redis", json::object(), Context());
  ASSERT_TRUE(spec.ok());
  ASSERT_EQ(spec->ports.size(), 1u);
  EXPECT_GT(spec->ports[0], 0);
}

TEST(AgentAppsTest, BadFieldsAreInvalidArgument) {
  for (const json& body :
       {json{{"port", "x"}}, json{{"port", 70000}}, json{{"port", -1}},
        json{{"engine", "ext4"}}, json{{"replicaof", "nohost"}},
        json{{"replicaof", "h:0"}}, json{{"args", "--x"}},
        json{{"args", {1, 2}}}, json{{"host", "a b"}}}) {
    auto spec = BuildAppSpec("qdb", body, Context());
    EXPECT_TRUE(absl::IsInvalidArgument(spec.status())) << body.dump();
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      BuildAppSpec("qdb", json::array(), Context()).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(BuildAppSpec("proxy", json{{"threads", 0}},
                                           [] {
                                             AppContext c = Context();
                                             c.coordinator = "memory://";
                                             c.product = "p";
                                             return c;
                                           }())
                                  .status()));
}

TEST(AgentAppsTest, ProxyAndDashboardNeedACoordinator) {
  EXPECT_TRUE(absl::IsFailedPrecondition(
      BuildAppSpec("proxy", json::object(), Context()).status()));
  AppContext c = Context();
  c.coordinator = "zk://127.0.0.1:2181/x";
  c.product = "p";
  auto spec =
      BuildAppSpec("dashboard", json{{"port", 18087}, {"token", "secret"}}, c);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->argv,
            (std::vector<std::string>{"/bin/reborn-config", "--coordinator",
                                      "zk://127.0.0.1:2181/x", "--product", "p",
                                      "dashboard", "--addr", "127.0.0.1:18087",
                                      "--token", "secret"}));
  auto proxy = BuildAppSpec(
      "proxy", json{{"port", 19000}, {"admin_port", 19001}, {"threads", 2}}, c);
  ASSERT_TRUE(proxy.ok());
  EXPECT_EQ(proxy->ports, (std::vector<int>{19000, 19001}));
}

}  // namespace
}  // namespace reborn::agent
