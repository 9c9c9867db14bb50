// Detection and failover end to end in one process: in-process qdb-servers
// (memory engine) as the stores, a memory:// coordinator for the topology.

#include "agent/ha_monitor.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/election.h"
#include "agent/health.h"
#include "gtest/gtest.h"
#include "reborn/coordinator.h"
#include "reborn/qdb_server.h"
#include "reborn/topology.h"

namespace reborn::agent {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class AgentHaMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           absl::StrCat("reborn-agent-ha-", getpid(), "-", info->name());
    fs::create_directories(dir_);
    auto c = Coordinator::Open(absl::StrCat("memory://ha-", info->name()));
    ASSERT_TRUE(c.ok());
    coord_ = std::move(*c);
    topology_ = std::make_unique<Topology>(coord_.get(), "p");
    ASSERT_TRUE(topology_->EnsureLayout().ok());
    ASSERT_TRUE(topology_->CreateGroup(1).ok());
    election_ =
        std::make_unique<Election>(coord_.get(), "/reborn/p/agents", "{}");
    ASSERT_TRUE(election_->Start().ok());
    HaOptions o;
    o.check_interval = absl::Milliseconds(50);
    o.down_after = absl::ZeroDuration();
    o.quorum = 1;
    o.store_timeout = absl::Milliseconds(500);
    o.change.ack_timeout = absl::Seconds(2);
    monitor_ = std::make_unique<HaMonitor>(topology_.get(), election_.get(), o);
  }

  void TearDown() override {
    monitor_.reset();
    election_.reset();
    for (auto& s : servers_) s->Stop();
    servers_.clear();
    fs::remove_all(dir_);
  }

  // A qdb-server on a free port; returns its address.
  std::string StartQdb(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "--port", "0",     "--engine",
        "memory", "--dir", (dir_ / std::to_string(servers_.size())).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto s = QdbServer::Create(args);
    EXPECT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE((*s)->Start().ok());
    std::string addr = absl::StrCat("127.0.0.1:", (*s)->port());
    servers_.push_back(std::move(*s));
    return addr;
  }

  void SetGroup(std::vector<ServerInfo> servers) {
    auto g = topology_->GetGroup(1);
    ASSERT_TRUE(g.ok());
    g->servers = std::move(servers);
    ASSERT_TRUE(topology_->WriteGroup(*g).ok());
  }

  // RunOnce until `done(status)`, at most 10 s.
  template <typename Pred>
  bool RunUntil(Pred done) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      monitor_->RunOnce();
      if (done(monitor_->Status())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  GroupNode Group() {
    auto g = topology_->GetGroup(1);
    EXPECT_TRUE(g.ok());
    return *g;
  }

  fs::path dir_;
  std::unique_ptr<Coordinator> coord_;
  std::unique_ptr<Topology> topology_;
  std::unique_ptr<Election> election_;
  std::unique_ptr<HaMonitor> monitor_;
  std::vector<std::unique_ptr<QdbServer>> servers_;
};

TEST_F(AgentHaMonitorTest, ADeadMasterIsFailedOverToItsInSyncReplica) {
  const std::string master = StartQdb();
  const std::string port = master.substr(master.rfind(':') + 1);
  const std::string replica = StartQdb({"--replicaof", "127.0.0.1", port});
  SetGroup({{master, ServerRole::kMaster, ServerState::kOnline},
            {replica, ServerRole::kSlave, ServerState::kOnline}});
  ASSERT_TRUE(RunUntil([](const json& s) {
    return s["groups"][0]["servers"][1].value("link_up", false);
  }));
  servers_[0]->Stop();
  ASSERT_TRUE(RunUntil([](const json& s) { return !s["failovers"].empty(); }))
      << monitor_->Status().dump();
  GroupNode g = Group();
  ASSERT_NE(g.master(), nullptr);
  EXPECT_EQ(g.master()->addr, replica);
  EXPECT_EQ(g.servers[0].role, ServerRole::kSlave);
  EXPECT_EQ(g.servers[0].state, ServerState::kOffline);
  ServerHealth h = Probe(replica, absl::Seconds(1), "");
  EXPECT_TRUE(h.is_master);
  auto f = monitor_->Status()["failovers"][0];
  EXPECT_EQ(f["from"], master);
  EXPECT_EQ(f["to"], replica);
  EXPECT_EQ(f["forced"], false);
}

TEST_F(AgentHaMonitorTest, AReplicaNeverSeenInSyncNeedsAForcedFailover) {
  // Its master was dead before the agent looked: no proof it is in sync.
  const std::string replica = StartQdb({"--replicaof", "127.0.0.1", "1"});
  SetGroup({{"127.0.0.1:1", ServerRole::kMaster, ServerState::kOnline},
            {replica, ServerRole::kSlave, ServerState::kOnline}});
  ASSERT_TRUE(RunUntil([](const json& s) {
    return s["groups"][0]["message"].get<std::string>().find("not in sync") !=
           std::string::npos;
  })) << monitor_->Status().dump();
  EXPECT_EQ(Group().master()->addr, "127.0.0.1:1");

  // Only the leader takes the go-ahead.
  auto other_coord = Coordinator::Open(
      "memory://ha-" +
      std::string(
          ::testing::UnitTest::GetInstance()->current_test_info()->name()));
  ASSERT_TRUE(other_coord.ok());
  Election follower((*other_coord).get(), "/reborn/p/agents", "{}");
  ASSERT_TRUE(follower.Start().ok());
  HaMonitor not_leader(topology_.get(), &follower, HaOptions{});
  EXPECT_TRUE(absl::IsFailedPrecondition(not_leader.Force(1)));

  ASSERT_TRUE(monitor_->Force(1).ok());
  ASSERT_TRUE(RunUntil([](const json& s) { return !s["failovers"].empty(); }))
      << monitor_->Status().dump();
  EXPECT_EQ(Group().master()->addr, replica);
  EXPECT_EQ(monitor_->Status()["failovers"][0]["forced"], true);
  EXPECT_TRUE(Probe(replica, absl::Seconds(1), "").is_master);
}

TEST_F(AgentHaMonitorTest, ProxiesViewsAreTheSecondOpinion) {
  HaOptions o;
  o.check_interval = absl::Milliseconds(50);
  o.down_after = absl::ZeroDuration();
  o.quorum = 2;  // no other agent runs
  o.proxy_quorum = 1;
  o.store_timeout = absl::Milliseconds(500);
  o.change.ack_timeout = absl::Seconds(2);
  monitor_ = std::make_unique<HaMonitor>(topology_.get(), election_.get(), o);
  const std::string master = StartQdb();
  const std::string port = master.substr(master.rfind(':') + 1);
  const std::string replica = StartQdb({"--replicaof", "127.0.0.1", port});
  SetGroup({{master, ServerRole::kMaster, ServerState::kOnline},
            {replica, ServerRole::kSlave, ServerState::kOnline}});
  ASSERT_TRUE(RunUntil([](const json& s) {
    return s["groups"][0]["servers"][1].value("link_up", false);
  }));
  servers_[0]->Stop();
  auto message_has = [](std::string what) {
    return [what](const json& s) {
      return s["groups"][0]["message"].get<std::string>().find(what) !=
             std::string::npos;
    };
  };
  ASSERT_TRUE(RunUntil(message_has("1 of 2 agents agree (0 of 1 proxies")))
      << monitor_->Status().dump();
  // A proxy that sees another address down does not count.
  const std::string view = "/reborn/p/proxy_views/proxy-1";
  ASSERT_TRUE(coord_->CreateRecursive("/reborn/p/proxy_views").ok());
  ASSERT_TRUE(
      coord_
          ->Create(view, R"({"down":["127.0.0.1:1"]})", CreateMode::kEphemeral)
          .ok());
  for (int i = 0; i < 10; ++i) monitor_->RunOnce();
  EXPECT_TRUE(monitor_->Status()["failovers"].empty());
  EXPECT_TRUE(message_has("(0 of 1 proxies")(monitor_->Status()));
  EXPECT_EQ(Group().master()->addr, master);
  // It sees this master down: one agent plus the proxies make the quorum.
  ASSERT_TRUE(coord_
                  ->Set(view, absl::StrCat(R"({"down":[")", master, R"("]})"),
                        Coordinator::kAnyVersion)
                  .ok());
  ASSERT_TRUE(RunUntil([](const json& s) { return !s["failovers"].empty(); }))
      << monitor_->Status().dump();
  EXPECT_EQ(Group().master()->addr, replica);
}

}  // namespace
}  // namespace reborn::agent
