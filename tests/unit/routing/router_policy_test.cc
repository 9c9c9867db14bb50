// The routing policy reborn-proxy and the Client share: split plans and
// their merge, hold / pre-move decisions, admission and error texts.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "reborn/router.h"
#include "reborn/slot.h"
#include "reborn/slot_table.h"
#include "routing/merge.h"

namespace reborn {
namespace {

using Args = std::vector<std::string>;

// Two keys per slot of interest: {x} and {z} share no slot with {y}.
constexpr const char* kX1 = "{x}1";
constexpr const char* kX2 = "{x}2";
constexpr const char* kY1 = "{y}1";
constexpr const char* kZ1 = "{z}1";

// Group 1 serves every slot but those of {y} (group 2); the slot of {z} is
// in `z_state`, moving from group 2 to group 1.
std::shared_ptr<const SlotTable> Table(SlotState z_state) {
  std::vector<TableGroup> groups = {
      {1, "127.0.0.1:7001", {"127.0.0.1:7101"}},
      {2, "127.0.0.1:7002", {}},
  };
  std::array<TableSlot, kSlotCount> slots{};
  for (TableSlot& s : slots) s = TableSlot{1, SlotState::kOnline, 0, 0};
  slots[SlotOf(kY1)].group_id = 2;
  slots[SlotOf(kZ1)] = TableSlot{1, z_state, 2, 1};
  auto table = SlotTable::Create(groups, slots, 1);
  EXPECT_TRUE(table.ok()) << table.status();
  return *table;
}

TEST(RouterPolicyTest, KeysUsedHaveDistinctSlots) {
  EXPECT_EQ(SlotOf(kX1), SlotOf(kX2));
  EXPECT_NE(SlotOf(kX1), SlotOf(kY1));
  EXPECT_NE(SlotOf(kX1), SlotOf(kZ1));
  EXPECT_NE(SlotOf(kY1), SlotOf(kZ1));
}

TEST(RouterPolicyTest, SplitCommandsAndTheirMerge) {
  EXPECT_EQ(Router::SplitMergeOf("MGET"), SplitMerge::kMget);
  EXPECT_EQ(Router::SplitMergeOf("mset"), SplitMerge::kOk);
  for (const char* cmd : {"del", "UNLINK", "exists", "Touch"}) {
    EXPECT_EQ(Router::SplitMergeOf(cmd), SplitMerge::kSum) << cmd;
  }
  for (const char* cmd : {"get", "msetnx", "rename", "keys"}) {
    EXPECT_EQ(Router::SplitMergeOf(cmd), SplitMerge::kNone) << cmd;
  }
}

TEST(RouterPolicyTest, WithoutTableOnePartPerSlotInFirstSeenOrder) {
  Args args = {"MGET", kY1, kX1, kY1, kX2};
  auto plan = Router::PlanSplit(args, nullptr, true);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->merge, SplitMerge::kMget);
  EXPECT_EQ(plan->key_count, 4u);
  ASSERT_EQ(plan->parts.size(), 2u);
  EXPECT_EQ(plan->parts[0].slot, SlotOf(kY1));
  EXPECT_EQ(plan->parts[0].keys, (std::vector<size_t>{0, 2}));
  EXPECT_EQ(plan->parts[1].slot, SlotOf(kX1));
  EXPECT_EQ(plan->parts[1].keys, (std::vector<size_t>{1, 3}));
  EXPECT_EQ(Router::PartCommand(args, *plan, 1), (Args{"MGET", kX1, kX2}));
}

TEST(RouterPolicyTest, OnlineSlotsOfOneMasterShareAPart) {
  auto table = Table(SlotState::kOnline);
  Args args = {"DEL", kX1, kZ1, kX2};
  auto plan = Router::PlanSplit(args, table.get(), true);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // One server: the command goes unchanged.
  ASSERT_EQ(plan->parts.size(), 1u);
  EXPECT_EQ(Router::PartCommand(args, *plan, 0), args);
  // Reads from replicas: per slot.
  plan = Router::PlanSplit(args, table.get(), false);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->parts.size(), 2u);
  // The other group's key is a part of its own.
  plan = Router::PlanSplit({"DEL", kX1, kY1, kZ1}, table.get(), true);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->parts.size(), 2u);
  EXPECT_EQ(plan->parts[0].keys, (std::vector<size_t>{0, 2}));
  EXPECT_EQ(plan->parts[1].keys, (std::vector<size_t>{1}));
}

TEST(RouterPolicyTest, MigratingSlotsAreNeverMerged) {
  for (SlotState state : {SlotState::kPreMigrate, SlotState::kMigrate}) {
    auto table = Table(state);
    auto plan = Router::PlanSplit({"EXISTS", kX1, kZ1}, table.get(), true);
    ASSERT_TRUE(plan.ok());
    ASSERT_EQ(plan->parts.size(), 2u);
    EXPECT_EQ(plan->parts[1].slot, SlotOf(kZ1));
  }
}

TEST(RouterPolicyTest, MsetPartsCarryTheirValues) {
  Args args = {"MSET", kX1, "1", kY1, "2", kX2, "3"};
  auto plan = Router::PlanSplit(args, nullptr, false);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->merge, SplitMerge::kOk);
  EXPECT_EQ(plan->args_per_key, 2u);
  ASSERT_EQ(plan->parts.size(), 2u);
  EXPECT_EQ(Router::PartCommand(args, *plan, 0),
            (Args{"MSET", kX1, "1", kX2, "3"}));
  EXPECT_EQ(Router::PartCommand(args, *plan, 1), (Args{"MSET", kY1, "2"}));
}

TEST(RouterPolicyTest, SplitArityErrorsAreRedisTexts) {
  for (const Args& args :
       {Args{"MSET", "k"}, Args{"mset", "k", "v", "k2"}, Args{"MGET"}}) {
    auto plan = Router::PlanSplit(args, nullptr, true);
    ASSERT_FALSE(plan.ok());
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
    std::string name = args[0] == "MGET" ? "mget" : "mset";
    EXPECT_EQ(plan.status().message(),
              "ERR wrong number of arguments for '" + name + "' command");
  }
  EXPECT_FALSE(Router::PlanSplit({"GET", "k"}, nullptr, true).ok());
}

TEST(RouterPolicyTest, MergeSplitFollowsThePlan) {
  Args args = {"MGET", kY1, kX1, kY1};
  auto plan = Router::PlanSplit(args, nullptr, false);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(routing::MergeSplit(
                *plan, {"*2\r\n$1\r\na\r\n$-1\r\n", "*1\r\n$1\r\nb\r\n"}),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$-1\r\n");
  // The first error among the parts.
  EXPECT_EQ(routing::MergeSplit(*plan, {"*2\r\n$-1\r\n$-1\r\n", "-ERR x\r\n"}),
            "-ERR x\r\n");
  EXPECT_EQ(routing::MergeSplit(*plan, {"*1\r\n$-1\r\n", "*1\r\n$-1\r\n"}),
            "-ERR unexpected MGET reply from a backend\r\n");
  plan = Router::PlanSplit({"DEL", kY1, kX1}, nullptr, false);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(routing::MergeSplit(*plan, {":1\r\n", ":2\r\n"}), ":3\r\n");
  plan = Router::PlanSplit({"MSET", kY1, "v", kX1, "w"}, nullptr, false);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(routing::MergeSplit(*plan, {"+OK\r\n", "+OK\r\n"}), "+OK\r\n");
  EXPECT_EQ(routing::MergeSplit(*plan, {"+OK\r\n", "-OOM no\r\n"}),
            "-OOM no\r\n");
}

TEST(RouterPolicyTest, HoldWhilePreMigrate) {
  auto table = Table(SlotState::kPreMigrate);
  auto route = Router::RouteSlot(*table, SlotOf(kZ1));
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(Router::NextStep(*route, true), RouteStep::kHold);
  EXPECT_EQ(Router::NextStep(*route, false), RouteStep::kHold);
  EXPECT_EQ(std::string(Router::kHoldTimeoutError),
            "TRYAGAIN slot is being migrated, try again");
}

TEST(RouterPolicyTest, PreMoveKeysWhileMigrating) {
  auto table = Table(SlotState::kMigrate);
  // Reads stay on the master while the slot migrates.
  auto route = Router::RouteSlot(*table, SlotOf(kZ1), true, 0);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->addr, "127.0.0.1:7001");
  EXPECT_EQ(route->migrate_from_addr, "127.0.0.1:7002");
  EXPECT_EQ(Router::NextStep(*route, true), RouteStep::kPreMove);
  // Nothing to move (SPUBLISH, keyless): sent as it is.
  EXPECT_EQ(Router::NextStep(*route, false), RouteStep::kSend);
  EXPECT_EQ(Router::PreMoveCommand(*route, kZ1),
            (Args{"SLOTSMGRTTAGONE", "127.0.0.1", "7001", "3000", kZ1}));
  EXPECT_EQ(Router::MoveKeys({"SET", kZ1, "v"}), (Args{kZ1}));
  EXPECT_TRUE(Router::MoveKeys({"SPUBLISH", kZ1, "m"}).empty());
  // Online slots: plain sends, and replicas for reads.
  route = Router::RouteSlot(*table, SlotOf(kX1), true, 0);
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->addr, "127.0.0.1:7101");
  EXPECT_EQ(Router::NextStep(*route, true), RouteStep::kSend);
}

TEST(RouterPolicyTest, CrossSlotIsRedisClusterText) {
  auto slot = Router::CommandSlot({"RENAME", kX1, kY1});
  ASSERT_FALSE(slot.ok());
  EXPECT_EQ(slot.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(slot.status().message(),
            "CROSSSLOT Keys in request don't hash to the same slot");
  EXPECT_TRUE(Router::CommandSlot({"RENAME", kX1, kX2}).ok());
  EXPECT_EQ(std::string(Router::kNoTopologyError),
            "CLUSTERDOWN The cluster is down");
}

TEST(RouterPolicyTest, AdmitUsesRedisTextsThenRefusals) {
  auto admit = Router::Admit({"NOSUCH", "a"}, RouterFace::kClient);
  EXPECT_EQ(admit.message(),
            "ERR unknown command 'NOSUCH', with args beginning with: 'a' ");
  admit = Router::Admit({"GET"}, RouterFace::kProxy);
  EXPECT_EQ(admit.message(), "ERR wrong number of arguments for 'get' command");
  EXPECT_TRUE(Router::Admit({"GET", "k"}, RouterFace::kClient).ok());
  EXPECT_EQ(Router::Admit({"SLOTSINFO"}, RouterFace::kProxy).message(),
            "ERR SLOTSINFO is not supported by reborn-proxy: slot migration "
            "is driven by reborn-config");
  EXPECT_EQ(Router::Admit({"SLOTSINFO"}, RouterFace::kClient).message(),
            "ERR SLOTSINFO is not supported by reborn::Client: slot migration "
            "is driven by reborn-config");
  EXPECT_EQ(Router::Admit({"COPY", "a", "b", "DB", "3"}, RouterFace::kProxy)
                .message(),
            "ERR COPY ... DB is not supported by reborn-proxy: the proxy "
            "serves database 0 only");
  EXPECT_TRUE(
      Router::Admit({"COPY", "a", "b", "DB", "0"}, RouterFace::kClient).ok());
  // The proxy keeps Pub/Sub connections; the Client sends PUBLISH only.
  EXPECT_TRUE(Router::Admit({"SUBSCRIBE", "c"}, RouterFace::kProxy).ok());
  EXPECT_TRUE(Router::Admit({"PUBLISH", "c", "m"}, RouterFace::kClient).ok());
  EXPECT_EQ(Router::Admit({"SUBSCRIBE", "c"}, RouterFace::kClient).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RouterPolicyTest, ClusterIsKnownButAnsweredByTheFrontEnds) {
  // In the command table (qdb-server answers it as a non-cluster Redis),
  // never forwarded: the proxy answers it itself, the Client KEYSLOT only.
  EXPECT_EQ(Router::Admit({"CLUSTER"}, RouterFace::kProxy).message(),
            "ERR wrong number of arguments for 'cluster' command");
  EXPECT_EQ(Router::Admit({"CLUSTER", "INFO"}, RouterFace::kProxy).message(),
            "ERR CLUSTER is not supported by reborn-proxy: run it outside "
            "MULTI (the proxy answers CLUSTER itself)");
  EXPECT_EQ(Router::Admit({"CLUSTER", "NODES"}, RouterFace::kClient).message(),
            "ERR CLUSTER is not supported by reborn::Client: the client "
            "answers CLUSTER KEYSLOT only");
}

}  // namespace
}  // namespace reborn
