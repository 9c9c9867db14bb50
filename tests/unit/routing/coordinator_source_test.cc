// The coordinator-backed topology source on a memory:// coordinator: tables
// follow slot and group changes, actions get acked, the proxy node is
// registered (and re-registered after a session expiry), and a fenced or
// session-less proxy goes offline.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "coord/fault_injection_coordinator.h"
#include "coord/memory_coordinator.h"
#include "net/sync_client.h"
#include "reborn/coordinator.h"
#include "reborn/proxy.h"
#include "reborn/slot_table.h"
#include "reborn/testing/session_expiry.h"
#include "reborn/topology.h"

namespace reborn {
namespace {

template <typename F>
bool Eventually(F f) {
  for (int i = 0; i < 400; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

class CoordinatorSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Coordinator::Open("memory://source_test");
    ASSERT_TRUE(c.ok()) << c.status();
    coord_ = std::shared_ptr<Coordinator>(std::move(*c));
    ASSERT_TRUE(coord_->CreateRecursive("/reborn/p/groups").ok());
    ASSERT_TRUE(coord_->CreateRecursive("/reborn/p/slots").ok());
    ASSERT_TRUE(
        coord_
            ->Create("/reborn/p/groups/1",
                     R"({"id":1,"servers":[{"addr":"h:1","role":"master"}]})",
                     CreateMode::kPersistent)
            .ok());
    ASSERT_TRUE(
        coord_
            ->Create("/reborn/p/groups/2",
                     R"({"id":2,"servers":[{"addr":"h:2","role":"master"}]})",
                     CreateMode::kPersistent)
            .ok());
    for (int i = 0; i < 4; ++i) SetSlot(i, i < 2 ? 1 : 2);
  }

  void SetSlot(int slot, int group) {
    std::string path = absl::StrFormat("/reborn/p/slots/%04d", slot);
    std::string data = absl::StrFormat(
        R"({"id":%d,"group_id":%d,"state":"online"})", slot, group);
    if (!coord_->Set(path, data, Coordinator::kAnyVersion).ok()) {
      ASSERT_TRUE(coord_->Create(path, data, CreateMode::kPersistent).ok());
    }
  }

  std::shared_ptr<Coordinator> coord_;
};

TEST_F(CoordinatorSourceTest, FollowsSlotChangesAndAcksActions) {
  CoordinatorSourceOptions options{"p", "proxy-1", R"({"id":"proxy-1"})"};
  auto source = OpenCoordinatorSource(coord_, options);
  ASSERT_TRUE(source.ok()) << source.status();
  auto table = (*source)->Current();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->slot(0).group_id, 1);
  EXPECT_EQ(table->slot(3).group_id, 2);
  EXPECT_EQ(table->slot(4).state, SlotState::kOffline);
  EXPECT_TRUE((*source)->online());
  EXPECT_TRUE(*coord_->Exists("/reborn/p/proxies/proxy-1"));

  SetSlot(0, 2);
  ASSERT_TRUE(coord_
                  ->Create("/reborn/p/actions/a", R"({"type":"slots"})",
                           CreateMode::kSequential)
                  .ok());
  EXPECT_TRUE(
      Eventually([&] { return (*source)->Current()->slot(0).group_id == 2; }));
  auto actions = coord_->Children("/reborn/p/actions");
  ASSERT_TRUE(actions.ok());
  ASSERT_EQ(actions->size(), 1u);
  std::string ack = "/reborn/p/actions/" + (*actions)[0] + "/acks/proxy-1";
  EXPECT_TRUE(Eventually([&] { return *coord_->Exists(ack); }));
}

// A slot_* action's target names the slots it changed ("first-last:gid"):
// only those are re-read. Group and server actions re-read the groups.
TEST_F(CoordinatorSourceTest, ActionsReReadOnlyWhatTheyName) {
  CoordinatorSourceOptions options{"p", "proxy-3", R"({"id":"proxy-3"})"};
  auto source = OpenCoordinatorSource(coord_, options);
  ASSERT_TRUE(source.ok()) << source.status();
  auto publish = [&](const char* type, const char* target) {
    ASSERT_TRUE(
        coord_
            ->Create("/reborn/p/actions/action-",
                     absl::StrFormat(R"({"type":"%s","target":"%s","ts":1})",
                                     type, target),
                     CreateMode::kSequential)
            .ok());
  };

  SetSlot(1, 2);
  SetSlot(3, 1);
  publish("slot_migrate", "3-3:1");
  EXPECT_TRUE(
      Eventually([&] { return (*source)->Current()->slot(3).group_id == 1; }));
  EXPECT_EQ((*source)->Current()->slot(1).group_id, 1);  // not named

  ASSERT_TRUE(
      coord_
          ->Set("/reborn/p/groups/2",
                R"({"id":2,"servers":[{"addr":"h:3","role":"master"}]})",
                Coordinator::kAnyVersion)
          .ok());
  publish("server_promote", "2:h:3");
  EXPECT_TRUE(Eventually(
      [&] { return (*source)->Current()->group(2)->master == "h:3"; }));

  // An action of a kind the proxy does not know re-reads everything.
  publish("something_new", "");
  EXPECT_TRUE(
      Eventually([&] { return (*source)->Current()->slot(1).group_id == 2; }));
}

TEST_F(CoordinatorSourceTest, FencedOrExpiredProxyGoesOfflineAndComesBack) {
  CoordinatorSourceOptions options{"p", "proxy-2",
                                   R"({"id":"proxy-2","state":"online"})"};
  auto source = OpenCoordinatorSource(coord_, options);
  ASSERT_TRUE(source.ok());
  ProxyOptions popts;
  popts.addr = "127.0.0.1:0";
  popts.threads = 1;
  auto proxy = Proxy::Start(popts, *source);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto SetState = [&](const std::string& state) {
    ASSERT_TRUE(
        coord_
            ->Set("/reborn/p/proxies/proxy-2",
                  absl::StrFormat(R"({"id":"proxy-2","state":"%s"})", state),
                  Coordinator::kAnyVersion)
            .ok());
  };

  // Fenced by a change that found it silent.
  SetState("mark_offline");
  EXPECT_TRUE(Eventually([&] { return !(*source)->online(); }));
  SetState("online");
  EXPECT_TRUE(Eventually([&] { return (*source)->online(); }));

  SetState("offline");
  EXPECT_TRUE(Eventually([&] { return !(*source)->online(); }));
  // The proxy disconnects its clients when it learns it is offline, which
  // may come just after online() turned false: a client that connected in
  // between is cut, and the next one is answered.
  EXPECT_TRUE(Eventually([&] {
    auto conn = net::SyncClient::Connect("127.0.0.1", (*proxy)->port(),
                                         std::chrono::milliseconds(2000));
    if (!conn.ok()) return false;
    auto reply = conn->Call({"PING"});
    return reply.ok() && reply->str == "ERR proxy is offline";
  }));

  SetState("online");
  EXPECT_TRUE(Eventually([&] { return (*source)->online(); }));

  absl::Status expired = ::reborn::testing::ExpireSession(*coord_);
  if (expired.ok()) {
    // The ephemeral registration comes back with the new session.
    EXPECT_TRUE(Eventually([&] {
      return *coord_->Exists("/reborn/p/proxies/proxy-2") &&
             (*source)->online();
    }));
  }
  auto again = net::SyncClient::Connect("127.0.0.1", (*proxy)->port(),
                                        std::chrono::milliseconds(2000));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(Eventually([&] {
    auto r = again->Call({"PING"});
    return r.ok() && r->str == "PONG";
  }));
  (*proxy)->Stop();
}

// Lost requests (dropped by the fault-injection wrapper) bring no session
// event: the source reads again shortly and acks what it missed, so the
// proxy is not fenced for one lost packet.
TEST_F(CoordinatorSourceTest, LostReadsAndAcksAreRetried) {
  auto base = Coordinator::Open("memory://source_test");
  ASSERT_TRUE(base.ok());
  auto faulty =
      std::make_shared<coord::FaultInjectionCoordinator>(std::move(*base));
  CoordinatorSourceOptions options{"p", "proxy-4", R"({"id":"proxy-4"})"};
  auto source = OpenCoordinatorSource(faulty, options);
  ASSERT_TRUE(source.ok()) << source.status();
  auto publish = [&] {
    ASSERT_TRUE(coord_
                    ->Create("/reborn/p/actions/action-",
                             R"({"type":"slot_range_set","target":"0-0:2"})",
                             CreateMode::kSequential)
                    .ok());
  };
  auto acked = [&](const std::string& action) {
    return *coord_->Exists("/reborn/p/actions/" + action + "/acks/proxy-4");
  };
  auto newest = [&] {
    auto names = coord_->Children("/reborn/p/actions");
    std::sort(names->begin(), names->end());
    return names->back();
  };

  // Every ack write fails for a while: the table follows, the ack waits.
  faulty->SetFilter(
      [](std::string_view op, std::string_view path) -> absl::Status {
        if (op == "create" && path.find("/acks/proxy-4") != path.npos) {
          return absl::UnavailableError("dropped");
        }
        return absl::OkStatus();
      });
  SetSlot(0, 2);
  publish();
  std::string first = newest();
  EXPECT_TRUE(
      Eventually([&] { return (*source)->Current()->slot(0).group_id == 2; }));
  EXPECT_FALSE(acked(first));
  faulty->SetFilter(nullptr);
  EXPECT_TRUE(Eventually([&] { return acked(first); }));

  // The reads that follow an action are lost: they are made again.
  faulty->DropNext(3);
  SetSlot(0, 1);
  publish();
  std::string second = newest();
  EXPECT_TRUE(
      Eventually([&] { return (*source)->Current()->slot(0).group_id == 1; }));
  EXPECT_TRUE(Eventually([&] { return acked(second); }));
  EXPECT_GT(faulty->dropped(), 0);
}

// The lease: a proxy that lost touch with the coordinator serves on its last
// table until two thirds of the session timeout after its last contact (no
// change can complete without its ack before then), and only then goes
// offline; an expired session (its node is gone) takes it offline at once.
class CoordinatorSourceLeaseTest : public CoordinatorSourceTest {
 protected:
  void SetUp() override {
    CoordinatorSourceTest::SetUp();
    auto base =
        Coordinator::Open("memory://source_test?session_timeout_ms=3000");
    ASSERT_TRUE(base.ok()) << base.status();
    faulty_ =
        std::make_shared<coord::FaultInjectionCoordinator>(std::move(*base));
    memory_ = static_cast<coord::MemoryCoordinator*>(faulty_->base());
    CoordinatorSourceOptions options{"p", "proxy-lease",
                                     R"({"id":"proxy-lease"})"};
    auto source = OpenCoordinatorSource(faulty_, options);
    ASSERT_TRUE(source.ok()) << source.status();
    source_ = *source;
    source_->Subscribe([this](std::shared_ptr<const SlotTable>, bool online) {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(online);
    });
    ASSERT_TRUE(source_->online());
  }

  bool WentOffline() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::find(seen_.begin(), seen_.end(), false) != seen_.end();
  }

  // True if online() held for all of `d`, sampled every 5 ms.
  bool OnlineThroughout(std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      if (!source_->online()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  // Declared before source_ so they outlive it: its threads call the
  // subscriber until it is destroyed.
  std::mutex mu_;
  std::vector<bool> seen_;
  std::shared_ptr<coord::FaultInjectionCoordinator> faulty_;
  coord::MemoryCoordinator* memory_ = nullptr;
  std::shared_ptr<SlotTableSource> source_;
};

TEST_F(CoordinatorSourceLeaseTest, AdvertisesItsLease) {
  auto node = coord_->Get("/reborn/p/proxies/proxy-lease");
  ASSERT_TRUE(node.ok());
  auto info = DecodeProxy(node->data);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->lease_ms, 2000);  // 2/3 of the session timeout
}

TEST_F(CoordinatorSourceLeaseTest, SuspensionShorterThanTheLeaseKeepsServing) {
  memory_->SetPartitionedForTest(true);  // kSuspended, every request fails
  // A change made meanwhile waits for this proxy's ack.
  SetSlot(0, 2);
  ASSERT_TRUE(coord_
                  ->Create("/reborn/p/actions/action-",
                           R"({"type":"slot_range_set","target":"0-0:2"})",
                           CreateMode::kSequential)
                  .ok());
  EXPECT_TRUE(OnlineThroughout(std::chrono::milliseconds(800)));
  EXPECT_EQ(source_->Current()->slot(0).group_id, 1);  // the last table
  memory_->SetPartitionedForTest(false);
  EXPECT_TRUE(OnlineThroughout(std::chrono::milliseconds(200)));
  EXPECT_FALSE(WentOffline());
  // Back: the change is read and acked.
  EXPECT_TRUE(
      Eventually([&] { return source_->Current()->slot(0).group_id == 2; }));
  auto actions = coord_->Children("/reborn/p/actions");
  ASSERT_TRUE(actions.ok());
  std::sort(actions->begin(), actions->end());
  EXPECT_TRUE(Eventually([&] {
    return *coord_->Exists("/reborn/p/actions/" + actions->back() +
                           "/acks/proxy-lease");
  }));
}

TEST_F(CoordinatorSourceLeaseTest, SuspensionLongerThanTheLeaseGoesOffline) {
  const auto cut = std::chrono::steady_clock::now();
  memory_->SetPartitionedForTest(true);
  // The last contact was at most a probe interval (200 ms) before the cut.
  EXPECT_TRUE(OnlineThroughout(std::chrono::milliseconds(1300)));
  EXPECT_TRUE(Eventually([&] { return !source_->online(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - cut, std::chrono::seconds(3));
  EXPECT_TRUE(Eventually([&] { return WentOffline(); }));  // told listeners
  memory_->SetPartitionedForTest(false);
  EXPECT_TRUE(Eventually([&] { return source_->online(); }));
}

// No session event at all (requests lost, the session said connected): the
// lease still runs out.
TEST_F(CoordinatorSourceLeaseTest, SilentCoordinatorEndsTheLease) {
  faulty_->SetDropAll(true);
  EXPECT_TRUE(OnlineThroughout(std::chrono::milliseconds(1300)));
  EXPECT_TRUE(Eventually([&] { return !source_->online(); }));
  faulty_->SetDropAll(false);
  EXPECT_TRUE(Eventually([&] { return source_->online(); }));
}

// The other half of the argument: a change that finds this proxy silent
// fences it and completes only after its lease ran out — even when the
// changer's own session timeout (its default fence wait) is much shorter.
TEST_F(CoordinatorSourceLeaseTest, FencingChangeWaitsOutTheLease) {
  auto changer_coord =
      Coordinator::Open("memory://source_test?session_timeout_ms=300");
  ASSERT_TRUE(changer_coord.ok());
  Topology topology(changer_coord->get(), "p");
  ChangeOptions options;
  options.ack_timeout = absl::Milliseconds(200);
  memory_->SetPartitionedForTest(true);
  const auto start = std::chrono::steady_clock::now();
  auto report = topology.Change(
      "slot_range_set", "0-0:2",
      [&] {
        SetSlot(0, 2);
        return absl::OkStatus();
      },
      options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->fenced, std::vector<std::string>{"proxy-lease"});
  EXPECT_FALSE(source_->online());  // stopped serving the old table first
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(2000));
  memory_->SetPartitionedForTest(false);
}

TEST_F(CoordinatorSourceLeaseTest, ExpiryGoesOfflineAtOnce) {
  ASSERT_TRUE(faulty_->ExpireSessionForTest().ok());
  // Offline before the new session's registration and full read, although
  // the lease had time left.
  EXPECT_TRUE(Eventually([&] { return WentOffline(); }));
  EXPECT_TRUE(Eventually([&] {
    return *coord_->Exists("/reborn/p/proxies/proxy-lease") &&
           source_->online();
  }));
}

}  // namespace
}  // namespace reborn
