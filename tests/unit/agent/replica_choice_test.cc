#include "agent/replica_choice.h"

#include "gtest/gtest.h"

namespace reborn::agent {
namespace {

const absl::Time kFailed = absl::FromUnixSeconds(1000);
const absl::Duration kGrace = absl::Seconds(2);

ReplicaCandidate Replica(std::string addr, int64_t offset) {
  ReplicaCandidate c;
  c.addr = std::move(addr);
  c.online = true;
  c.health.reachable = true;
  c.health.offset = offset;
  c.health.master = "10.0.0.1:6380";
  c.last_in_sync = kFailed - absl::Seconds(1);
  return c;
}

TEST(AgentReplicaChoiceTest, PicksTheHighestOffset) {
  auto r = ChooseReplica(
      {Replica("a:1", 100), Replica("b:1", 300), Replica("c:1", 200)}, kFailed,
      kGrace);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "b:1");
}

TEST(AgentReplicaChoiceTest, TiesKeepTheGroupOrder) {
  auto r =
      ChooseReplica({Replica("a:1", 5), Replica("b:1", 5)}, kFailed, kGrace);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "a:1");
}

TEST(AgentReplicaChoiceTest, SkipsUnreachableOfflineAndStaleReplicas) {
  ReplicaCandidate down = Replica("down:1", 900);
  down.health.reachable = false;
  ReplicaCandidate offline = Replica("offline:1", 800);
  offline.online = false;
  ReplicaCandidate stale = Replica("stale:1", 700);
  stale.last_in_sync = kFailed - absl::Seconds(30);  // lagging or cut off
  auto r = ChooseReplica({down, offline, stale, Replica("ok:1", 1)}, kFailed,
                         kGrace);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "ok:1");
}

TEST(AgentReplicaChoiceTest, AReplicaPromotedByAnUnfinishedFailoverIsEligible) {
  ReplicaCandidate promoted = Replica("p:1", 50);
  promoted.health.is_master = true;
  promoted.last_in_sync = absl::InfinitePast();
  auto r = ChooseReplica({promoted, Replica("q:1", 10)}, kFailed, kGrace);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "p:1");
}

TEST(AgentReplicaChoiceTest, NoEligibleReplicaSaysWhy) {
  ReplicaCandidate stale = Replica("stale:1", 7);
  stale.last_in_sync = absl::InfinitePast();
  auto r = ChooseReplica({stale}, kFailed, kGrace);
  ASSERT_TRUE(absl::IsNotFound(r.status()));
  EXPECT_NE(r.status().message().find("stale:1: not in sync"),
            std::string::npos);
  EXPECT_TRUE(absl::IsNotFound(ChooseReplica({}, kFailed, kGrace).status()));
}

}  // namespace
}  // namespace reborn::agent
