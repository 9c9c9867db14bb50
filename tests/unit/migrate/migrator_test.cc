// Migrator bookkeeping on a memory:// coordinator (no stores needed): task
// JSON, overlap checks, cancel of an idle task, ownership, rebalance tasks;
// and the 2PC rounds of a run between two in-process stores. Moving keys
// under load is covered by tests/integration/migrate.

#include "reborn/migrator.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coord/fault_injection_coordinator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/sync_client.h"
#include "reborn/coordinator.h"
#include "reborn/qdb_server.h"
#include "reborn/slot.h"

namespace reborn {
namespace {

using ::testing::HasSubstr;

// Groups 1..n with the given masters, and every slot online at group 1.
absl::Status GroupsWithEverySlotOnTheFirst(
    Topology& topo, const std::vector<std::string>& masters) {
  if (absl::Status s = topo.InitSlots(false); !s.ok()) return s;
  for (size_t i = 0; i < masters.size(); ++i) {
    const int gid = static_cast<int>(i) + 1;
    if (absl::Status s = topo.CreateGroup(gid); !s.ok()) return s;
    auto g = topo.GetGroup(gid);
    if (!g.ok()) return g.status();
    g->servers.push_back({masters[i], ServerRole::kMaster});
    if (absl::Status s = topo.WriteGroup(*g); !s.ok()) return s;
  }
  auto slots = topo.Slots();
  if (!slots.ok()) return slots.status();
  for (SlotNode& s : *slots) {
    s.group_id = 1;
    s.state = SlotState::kOnline;
  }
  return topo.WriteSlots(*slots);
}

class MigratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    auto c = Coordinator::Open(
        absl::StrCat("memory://mig-", info->name(), "?session_timeout_ms=300"));
    ASSERT_TRUE(c.ok()) << c.status();
    coord_ = std::move(*c);
    topo_ = std::make_unique<Topology>(coord_.get(), "p");
    ASSERT_TRUE(GroupsWithEverySlotOnTheFirst(
                    *topo_, {"127.0.0.1:1001", "127.0.0.1:1002"})
                    .ok());
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
  t.state = MigrationState::kRunning;
  t.keys_moved = 1234;
  t.options = {500, 100, 4, absl::Milliseconds(25)};
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
  EXPECT_EQ(d->options.delay, absl::Milliseconds(25));
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
  EXPECT_EQ(t->state, MigrationState::kCancelled);
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
  EXPECT_EQ(m.GetTask(*id)->state, MigrationState::kPending);
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

// Two in-process stores (groups 1 and 2, memory engine) with keys in slots
// 0-5 at group 1; the coordinator counts the 2PC rounds (each round's
// transaction starts with the topology lock).
class MigratorRoundsTest : public ::testing::Test {
 protected:
  static constexpr int kKeysPerSlot = 20;

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    uri_ = absl::StrCat("memory://mig-rounds-", info->name(),
                        "?session_timeout_ms=300");
    auto c = Coordinator::Open(uri_);
    ASSERT_TRUE(c.ok()) << c.status();
    coord_ = std::make_unique<coord::FaultInjectionCoordinator>(std::move(*c));
    topo_ = std::make_unique<Topology>(coord_.get(), "p");
    std::vector<std::string> masters;
    for (int group = 0; group < 2; ++group) {
      auto server = QdbServer::Create(
          {"--port", "0", "--bind", "127.0.0.1", "--engine", "memory"});
      ASSERT_TRUE(server.ok()) << server.status();
      ASSERT_TRUE((*server)->Start().ok());
      masters.push_back(absl::StrCat("127.0.0.1:", (*server)->port()));
      servers_.push_back(std::move(*server));
    }
    absl::Status layout = GroupsWithEverySlotOnTheFirst(*topo_, masters);
    ASSERT_TRUE(layout.ok()) << layout;
    auto store = Store(1);
    int in_slot[6] = {};
    for (int i = 0; std::count(in_slot, in_slot + 6, kKeysPerSlot) < 6; ++i) {
      std::string key = absl::StrCat("k", i);
      int slot = SlotOf(key);
      if (slot >= 6 || in_slot[slot] == kKeysPerSlot) continue;
      ASSERT_TRUE(store.Call({"SET", key, "v"}).ok());
      in_slot[slot]++;
    }
    coord_->SetFilter([this](std::string_view op, std::string_view path) {
      if (op == "multi" && path == topo_->LockPath()) {
        ++rounds_;
        if (on_round_) on_round_(rounds_);
      }
      return absl::OkStatus();
    });
  }

  void TearDown() override {
    coord_->SetFilter(nullptr);
    for (auto& s : servers_) s->Stop();
  }

  net::SyncClient Store(int gid) {
    auto c = net::SyncClient::Connect("127.0.0.1", servers_[gid - 1]->port(),
                                      std::chrono::seconds(5), "");
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  // "state@group" of slots 0-5.
  std::vector<std::string> SlotStates() {
    std::vector<std::string> out;
    for (int i = 0; i < 6; ++i) {
      auto s = topo_->GetSlot(i);
      out.push_back(
          absl::StrCat(s->state == SlotState::kOnline ? "online" : "moving",
                       "@", s->group_id));
    }
    return out;
  }

  int64_t KeysAt(int gid) { return Store(gid).Call({"DBSIZE"})->integer; }

  std::string uri_;
  std::unique_ptr<coord::FaultInjectionCoordinator> coord_;
  std::unique_ptr<Topology> topo_;
  std::vector<std::unique_ptr<QdbServer>> servers_;
  std::atomic<int> rounds_{0};
  std::function<void(int)> on_round_;
};

TEST_F(MigratorRoundsTest, NextStepsPreMigrateRidesOnTheOnlineChange) {
  Migrator m(topo_.get());
  auto id = m.Create(0, 5, 2, TaskOptions{.slots_per_step = 2});
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(m.Run(*id).ok());
  // pre(0-1), migrate(0-1), online(0-1)+pre(2-3), migrate(2-3),
  // online(2-3)+pre(4-5), migrate(4-5), online(4-5): 7 rounds, not 9.
  EXPECT_EQ(rounds_.load(), 7);
  EXPECT_THAT(SlotStates(), ::testing::Each("online@2"));
  EXPECT_EQ(KeysAt(1), 0);
  EXPECT_EQ(KeysAt(2), 6 * kKeysPerSlot);
  EXPECT_EQ(m.GetTask(*id)->state, MigrationState::kDone);
}

TEST_F(MigratorRoundsTest, CancelAfterThePreMigrateOfTheNextStepFinishesIt) {
  Migrator m(topo_.get());
  auto id = m.Create(0, 5, 2, TaskOptions{.slots_per_step = 2});
  ASSERT_TRUE(id.ok()) << id.status();
  auto other = Coordinator::Open(uri_);
  ASSERT_TRUE(other.ok());
  // The cancel arrives with the third round: slots 0-1 go online and 2-3
  // to pre_migrate in it.
  on_round_ = [&](int round) {
    if (round != 3) return;
    EXPECT_TRUE((*other)
                    ->Create(topo_->MigrationsPath() + "/" + *id + "/cancel",
                             "", CreateMode::kPersistent)
                    .ok());
  };
  absl::Status s = m.Run(*id);
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  // Slots 2-3 were not left held in pre_migrate: they moved too.
  EXPECT_EQ(rounds_.load(), 5);
  EXPECT_THAT(SlotStates(),
              ::testing::ElementsAre("online@2", "online@2", "online@2",
                                     "online@2", "online@1", "online@1"));
  EXPECT_EQ(KeysAt(1), 2 * kKeysPerSlot);
  EXPECT_EQ(m.GetTask(*id)->state, MigrationState::kCancelled);
}

TEST_F(MigratorRoundsTest, CancelDuringAStepPreparesNothingMore) {
  Migrator m(topo_.get());
  auto id = m.Create(0, 5, 2, TaskOptions{.slots_per_step = 2});
  ASSERT_TRUE(id.ok()) << id.status();
  // Requested while the first step's keys move (after its migrate round).
  on_round_ = [&](int round) {
    if (round == 2) {
      EXPECT_TRUE(m.Cancel(*id).ok());
    }
  };
  absl::Status s = m.Run(*id);
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(rounds_.load(), 3);
  EXPECT_THAT(SlotStates(),
              ::testing::ElementsAre("online@2", "online@2", "online@1",
                                     "online@1", "online@1", "online@1"));
}

TEST_F(MigratorRoundsTest, NextSlotChangedUnderTheOnlineChangeGoesOnWithoutIt) {
  Migrator m(topo_.get());
  auto id = m.Create(0, 5, 2, TaskOptions{.slots_per_step = 2});
  ASSERT_TRUE(id.ok()) << id.status();
  auto other = Coordinator::Open(uri_);
  ASSERT_TRUE(other.ok());
  Topology operator_view(other->get(), "p");
  // An operator puts slot 2 on group 2 just before the change that would
  // take it to pre_migrate.
  on_round_ = [&](int round) {
    if (round != 3) return;
    SlotNode s = *operator_view.GetSlot(2);
    s.group_id = 2;
    EXPECT_TRUE(operator_view.WriteSlots({s}).ok());
  };
  absl::Status s = m.Run(*id);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(SlotStates(), ::testing::Each("online@2"));
  EXPECT_EQ(m.GetTask(*id)->state, MigrationState::kDone);
}

// A coordinator timeout in the middle of a step: the task says "retrying",
// never "failed", while the same runner waits, and then it finishes.
TEST_F(MigratorRoundsTest, TransientFailureRetriesWithoutLookingFailed) {
  Migrator m(topo_.get());
  auto id = m.Create(0, 5, 2, TaskOptions{.slots_per_step = 2});
  ASSERT_TRUE(id.ok()) << id.status();
  // The answer to the second round's transaction (migrate 0-1) is lost.
  coord_->SetReplyFilter([&](std::string_view op, std::string_view path) {
    return op == "multi" && path == topo_->LockPath() && rounds_.load() == 2
               ? absl::UnavailableError("operation timeout")
               : absl::OkStatus();
  });
  std::set<std::string> seen;
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    while (!finished.load()) {
      if (auto t = m.GetTask(*id); t.ok()) {
        seen.insert(std::string(MigrationStateName(t->state)));
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  absl::Status s = m.Run(*id);
  finished.store(true);
  watcher.join();
  coord_->SetReplyFilter(nullptr);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(seen.contains("retrying")) << absl::StrJoin(seen, ",");
  EXPECT_FALSE(seen.contains("failed"));
  EXPECT_THAT(SlotStates(), ::testing::Each("online@2"));
  EXPECT_EQ(KeysAt(1), 0);
  EXPECT_EQ(KeysAt(2), 6 * kKeysPerSlot);
  EXPECT_EQ(m.GetTask(*id)->state, MigrationState::kDone);
}

// The retry budget is for failures in a row: two retries allowed, three
// failures with a finished step between the first and the second still end
// in "done".
TEST_F(MigratorRoundsTest, AnAttemptThatFinishedSlotsRenewsTheRetryBudget) {
  Migrator m(topo_.get(), MigrateOptions{.transient_retries = 2});
  auto id = m.Create(0, 5, 2, TaskOptions{.slots_per_step = 2});
  ASSERT_TRUE(id.ok()) << id.status();
  // Round 2 is migrate(0-1). The retry: resync (3), migrate (4),
  // online(0-1)+pre(2-3) (5), migrate(2-3) (6). The next one fails at
  // once: its resync is round 7.
  coord_->SetFilter([&](std::string_view op, std::string_view path) {
    if (op == "multi" && path == topo_->LockPath()) {
      int round = ++rounds_;
      if (round == 2 || round == 6 || round == 7) {
        return absl::UnavailableError("operation timeout");
      }
    }
    return absl::OkStatus();
  });
  absl::Status s = m.Run(*id);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GE(rounds_.load(), 9);
  EXPECT_THAT(SlotStates(), ::testing::Each("online@2"));
  EXPECT_EQ(KeysAt(2), 6 * kKeysPerSlot);
}

// A cancel while the runner waits to retry ends the task once the retry has
// finished the slots the failed step left in pre_migrate.
TEST_F(MigratorRoundsTest, CancelWhileRetryingFinishesTheHeldSlotsThenEnds) {
  Migrator m(topo_.get());
  auto id = m.Create(0, 5, 2, TaskOptions{.slots_per_step = 2});
  ASSERT_TRUE(id.ok()) << id.status();
  // The second round (migrate 0-1) does not reach the coordinator.
  coord_->SetFilter([&](std::string_view op, std::string_view path) {
    if (op == "multi" && path == topo_->LockPath() && ++rounds_ == 2) {
      return absl::UnavailableError("operation timeout");
    }
    return absl::OkStatus();
  });
  std::thread canceller([&] {
    for (int i = 0;
         i < 500 && m.GetTask(*id)->state != MigrationState::kRetrying; ++i) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    EXPECT_TRUE(m.Cancel(*id).ok());
  });
  absl::Status s = m.Run(*id);
  canceller.join();
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(m.GetTask(*id)->state, MigrationState::kCancelled);
  EXPECT_THAT(SlotStates(),
              ::testing::ElementsAre("online@2", "online@2", "online@1",
                                     "online@1", "online@1", "online@1"));
  EXPECT_EQ(KeysAt(1), 4 * kKeysPerSlot);
}

// A runner that stopped with slots in migrate is gone; a cancel does not
// strand them: the next run finishes them, then ends the task.
TEST_F(MigratorRoundsTest, CancelOfAStoppedRunWithHeldSlotsWaitsForItsResume) {
  Migrator m(topo_.get());
  auto id = m.Create(0, 5, 2, TaskOptions{.slots_per_step = 2});
  ASSERT_TRUE(id.ok()) << id.status();
  // The coordinator goes away after the second round (migrate 0-1), and
  // with it the runner's session (its owner node).
  on_round_ = [&](int round) {
    if (round == 2) coord_->SetDropAll(true);
  };
  Migrator stopped(topo_.get(), MigrateOptions{.transient_retries = 0});
  EXPECT_FALSE(stopped.Run(*id).ok());
  coord_->SetDropAll(false);
  on_round_ = nullptr;
  ASSERT_TRUE(coord_->ExpireSessionForTest().ok());
  ASSERT_EQ(topo_->GetSlot(0)->state, SlotState::kMigrate);
  ASSERT_TRUE(m.Cancel(*id).ok());
  EXPECT_NE(m.GetTask(*id)->state, MigrationState::kCancelled);
  absl::Status s = m.ResumeAll();
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(m.GetTask(*id)->state, MigrationState::kCancelled);
  EXPECT_THAT(SlotStates(),
              ::testing::ElementsAre("online@2", "online@2", "online@1",
                                     "online@1", "online@1", "online@1"));
}

}  // namespace
}  // namespace reborn
