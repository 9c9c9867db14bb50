// Leader election and the fenced topology write, on memory:// sessions with
// the fault-injection wrapper.

#include "agent/election.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/ha_monitor.h"
#include "coord/fault_injection_coordinator.h"
#include "coord/memory_coordinator.h"
#include "gtest/gtest.h"
#include "reborn/coordinator.h"
#include "reborn/testing/session_expiry.h"
#include "reborn/topology.h"

namespace reborn::agent {
namespace {

constexpr char kDir[] = "/reborn/p/agents";

std::string Uri() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return absl::StrCat("memory://agent-", info->name(),
                      "?session_timeout_ms=300");
}

std::unique_ptr<Coordinator> Open() {
  auto c = Coordinator::Open(Uri());
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

template <typename Pred>
bool Eventually(Pred p) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(AgentElectionTest, TwoWouldBeLeadersMakeOneAndTheSecondTakesOver) {
  auto ca = Open();
  auto cb = Open();
  auto a = std::make_unique<Election>(ca.get(), kDir, "a");
  Election b(cb.get(), kDir, "b");
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(b.Start().ok());
  EXPECT_TRUE(a->IsLeader());
  EXPECT_FALSE(b.IsLeader());
  auto peers = b.Peers();
  ASSERT_TRUE(peers.ok());
  ASSERT_EQ(peers->size(), 1u);
  EXPECT_EQ((*peers)[0].data, "a");
  // The leader leaves: its successor's predecessor watch fires.
  a.reset();
  EXPECT_TRUE(Eventually([&] { return b.IsLeader(); }));
}

TEST(AgentElectionTest, ConcurrentCandidatesElectExactlyOne) {
  std::vector<std::unique_ptr<Coordinator>> coords;
  std::vector<std::unique_ptr<Election>> elections;
  for (int i = 0; i < 4; ++i) {
    coords.push_back(Open());
    elections.push_back(
        std::make_unique<Election>(coords.back().get(), kDir, "x"));
  }
  std::vector<std::thread> threads;
  for (auto& e : elections) {
    threads.emplace_back([&e] { ASSERT_TRUE(e->Start().ok()); });
  }
  for (auto& t : threads) t.join();
  for (auto& e : elections) e->Refresh();
  int leaders = 0;
  for (auto& e : elections) leaders += e->IsLeader() ? 1 : 0;
  EXPECT_EQ(leaders, 1);
}

TEST(AgentElectionTest, ALeaderCutOffStopsActingAtOnce) {
  auto ca = Open();
  auto* memory = dynamic_cast<coord::MemoryCoordinator*>(ca.get());
  ASSERT_NE(memory, nullptr);
  Election a(ca.get(), kDir, "a");
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(a.IsLeader());
  memory->SetPartitionedForTest(true);
  // No waiting for the session listener: IsLeader() looks at the session.
  EXPECT_FALSE(a.IsLeader());
  memory->SetPartitionedForTest(false);
  // The session lived on, and with it our node: the leader again.
  EXPECT_TRUE(Eventually([&] { return a.IsLeader(); }));
}

TEST(AgentElectionTest, ALeaderWhoseSessionExpiresRejoinsBehindTheNewLeader) {
  auto ca = Open();
  auto cb = Open();
  Election a(ca.get(), kDir, "a");
  Election b(cb.get(), kDir, "b");
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  const std::string old_node = a.node_path();
  ASSERT_TRUE(::reborn::testing::ExpireSession(*ca).ok());
  EXPECT_TRUE(Eventually([&] { return b.IsLeader(); }));
  // a registers again with a higher number and follows.
  EXPECT_TRUE(Eventually(
      [&] { return !a.node_path().empty() && a.node_path() != old_node; }));
  EXPECT_FALSE(a.IsLeader());
}

TEST(AgentElectionTest, ALostCreateReplyLeavesNoOrphanBlockingTheElection) {
  auto fault = std::make_unique<coord::FaultInjectionCoordinator>(Open());
  auto cb = Open();
  std::atomic<int> lost{0};
  // The first registration reaches the coordinator, its answer does not.
  fault->SetReplyFilter([&](std::string_view op, std::string_view path) {
    if (op == "create" && path.find("/agents/") != std::string_view::npos &&
        lost.fetch_add(1) == 0) {
      return absl::UnavailableError("reply lost");
    }
    return absl::OkStatus();
  });
  Election a(fault.get(), kDir, "a");
  ASSERT_TRUE(a.Start().ok());
  Election b(cb.get(), kDir, "b");
  ASSERT_TRUE(b.Start().ok());
  auto children = cb->Children(kDir);
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(children->size(), 2u);  // the orphan was adopted, not doubled
  EXPECT_TRUE(a.IsLeader());
  EXPECT_FALSE(b.IsLeader());
  EXPECT_EQ(lost.load(), 1);
}

class AgentFencedWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fault_ = std::make_unique<coord::FaultInjectionCoordinator>(Open());
    other_ = Open();
    topology_ = std::make_unique<Topology>(fault_.get(), "p");
    ASSERT_TRUE(topology_->EnsureLayout().ok());
    ASSERT_TRUE(topology_->CreateGroup(1).ok());
    auto g = topology_->GetGroup(1);
    ASSERT_TRUE(g.ok());
    g->servers = {{"127.0.0.1:7000", ServerRole::kMaster, ServerState::kOnline},
                  {"127.0.0.1:7001", ServerRole::kSlave, ServerState::kOnline}};
    ASSERT_TRUE(topology_->WriteGroup(*g).ok());
    election_ = std::make_unique<Election>(fault_.get(), kDir, "{}");
    ASSERT_TRUE(election_->Start().ok());
    ASSERT_TRUE(election_->IsLeader());
  }

  absl::StatusOr<ChangeReport> Promote() {
    ChangeOptions o;
    o.owner = "reborn-agent";
    o.lock_timeout = absl::Seconds(1);
    return FencedGroupChange(
        topology_.get(), election_.get(), "server_failover", "1:7001", 1,
        [](GroupNode& g) {
          for (ServerInfo& s : g.servers) {
            s.role = s.addr == "127.0.0.1:7001" ? ServerRole::kMaster
                                                : ServerRole::kSlave;
          }
          return absl::OkStatus();
        },
        o);
  }

  std::string Master() {
    auto g = topology_->GetGroup(1);
    return g.ok() && g->master() != nullptr ? g->master()->addr : "";
  }

  std::unique_ptr<coord::FaultInjectionCoordinator> fault_;
  std::unique_ptr<Coordinator> other_;
  std::unique_ptr<Topology> topology_;
  std::unique_ptr<Election> election_;
};

TEST_F(AgentFencedWriteTest, TheLeaderWritesAndPublishesAnAction) {
  auto r = Promote();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Master(), "127.0.0.1:7001");
  auto actions = topology_->Actions();
  ASSERT_TRUE(actions.ok());
  ASSERT_FALSE(actions->empty());
  EXPECT_EQ(actions->back().type, "server_failover");
}

TEST_F(AgentFencedWriteTest,
       SessionLostBetweenTheCheckAndTheWriteWritesNothing) {
  // The leader passes its IsLeader() check, then its node goes (as with a
  // session that expires mid-failover) before the transaction lands.
  const std::string node = election_->node_path();
  fault_->SetFilter([&](std::string_view op, std::string_view) {
    if (op == "multi") (void)other_->Delete(node, Coordinator::kAnyVersion);
    return absl::OkStatus();
  });
  auto r = Promote();
  fault_->SetFilter(nullptr);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Master(), "127.0.0.1:7000");
  auto lock = other_->Exists("/reborn/p/lock");
  ASSERT_TRUE(lock.ok());
  EXPECT_FALSE(*lock);
}

TEST_F(AgentFencedWriteTest, ANonLeaderDoesNotWrite) {
  auto* memory = dynamic_cast<coord::MemoryCoordinator*>(fault_->base());
  ASSERT_NE(memory, nullptr);
  memory->SetPartitionedForTest(true);
  auto r = Promote();
  memory->SetPartitionedForTest(false);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Master(), "127.0.0.1:7000");
}

TEST_F(AgentFencedWriteTest, AGroupWithoutAnEligibleReplicaStaysDownAndSaysSo) {
  auto g = topology_->GetGroup(1);
  ASSERT_TRUE(g.ok());
  // Nothing listens on ports 1 and 2.
  g->servers = {{"127.0.0.1:1", ServerRole::kMaster, ServerState::kOnline},
                {"127.0.0.1:2", ServerRole::kSlave, ServerState::kOnline}};
  ASSERT_TRUE(topology_->WriteGroup(*g).ok());
  HaOptions o;
  o.check_interval = absl::Milliseconds(10);
  o.down_after = absl::ZeroDuration();
  o.quorum = 1;
  o.store_timeout = absl::Milliseconds(100);
  HaMonitor monitor(topology_.get(), election_.get(), o);
  EXPECT_TRUE(monitor.RunOnce());
  EXPECT_TRUE(monitor.RunOnce());
  auto status = monitor.Status();
  ASSERT_EQ(status["groups"].size(), 1u);
  EXPECT_EQ(status["groups"][0]["state"], "down");
  EXPECT_NE(status["groups"][0]["message"].get<std::string>().find(
                "no eligible replica"),
            std::string::npos)
      << status.dump();
  EXPECT_EQ(Master(), "127.0.0.1:1");
  EXPECT_TRUE(status["failovers"].empty());
}

TEST_F(AgentFencedWriteTest, WithoutQuorumTheLeaderWaitsForASecondOpinion) {
  auto g = topology_->GetGroup(1);
  ASSERT_TRUE(g.ok());
  g->servers = {{"127.0.0.1:1", ServerRole::kMaster, ServerState::kOnline}};
  ASSERT_TRUE(topology_->WriteGroup(*g).ok());
  HaOptions o;
  o.down_after = absl::ZeroDuration();
  o.quorum = 2;
  o.store_timeout = absl::Milliseconds(100);
  HaMonitor monitor(topology_.get(), election_.get(), o);
  EXPECT_TRUE(monitor.RunOnce());  // one failed check is not enough
  EXPECT_EQ(monitor.Status()["groups"][0]["state"], "suspect");
  EXPECT_TRUE(monitor.RunOnce());
  auto status = monitor.Status();
  EXPECT_NE(status["groups"][0]["message"].get<std::string>().find(
                "1 of 2 agents agree"),
            std::string::npos)
      << status.dump();
  // Our view is published for the other agents.
  EXPECT_EQ(status["down_view"], nlohmann::json({"127.0.0.1:1"}));
}

}  // namespace
}  // namespace reborn::agent
