// The typed topology model and the change protocol (2PC with fencing), on
// memory:// sessions with the fault-injection wrapper.

#include "reborn/topology.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coord/fault_injection_coordinator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reborn/coordinator.h"
#include "reborn/slot.h"

namespace reborn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::string Uri() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return absl::StrCat("memory://topo-", info->name(),
                      "?session_timeout_ms=300");
}

std::unique_ptr<Coordinator> Open() {
  auto c = Coordinator::Open(Uri());
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

// A proxy participant: its own session, registration, and an ActionFollower
// whose handler can be slowed down or silenced.
struct ProxyStub {
  explicit ProxyStub(std::string id,
                     absl::Duration delay = absl::ZeroDuration())
      : fault(std::make_shared<coord::FaultInjectionCoordinator>(Open())),
        topo(fault.get(), "p"),
        id(std::move(id)) {
    ProxyInfo info;
    info.id = this->id;
    info.addr = "127.0.0.1:19000";
    info.pid = 42;
    EXPECT_TRUE(topo.RegisterProxy(info).ok());
    auto f = ActionFollower::Start(&topo, this->id,
                                   [this, delay](const ActionInfo& a) {
                                     if (silent) {
                                       return absl::UnavailableError("silent");
                                     }
                                     absl::SleepFor(delay);
                                     seen.push_back(a.type + ":" + a.target);
                                     return absl::OkStatus();
                                   });
    EXPECT_TRUE(f.ok()) << f.status();
    follower = std::move(*f);
  }

  std::shared_ptr<coord::FaultInjectionCoordinator> fault;
  Topology topo;
  std::string id;
  std::atomic<bool> silent{false};
  std::vector<std::string> seen;  // event thread only; read after Change
  std::unique_ptr<ActionFollower> follower;
};

TEST(TopologyCodecTest, SlotJsonMatchesTheDocumentedLayout) {
  SlotNode s;
  s.id = 7;
  s.group_id = 2;
  s.state = SlotState::kMigrate;
  s.migrate_from = 2;
  s.migrate_to = 3;
  EXPECT_EQ(EncodeSlot(s),
            R"({"group_id":2,"id":7,"migrate":{"from":2,"to":3},)"
            R"("state":"migrate"})");
  auto back = DecodeSlot(EncodeSlot(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->migrate_to, 3);
  EXPECT_EQ(back->state, SlotState::kMigrate);
  EXPECT_TRUE(absl::IsDataLoss(DecodeSlot("{nope").status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeSlot(R"({"state":"weird"})").status()));

  GroupNode g;
  g.id = 1;
  g.servers.push_back(
      {"127.0.0.1:6379", ServerRole::kMaster, ServerState::kOnline});
  EXPECT_EQ(EncodeGroup(g),
            R"({"id":1,"servers":[{"addr":"127.0.0.1:6379","role":"master",)"
            R"("state":"online"}]})");
  ProxyInfo p;
  p.id = "px";
  p.state = ProxyState::kMarkOffline;
  EXPECT_EQ(DecodeProxy(EncodeProxy(p))->state, ProxyState::kMarkOffline);
}

TEST(TopologyTest, InitSlotsOnceUnlessForced) {
  auto c = Open();
  Topology t(c.get(), "p");
  ASSERT_TRUE(t.InitSlots(false).ok());
  auto slots = t.Slots();
  ASSERT_TRUE(slots.ok());
  ASSERT_EQ(slots->size(), static_cast<size_t>(kSlotCount));
  EXPECT_EQ((*slots)[1023].id, 1023);
  EXPECT_EQ((*c->Children(t.SlotsPath()))[5], "0005");
  absl::Status again = t.InitSlots(false);
  EXPECT_TRUE(absl::IsFailedPrecondition(again));
  EXPECT_THAT(std::string(again.message()), HasSubstr("--force"));
  SlotNode s = *t.GetSlot(3);
  s.group_id = 9;
  s.state = SlotState::kOnline;
  ASSERT_TRUE(t.WriteSlots({s}).ok());
  EXPECT_EQ(t.GetSlot(3)->group_id, 9);
  // A stale version loses.
  EXPECT_TRUE(absl::IsAborted(t.WriteSlots({s})));
  ASSERT_TRUE(t.InitSlots(true).ok());
  EXPECT_EQ(t.GetSlot(3)->group_id, 0);
  EXPECT_TRUE(absl::IsOutOfRange(t.GetSlot(1024).status()));
}

TEST(TopologyTest, GroupsAreCreatedOnceAndListedById) {
  auto c = Open();
  Topology t(c.get(), "p");
  for (int gid : {10, 2, 1}) ASSERT_TRUE(t.CreateGroup(gid).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(t.CreateGroup(2)));
  EXPECT_TRUE(absl::IsInvalidArgument(t.CreateGroup(0)));
  auto groups = t.Groups();
  ASSERT_TRUE(groups.ok());
  std::vector<int> ids;
  for (const auto& g : *groups) ids.push_back(g.id);
  EXPECT_THAT(ids, ElementsAre(1, 2, 10));
  EXPECT_TRUE(absl::IsNotFound(t.GetGroup(3).status()));
}

TEST(TopologyChangeTest, EveryProxyAcksAndSeesTheAction) {
  auto c = Open();
  Topology t(c.get(), "p");
  ProxyStub a("proxy-a"), b("proxy-b");
  bool wrote = false;
  auto report = t.Change("slots", "0-3", [&] {
    wrote = true;
    return absl::OkStatus();
  });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(wrote);
  EXPECT_THAT(report->acked, UnorderedElementsAre("proxy-a", "proxy-b"));
  EXPECT_THAT(report->fenced, IsEmpty());
  EXPECT_THAT(a.seen, ElementsAre("slots:0-3"));
  EXPECT_THAT(b.seen, ElementsAre("slots:0-3"));
  auto actions = t.Actions();
  ASSERT_EQ(actions->size(), 1u);
  EXPECT_THAT(actions->front().acks, ElementsAre("proxy-a", "proxy-b"));
  // The lock was released.
  EXPECT_FALSE(*c->Exists(t.LockPath()));
}

TEST(TopologyChangeTest, SlowAckerIsWaitedFor) {
  auto c = Open();
  Topology t(c.get(), "p");
  ProxyStub slow("slow", absl::Milliseconds(300));
  absl::Time start = absl::Now();
  ChangeOptions opts;
  opts.ack_timeout = absl::Seconds(5);
  auto report = t.Change(
      "group", "1", [] { return absl::OkStatus(); }, opts);
  ASSERT_TRUE(report.ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_THAT(report->acked, ElementsAre("slow"));
  EXPECT_THAT(report->fenced, IsEmpty());
  EXPECT_EQ(t.GetProxy("slow")->state, ProxyState::kOnline);
}

TEST(TopologyChangeTest, SilentProxyIsFencedAndTheChangeWaitsASessionTimeout) {
  auto c = Open();
  Topology t(c.get(), "p");
  ProxyStub good("good");
  ProxyStub quiet("quiet");
  quiet.silent = true;
  ChangeOptions opts;
  opts.ack_timeout = absl::Milliseconds(200);
  absl::Time start = absl::Now();
  auto report = t.Change(
      "slots", "5", [] { return absl::OkStatus(); }, opts);
  ASSERT_TRUE(report.ok()) << report.status();
  // ack timeout + the coordinator session timeout (300ms) before proceeding.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_THAT(report->acked, ElementsAre("good"));
  EXPECT_THAT(report->fenced, ElementsAre("quiet"));
  EXPECT_EQ(t.GetProxy("quiet")->state, ProxyState::kMarkOffline);
  EXPECT_EQ(t.GetProxy("good")->state, ProxyState::kOnline);
  // A fenced proxy is not waited for next time.
  start = absl::Now();
  report = t.Change(
      "slots", "6", [] { return absl::OkStatus(); }, opts);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->fenced, IsEmpty());
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(200));
}

TEST(TopologyChangeTest, ProxyCutOffFromTheCoordinatorIsFenced) {
  auto c = Open();
  Topology t(c.get(), "p");
  ProxyStub cut("cut");
  cut.fault->SetDropAll(true);  // its acks never reach the coordinator
  ChangeOptions opts;
  opts.ack_timeout = absl::Milliseconds(200);
  opts.fence_wait = absl::Milliseconds(10);
  auto report = t.Change(
      "slots", "7", [] { return absl::OkStatus(); }, opts);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->fenced, ElementsAre("cut"));
  EXPECT_GT(cut.fault->dropped(), 0);
}

TEST(TopologyChangeTest, ProxyWhoseSessionExpiresIsNotWaitedFor) {
  auto c = Open();
  Topology t(c.get(), "p");
  ProxyStub gone("gone");
  gone.silent = true;
  ChangeOptions opts;
  opts.ack_timeout = absl::Seconds(5);
  std::thread expirer([&] {
    absl::SleepFor(absl::Milliseconds(150));
    ASSERT_TRUE(gone.fault->ExpireSessionForTest().ok());
  });
  absl::Time start = absl::Now();
  auto report = t.Change(
      "slots", "8", [] { return absl::OkStatus(); }, opts);
  expirer.join();
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->fenced, IsEmpty());
  EXPECT_THAT(report->acked, IsEmpty());
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_TRUE(absl::IsNotFound(t.GetProxy("gone").status()));
}

TEST(TopologyChangeTest, LockOfACrashedConfigProcessGoesWithItsSession) {
  auto crashed = std::make_unique<coord::FaultInjectionCoordinator>(Open());
  Topology t1(crashed.get(), "p");
  auto held = t1.Lock("crashed-config", absl::ZeroDuration());
  ASSERT_TRUE(held.ok());
  auto c = Open();
  Topology t2(c.get(), "p");
  auto blocked = t2.Lock("other", absl::Milliseconds(100));
  EXPECT_TRUE(absl::IsFailedPrecondition(blocked.status()));
  EXPECT_THAT(std::string(blocked.status().message()),
              HasSubstr("crashed-config"));
  auto blocked_change = t2.Change(
      "x", "y", [] { return absl::OkStatus(); },
      ChangeOptions{.lock_timeout = absl::Milliseconds(100)});
  EXPECT_TRUE(absl::IsFailedPrecondition(blocked_change.status()));
  // The holder "crashes": its session expires while it holds the lock.
  crashed->SetDropAll(true);
  ASSERT_TRUE(crashed->ExpireSessionForTest().ok());
  auto mine = t2.Lock("other", absl::Seconds(2));
  ASSERT_TRUE(mine.ok()) << mine.status();
  // The stale holder's late cleanup does not release our lock.
  crashed->SetDropAll(false);
  held->reset();
  EXPECT_TRUE(*c->Exists(t2.LockPath()));
  mine->reset();
  EXPECT_FALSE(*c->Exists(t2.LockPath()));
}

TEST(TopologyChangeTest, FailedWriteReleasesTheLockAndPublishesNothing) {
  auto base = Open();
  coord::FaultInjectionCoordinator fault(std::move(base));
  Topology t(&fault, "p");
  ASSERT_TRUE(t.EnsureLayout().ok());
  fault.SetFilter([](std::string_view op, std::string_view path) {
    if (op == "set" && path.find("/groups/") != std::string_view::npos) {
      return absl::UnavailableError("injected");
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(t.CreateGroup(1).ok());
  auto report = t.Change("group", "1", [&] {
    auto g = t.GetGroup(1);
    if (!g.ok()) return g.status();
    return t.WriteGroup(*g);
  });
  EXPECT_TRUE(absl::IsUnavailable(report.status())) << report.status();
  EXPECT_FALSE(*fault.Exists(t.LockPath()));
  EXPECT_TRUE(t.Actions()->empty());
}

// Publishes `n` actions, each acked by two proxies.
void PublishAcked(Topology& t, int n) {
  for (int i = 0; i < n; ++i) {
    auto seq = t.PublishAction("slot_online", absl::StrCat(i, "-", i, ":1"));
    ASSERT_TRUE(seq.ok()) << seq.status();
    ASSERT_TRUE(t.AckAction(*seq, "proxy-a").ok());
    ASSERT_TRUE(t.AckAction(*seq, "proxy-b").ok());
  }
}

std::vector<std::string> Targets(Topology& t) {
  std::vector<std::string> out;
  auto actions = t.Actions();
  EXPECT_TRUE(actions.ok()) << actions.status();
  if (!actions.ok()) return out;
  for (const ActionInfo& a : *actions) out.push_back(a.target);
  return out;
}

TEST(TopologyTest, PruneKeepsTheNewestActionsInOneTransaction) {
  auto fault = std::make_shared<coord::FaultInjectionCoordinator>(Open());
  Topology t(fault.get(), "p");
  PublishAcked(t, 5);
  int multis = 0, deletes = 0;
  fault->SetFilter([&](std::string_view op, std::string_view) {
    multis += op == "multi";
    deletes += op == "delete";
    return absl::OkStatus();
  });
  ASSERT_TRUE(t.PruneActions(2).ok());
  EXPECT_EQ(multis, 1);
  EXPECT_EQ(deletes, 0);
  EXPECT_THAT(Targets(t), ElementsAre("3-3:1", "4-4:1"));
  auto actions = t.Actions();
  ASSERT_TRUE(actions.ok() && !actions->empty());
  EXPECT_THAT(actions->back().acks, ElementsAre("proxy-a", "proxy-b"));
  // Nothing of the pruned actions is left, acks included.
  EXPECT_THAT(*fault->Children(t.ActionsPath()), ::testing::SizeIs(2));
  ASSERT_TRUE(t.PruneActions(2).ok());  // nothing to do
  EXPECT_EQ(multis, 1);
}

TEST(TopologyTest, PruneFallsBackToSingleDeletesWhenTheTransactionFails) {
  auto fault = std::make_shared<coord::FaultInjectionCoordinator>(Open());
  Topology t(fault.get(), "p");
  PublishAcked(t, 4);
  fault->SetFilter([](std::string_view op, std::string_view) {
    return op == "multi" ? absl::FailedPreconditionError("a late ack")
                         : absl::OkStatus();
  });
  ASSERT_TRUE(t.PruneActions(1).ok());
  EXPECT_THAT(Targets(t), ElementsAre("3-3:1"));
  EXPECT_THAT(*fault->Children(t.ActionsPath()), ::testing::SizeIs(1));
}

// Slot 3 moved to `gid`, as the ops of one ChangeOps round.
absl::StatusOr<std::vector<CoordOp>> MoveSlot3(Topology& t, int gid) {
  auto s = t.GetSlot(3);
  if (!s.ok()) return s.status();
  s->group_id = gid;
  s->state = SlotState::kOnline;
  return t.SlotWrites({*s});
}

TEST(TopologyChangeTest, ChangeOpsLocksWritesAndPublishesInOneTransaction) {
  auto fault = std::make_shared<coord::FaultInjectionCoordinator>(Open());
  Topology t(fault.get(), "p");
  ASSERT_TRUE(t.InitSlots(false).ok());
  ProxyStub a("proxy-a");
  std::vector<std::string> writes;
  fault->SetFilter([&](std::string_view op, std::string_view path) {
    if (op != "get" && op != "children" && op != "exists") {
      writes.push_back(absl::StrCat(std::string(op), " ", std::string(path)));
    }
    return absl::OkStatus();
  });
  auto report = t.ChangeOps("slot_online", "3-3:2", [&] {
    // The lock is taken in the same transaction, not before.
    EXPECT_FALSE(*fault->Exists(t.LockPath()));
    return MoveSlot3(t, 2);
  });
  fault->SetFilter(nullptr);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->acked, ElementsAre("proxy-a"));
  EXPECT_THAT(a.seen, ElementsAre("slot_online:3-3:2"));
  EXPECT_EQ(t.GetSlot(3)->group_id, 2);
  EXPECT_FALSE(*fault->Exists(t.LockPath()));
  // One transaction (lock, slot, action), the acks node, the lock's release.
  ASSERT_EQ(writes.size(), 3u) << absl::StrJoin(writes, "; ");
  EXPECT_EQ(writes[0], absl::StrCat("multi ", t.LockPath()));
  EXPECT_THAT(writes[1], HasSubstr("/acks"));
  EXPECT_EQ(writes[2], absl::StrCat("delete ", t.LockPath()));
}

TEST(TopologyChangeTest, ChangeOpsReadsAgainWhenANodeChangedUnderIt) {
  auto c = Open();
  Topology t(c.get(), "p");
  ASSERT_TRUE(t.InitSlots(false).ok());
  int calls = 0;
  auto report = t.ChangeOps("slot_online", "3-3:2", [&] {
    auto ops = MoveSlot3(t, 2);
    if (++calls == 1) {
      // Another writer gets in between this read and the transaction.
      SlotNode s = *t.GetSlot(3);
      s.group_id = 7;
      EXPECT_TRUE(t.WriteSlots({s}).ok());
    }
    return ops;
  });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(t.GetSlot(3)->group_id, 2);
  EXPECT_THAT(Targets(t), ElementsAre("3-3:2"));
}

TEST(TopologyChangeTest, ChangeOpsWaitsForTheLockHolderOrNamesIt) {
  auto c = Open();
  Topology t(c.get(), "p");
  ASSERT_TRUE(t.InitSlots(false).ok());
  auto held = t.Lock("other-config", absl::ZeroDuration());
  ASSERT_TRUE(held.ok()) << held.status();
  auto blocked = t.ChangeOps(
      "slot_online", "3-3:2", [&] { return MoveSlot3(t, 2); },
      ChangeOptions{.lock_timeout = absl::Milliseconds(100)});
  EXPECT_TRUE(absl::IsFailedPrecondition(blocked.status()));
  EXPECT_THAT(std::string(blocked.status().message()),
              HasSubstr("other-config"));
  EXPECT_EQ(t.GetSlot(3)->group_id, 0);
  EXPECT_TRUE(t.Actions()->empty());

  std::thread release([&] {
    absl::SleepFor(absl::Milliseconds(200));
    held->reset();
  });
  auto waited = t.ChangeOps(
      "slot_online", "3-3:2", [&] { return MoveSlot3(t, 2); },
      ChangeOptions{.lock_timeout = absl::Seconds(5)});
  release.join();
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(t.GetSlot(3)->group_id, 2);
}

TEST(TopologyChangeTest, ChangeOpsFailingToReadWritesAndPublishesNothing) {
  auto c = Open();
  Topology t(c.get(), "p");
  ASSERT_TRUE(t.InitSlots(false).ok());
  auto report = t.ChangeOps("slot_online", "3-3:2", [] {
    return absl::StatusOr<std::vector<CoordOp>>(
        absl::AbortedError("slot 3 left migrate unexpectedly"));
  });
  EXPECT_TRUE(absl::IsAborted(report.status()));
  EXPECT_FALSE(*c->Exists(t.LockPath()));
  EXPECT_TRUE(t.Actions()->empty());
}

// The answer to a write that took the lock is lost (a ZooKeeper operation
// timeout): the change fails, but the lock does not stay behind.
TEST(TopologyChangeTest, ChangeOpsWithALostReplyLeavesNoLockBehind) {
  auto fault = std::make_shared<coord::FaultInjectionCoordinator>(Open());
  Topology t(fault.get(), "p");
  ASSERT_TRUE(t.InitSlots(false).ok());
  fault->SetReplyFilter([](std::string_view op, std::string_view) {
    return op == "multi" ? absl::UnavailableError("operation timeout")
                         : absl::OkStatus();
  });
  auto lost =
      t.ChangeOps("slot_online", "3-3:2", [&] { return MoveSlot3(t, 2); });
  fault->SetReplyFilter(nullptr);
  EXPECT_TRUE(absl::IsUnavailable(lost.status())) << lost.status();
  EXPECT_EQ(t.GetSlot(3)->group_id, 2);  // applied all the same
  EXPECT_FALSE(*fault->Exists(t.LockPath()));
  auto next = t.ChangeOps(
      "slot_online", "3-3:1", [&] { return MoveSlot3(t, 1); },
      ChangeOptions{.lock_timeout = absl::Milliseconds(100)});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(t.GetSlot(3)->group_id, 1);
}

TEST(TopologyChangeTest, LockWithALostReplyLeavesNoLockBehind) {
  auto fault = std::make_shared<coord::FaultInjectionCoordinator>(Open());
  Topology t(fault.get(), "p");
  ASSERT_TRUE(t.InitSlots(false).ok());
  fault->SetReplyFilter([&](std::string_view op, std::string_view path) {
    return op == "create" && path == t.LockPath()
               ? absl::UnavailableError("operation timeout")
               : absl::OkStatus();
  });
  auto lost = t.Lock("config", absl::ZeroDuration());
  fault->SetReplyFilter(nullptr);
  EXPECT_TRUE(absl::IsUnavailable(lost.status())) << lost.status();
  EXPECT_FALSE(*fault->Exists(t.LockPath()));
  EXPECT_TRUE(t.Lock("config", absl::ZeroDuration()).ok());
}

}  // namespace
}  // namespace reborn
