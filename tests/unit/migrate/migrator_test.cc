// Migrator bookkeeping on a memory:// coordinator (no stores needed): task
// JSON, overlap checks, cancel of an idle task, ownership, rebalance tasks.
// Moving keys is covered by tests/integration/migrate.

#include "reborn/migrator.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reborn/coordinator.h"

namespace reborn {
namespace {

using ::testing::HasSubstr;

class MigratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    auto c = Coordinator::Open(
        absl::StrCat("memory://mig-", info->name(), "?session_timeout_ms=300"));
    ASSERT_TRUE(c.ok()) << c.status();
    coord_ = std::move(*c);
    topo_ = std::make_unique<Topology>(coord_.get(), "p");
    ASSERT_TRUE(topo_->InitSlots(false).ok());
    std::vector<SlotNode> slots;
    for (int gid : {1, 2}) {
      ASSERT_TRUE(topo_->CreateGroup(gid).ok());
      auto g = topo_->GetGroup(gid);
      g->servers.push_back(
          {absl::StrCat("127.0.0.1:", 1000 + gid), ServerRole::kMaster});
      ASSERT_TRUE(topo_->WriteGroup(*g).ok());
    }
    auto all = topo_->Slots();
    for (SlotNode s : *all) {
      s.group_id = 1;
      s.state = SlotState::kOnline;
      slots.push_back(s);
    }
    ASSERT_TRUE(topo_->WriteSlots(slots).ok());
  }

  std::unique_ptr<Coordinator> coord_;
  std::unique_ptr<Topology> topo_;
};

TEST(MigrationTaskCodecTest, RoundTripKeepsProgressAndOptions) {
  MigrationTask t;
  t.id = "task-0000000003";
  t.from = 10;
  t.to = 20;
  t.gid = 2;
  t.next_slot = 14;
  t.state = "running";
  t.keys_moved = 1234;
  t.options = {500, 100, 4, 25};
  t.slots_done = 4;
  t.keys_left = 99;
  t.keys_per_sec = 33;
  t.current = {{14, 7, 3}, {15, 0, 9}};
  t.owner = "h:1";
  auto d = DecodeMigrationTask(EncodeMigrationTask(t));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->next_slot, 14);
  EXPECT_EQ(d->options.rate_limit, 500);
  EXPECT_EQ(d->options.batch_keys, 100);
  EXPECT_EQ(d->options.slots_per_step, 4);
  EXPECT_EQ(d->options.delay_ms, 25);
  EXPECT_EQ(d->slots_done, 4);
  EXPECT_EQ(d->keys_left, 99);
  ASSERT_EQ(d->current.size(), 2u);
  EXPECT_EQ(d->current[1].slot, 15);
  EXPECT_EQ(d->current[0].moved, 7);
  EXPECT_EQ(d->owner, "h:1");
  EXPECT_DOUBLE_EQ(d->eta_seconds(), 3.0);
  EXPECT_FALSE(DecodeMigrationTask("{\"from\":1}").ok());
}

TEST_F(MigratorTest, CreateRefusesSlotsOfAnUnfinishedTask) {
  Migrator m(topo_.get());
  auto a = m.Create(0, 99, 2);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = m.Create(50, 60, 2);
  EXPECT_TRUE(absl::IsFailedPrecondition(b.status()));
  EXPECT_THAT(b.status().message(), HasSubstr(*a));
  EXPECT_TRUE(m.Create(100, 120, 2).ok());  // disjoint
  // A cancelled task no longer holds its slots.
  ASSERT_TRUE(m.Cancel(*a).ok());
  EXPECT_TRUE(m.Create(50, 60, 2).ok());
}

TEST_F(MigratorTest, CancelOfAnIdleTaskMarksItCancelledAndResumeSkipsIt) {
  Migrator m(topo_.get());
  auto id = m.Create(0, 9, 2);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(m.Cancel(*id).ok());
  auto t = m.GetTask(*id);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->state, "cancelled");
  auto ids = m.Unfinished();
  ASSERT_TRUE(ids.ok());
  EXPECT_TRUE(ids->empty());
  EXPECT_TRUE(m.ResumeAll().ok());  // nothing to run
  EXPECT_TRUE(absl::IsNotFound(m.Cancel("task-9")));
}

TEST_F(MigratorTest, RunWaitsForAnotherRunnerThenGivesUp) {
  MigrateOptions o;
  o.owner_wait = absl::Milliseconds(300);
  Migrator m(topo_.get(), o);
  auto id = m.Create(0, 9, 2);
  ASSERT_TRUE(id.ok());
  // Another (live) runner owns the task.
  ASSERT_TRUE(coord_
                  ->Create(topo_->MigrationsPath() + "/" + *id + "/owner",
                           "elsewhere:1", CreateMode::kEphemeral)
                  .ok());
  absl::Time start = absl::Now();
  absl::Status s = m.Run(*id);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("elsewhere:1"));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  // A cancel while it is owned leaves the state to the runner.
  ASSERT_TRUE(m.Cancel(*id).ok());
  EXPECT_EQ(m.GetTask(*id)->state, "pending");
}

TEST_F(MigratorTest, RebalancePlanBecomesOneTaskPerMove) {
  Migrator m(topo_.get());
  auto plan = m.Plan({});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->slots_moved, 512);
  auto ids = m.CreatePlan(*plan, {1000, 0, 0});
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 1u);
  auto t = m.GetTask((*ids)[0]);
  EXPECT_EQ(t->from, 512);
  EXPECT_EQ(t->to, 1023);
  EXPECT_EQ(t->gid, 2);
  EXPECT_EQ(t->options.rate_limit, 1000);
}

}  // namespace
}  // namespace reborn
