// The rebalance planner: quotas by weight, minimal moves, contiguous ranges.

#include "reborn/rebalance.h"

#include <map>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reborn/slot.h"

namespace reborn {
namespace {

using ::testing::HasSubstr;

GroupNode Group(int id, bool master = true) {
  GroupNode g;
  g.id = id;
  if (master)
    g.servers.push_back(
        {"127.0.0.1:1", ServerRole::kMaster, ServerState::kOnline});
  return g;
}

// owners[i] = group of slot i.
std::vector<SlotNode> Slots(const std::vector<int>& owners) {
  std::vector<SlotNode> out;
  for (size_t i = 0; i < owners.size(); ++i) {
    SlotNode s;
    s.id = static_cast<int>(i);
    s.group_id = owners[i];
    s.state = SlotState::kOnline;
    out.push_back(s);
  }
  return out;
}

std::vector<int> Ranges(std::vector<std::pair<int, int>> ranges) {
  // (gid, count) in slot order
  std::vector<int> owners;
  for (auto [gid, n] : ranges) owners.insert(owners.end(), n, gid);
  return owners;
}

// Applies the plan and checks it reaches the quotas it states.
std::map<int, int> Apply(std::vector<SlotNode> slots, const RebalancePlan& p) {
  for (const RebalanceMove& m : p.moves) {
    for (int i = m.from; i <= m.to; ++i) {
      EXPECT_EQ(slots[i].group_id, m.source) << "slot " << i;
      slots[i].group_id = m.target;
    }
  }
  std::map<int, int> count;
  for (const SlotNode& s : slots) count[s.group_id]++;
  return count;
}

TEST(RebalanceTest, EvenClusterNeedsNoMoves) {
  auto slots = Slots(Ranges({{1, 512}, {2, 512}}));
  auto p = PlanRebalance(slots, {Group(1), Group(2)});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->moves.empty());
  EXPECT_EQ(p->slots_moved, 0);
  EXPECT_EQ(p->after, (std::map<int, int>{{1, 512}, {2, 512}}));
}

TEST(RebalanceTest, UnevenClusterMovesOnlyTheSurplus) {
  auto slots = Slots(Ranges({{1, 700}, {2, 324}}));
  auto p = PlanRebalance(slots, {Group(1), Group(2)});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->slots_moved, 188);
  ASSERT_EQ(p->moves.size(), 1u);
  EXPECT_EQ(p->moves[0].source, 1);
  EXPECT_EQ(p->moves[0].target, 2);
  EXPECT_EQ(p->moves[0].from, 512);  // the donor's highest slots
  EXPECT_EQ(p->moves[0].to, 699);
  EXPECT_EQ(Apply(slots, *p), (std::map<int, int>{{1, 512}, {2, 512}}));
}

TEST(RebalanceTest, NewEmptyGroupGetsItsShareFromEveryDonor) {
  auto slots = Slots(Ranges({{1, 512}, {2, 512}}));
  auto p = PlanRebalance(slots, {Group(1), Group(2), Group(3)});
  ASSERT_TRUE(p.ok()) << p.status();
  // 1024 / 3 = 341.33: the extra slot stays with a group that has it.
  EXPECT_EQ(p->after, (std::map<int, int>{{1, 342}, {2, 341}, {3, 341}}));
  EXPECT_EQ(p->slots_moved, 341);
  ASSERT_EQ(p->moves.size(), 2u);
  EXPECT_EQ(p->moves[0].source, 1);
  EXPECT_EQ(p->moves[0].target, 3);
  EXPECT_EQ(p->moves[1].source, 2);
  EXPECT_EQ(p->moves[1].target, 3);
  EXPECT_EQ(Apply(slots, *p), p->after);
}

TEST(RebalanceTest, WeightsGiveProportionalShares) {
  auto slots = Slots(Ranges({{1, 1024}}));
  auto p = PlanRebalance(slots, {Group(1), Group(2), Group(3)},
                         {{1, 1}, {2, 2}, {3, 1}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->after, (std::map<int, int>{{1, 256}, {2, 512}, {3, 256}}));
  EXPECT_EQ(p->slots_moved, 768);
  EXPECT_EQ(Apply(slots, *p), p->after);
  // Contiguous: group 2 gets one range, group 3 the next.
  ASSERT_EQ(p->moves.size(), 2u);
  EXPECT_EQ(p->moves[0].count(), 512);
  EXPECT_EQ(p->moves[1].count(), 256);
}

TEST(RebalanceTest, RemovedGroupWithWeightZeroIsDrained) {
  auto slots = Slots(Ranges({{1, 341}, {2, 341}, {3, 342}}));
  auto p = PlanRebalance(slots, {Group(1), Group(2), Group(3)}, {{3, 0}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->after, (std::map<int, int>{{1, 512}, {2, 512}, {3, 0}}));
  EXPECT_EQ(p->slots_moved, 342);
  EXPECT_EQ(Apply(slots, *p), (std::map<int, int>{{1, 512}, {2, 512}}));
  for (const RebalanceMove& m : p->moves) EXPECT_EQ(m.source, 3);
}

TEST(RebalanceTest, GroupWithoutServersGetsNoSlots) {
  auto slots = Slots(Ranges({{1, 1024}}));
  auto p = PlanRebalance(slots, {Group(1), Group(2), Group(3, false)});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->after, (std::map<int, int>{{1, 512}, {2, 512}, {3, 0}}));
}

TEST(RebalanceTest, RefusesBadInput) {
  auto slots = Slots(Ranges({{1, 1024}}));
  EXPECT_THAT(PlanRebalance(slots, {Group(1)}, {{9, 1}}).status().message(),
              HasSubstr("does not exist"));
  EXPECT_FALSE(PlanRebalance(slots, {Group(1)}, {{1, -1}}).ok());
  EXPECT_FALSE(PlanRebalance(slots, {Group(1)}, {{1, 0}}).ok());
  auto migrating = slots;
  migrating[5].state = SlotState::kMigrate;
  EXPECT_THAT(PlanRebalance(migrating, {Group(1)}).status().message(),
              HasSubstr("slot 5 is migrating"));
  auto offline = slots;
  offline[7].state = SlotState::kOffline;
  EXPECT_THAT(PlanRebalance(offline, {Group(1)}).status().message(),
              HasSubstr("slot 7 is offline"));
  auto orphan = Slots(Ranges({{1, 1000}, {2, 24}}));
  EXPECT_THAT(
      PlanRebalance(orphan, {Group(1), Group(2, false)}).status().message(),
      HasSubstr("no master"));
}

TEST(RebalanceTest, ParseWeights) {
  auto w = ParseWeights("1=2,3=0.5");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, (std::map<int, double>{{1, 2}, {3, 0.5}}));
  EXPECT_TRUE(ParseWeights("")->empty());
  EXPECT_FALSE(ParseWeights("1:2").ok());
  EXPECT_FALSE(ParseWeights("x=1").ok());
}

}  // namespace
}  // namespace reborn
