#include "reborn/router.h"

#include <gtest/gtest.h>

#include "reborn/slot_table.h"

namespace reborn {
namespace {

std::shared_ptr<const SlotTable> TwoGroups() {
  auto table = SlotTable::FromJson(R"({
    "groups": [{"id": 1, "master": "127.0.0.1:7001", "replicas": ["127.0.0.1:7101"]},
               {"id": 2, "master": "127.0.0.1:7002"}],
    "slots": [{"range": "0-511", "group": 1}, {"range": "512-1023", "group": 2}]})");
  EXPECT_TRUE(table.ok()) << table.status();
  return *table;
}

TEST(SlotTableTest, FromJsonAssignsRanges) {
  auto t = TwoGroups();
  EXPECT_EQ(t->slot(0).group_id, 1);
  EXPECT_EQ(t->slot(511).group_id, 1);
  EXPECT_EQ(t->slot(512).group_id, 2);
  EXPECT_EQ(t->slot(1023).state, SlotState::kOnline);
  EXPECT_EQ(t->group(2)->master, "127.0.0.1:7002");
  EXPECT_EQ(t->group(3), nullptr);
  EXPECT_EQ(t->ServingGroups(), (std::vector<int>{1, 2}));
}

TEST(SlotTableTest, AddressListSplitsEvenly) {
  auto t = SlotTable::FromAddressList("a:1,b:2,c:3");
  ASSERT_TRUE(t.ok());
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < kSlotCount; ++i) counts[(*t)->slot(i).group_id]++;
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[1] + counts[2] + counts[3], kSlotCount);
  EXPECT_GE(counts[1], 341);
  EXPECT_FALSE(SlotTable::FromAddressList("nohostport").ok());
  EXPECT_FALSE(SlotTable::FromAddressList("").ok());
}

TEST(SlotTableTest, RejectsUnknownGroupAndBadRanges) {
  EXPECT_FALSE(SlotTable::FromJson(R"({"groups":[{"id":1,"master":"a:1"}],
      "slots":[{"range":"0-10","group":9}]})")
                   .ok());
  EXPECT_FALSE(SlotTable::FromJson(R"({"groups":[{"id":1,"master":"a:1"}],
      "slots":[{"range":"5-1024","group":1}]})")
                   .ok());
  EXPECT_FALSE(SlotTable::FromJson("not json").ok());
  EXPECT_FALSE(SlotTable::FromJson(R"({"groups":[{"id":1},{"id":1}]})").ok());
}

TEST(SlotTableTest, ParsesOneNodeOfEachKind) {
  auto slot = SlotTable::ParseSlotNode(
      R"({"id":5,"group_id":2,"state":"pre_migrate","migrate":{"from":1,"to":2}})");
  ASSERT_TRUE(slot.ok()) << slot.status();
  EXPECT_EQ(slot->group_id, 2);
  EXPECT_EQ(slot->state, SlotState::kPreMigrate);
  EXPECT_EQ(slot->migrate_from, 1);
  EXPECT_EQ(slot->migrate_to, 2);
  // Unassigned: no node, or a node without a group.
  EXPECT_EQ(SlotTable::ParseSlotNode("")->state, SlotState::kOffline);
  EXPECT_EQ(SlotTable::ParseSlotNode(R"({"id":5,"state":"online"})")->state,
            SlotState::kOffline);
  EXPECT_FALSE(SlotTable::ParseSlotNode("{not json").ok());
  EXPECT_FALSE(SlotTable::ParseSlotNode(R"({"group_id":1,"state":"x"})").ok());

  auto group = SlotTable::ParseGroupNode(
      R"({"id":3,"servers":[{"addr":"h:1"},{"addr":"h:2","role":"slave"}]})");
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_EQ(group->id, 3);
  EXPECT_EQ(group->master, "h:1");
  EXPECT_EQ(group->replicas, std::vector<std::string>{"h:2"});
  EXPECT_FALSE(SlotTable::ParseGroupNode(R"({"servers":[]})").ok());
}

TEST(SlotTableTest, FromTopologyNodesReadsCoordinatorLayout) {
  std::vector<std::string> groups = {
      R"({"id":1,"servers":[{"addr":"h:1","role":"master","state":"online"},
                            {"addr":"h:2","role":"slave","state":"online"},
                            {"addr":"h:3","role":"slave","state":"offline"}]})",
      R"({"id":2,"servers":[{"addr":"h:4","role":"master"}]})"};
  std::vector<std::string> slots(kSlotCount);
  slots[0] = R"({"id":0,"group_id":1,"state":"online"})";
  slots[1] =
      R"({"id":1,"group_id":2,"state":"migrate","migrate":{"from":1,"to":2}})";
  auto t = SlotTable::FromTopologyNodes(groups, slots, 7);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->version(), 7u);
  EXPECT_EQ((*t)->group(1)->replicas, std::vector<std::string>{"h:2"});
  EXPECT_EQ((*t)->slot(2).state, SlotState::kOffline);
  auto r = Router::RouteSlot(**t, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->addr, "h:4");
  EXPECT_EQ(r->migrate_from_addr, "h:1");
  EXPECT_EQ(r->state, SlotState::kMigrate);
  EXPECT_FALSE(Router::RouteSlot(**t, 2).ok());
}

TEST(RouterTest, SingleKeyUsesSlotOfKey) {
  auto slot = Router::CommandSlot({"GET", "foo"});
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(*slot, SlotOf("foo"));
  EXPECT_EQ(*Router::CommandSlot({"PING"}), -1);
}

TEST(RouterTest, HashTagsShareASlot) {
  auto slot = Router::CommandSlot({"MSET", "{user}a", "1", "{user}b", "2"});
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(*slot, SlotOf("user"));
  // An empty tag hashes the whole key.
  EXPECT_EQ(*Router::CommandSlot({"GET", "{}x"}), SlotOf("{}x"));
}

TEST(RouterTest, CrossSlotIsAnError) {
  auto slot = Router::CommandSlot({"SINTER", "a", "b", "c", "d"});
  ASSERT_FALSE(slot.ok());
  EXPECT_EQ(slot.status().message(),
            "CROSSSLOT Keys in request don't hash to the same slot");
}

TEST(RouterTest, NumkeysCommandsUseOnlyTheirKeys) {
  // ZUNIONSTORE dest numkeys k1 k2 WEIGHTS ...: all on {t}.
  auto slot = Router::CommandSlot(
      {"ZUNIONSTORE", "{t}d", "2", "{t}a", "{t}b", "WEIGHTS", "1", "2"});
  ASSERT_TRUE(slot.ok()) << slot.status();
  EXPECT_EQ(*slot, SlotOf("t"));
}

TEST(RouterTest, UnknownAndArityErrorsUseRedisText) {
  auto unknown = Router::CommandSlot({"NOSUCH", "x"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown command"),
            std::string::npos);
  auto arity = Router::CommandSlot({"GET"});
  ASSERT_FALSE(arity.ok());
  EXPECT_NE(arity.status().message().find("wrong number of arguments"),
            std::string::npos);
}

TEST(RouterTest, RoutesToMasterOrReplica) {
  auto t = TwoGroups();
  int slot = 0;
  auto master = Router::RouteSlot(*t, slot);
  ASSERT_TRUE(master.ok());
  EXPECT_EQ(master->addr, "127.0.0.1:7001");
  auto replica = Router::RouteSlot(*t, slot, /*read_from_replica=*/true);
  EXPECT_EQ(replica->addr, "127.0.0.1:7101");
  // Group 2 has no replica: reads stay on the master.
  EXPECT_EQ(Router::RouteSlot(*t, 600, true)->addr, "127.0.0.1:7002");
  // Keyless commands go to the lowest serving group.
  EXPECT_EQ(Router::RouteCommand(*t, {"PING"})->group_id, 1);
}

TEST(StaticSourceTest, PublishNotifiesListeners) {
  auto source = MakeStaticSource(TwoGroups());
  int calls = 0;
  uint64_t seen = 0;
  int id = source->Subscribe([&](std::shared_ptr<const SlotTable> t, bool) {
    ++calls;
    seen = t->version();
  });
  EXPECT_EQ(calls, 1);
  auto next = SlotTable::FromAddressList("x:1");
  source->Publish(*next);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(source->Current()->group(1)->master, "x:1");
  source->SetOnline(false);
  EXPECT_FALSE(source->online());
  source->Unsubscribe(id);
  source->SetOnline(true);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(seen, 1u);
}

}  // namespace
}  // namespace reborn
