// The coordinator-backed topology source on a memory:// coordinator: tables
// follow slot and group changes, actions get acked, the proxy node is
// registered (and re-registered after a session expiry), and a fenced or
// session-less proxy goes offline.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_format.h"
#include "net/sync_client.h"
#include "reborn/coordinator.h"
#include "reborn/proxy.h"
#include "reborn/slot_table.h"

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

  ASSERT_TRUE(coord_
                  ->Set("/reborn/p/proxies/proxy-2",
                        R"({"id":"proxy-2","state":"offline"})",
                        Coordinator::kAnyVersion)
                  .ok());
  EXPECT_TRUE(Eventually([&] { return !(*source)->online(); }));
  auto conn = net::SyncClient::Connect("127.0.0.1", (*proxy)->port(),
                                       std::chrono::milliseconds(2000));
  ASSERT_TRUE(conn.ok());
  auto reply = conn->Call({"PING"});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->str, "ERR proxy is offline");

  ASSERT_TRUE(coord_
                  ->Set("/reborn/p/proxies/proxy-2",
                        R"({"id":"proxy-2","state":"online"})",
                        Coordinator::kAnyVersion)
                  .ok());
  EXPECT_TRUE(Eventually([&] { return (*source)->online(); }));

  absl::Status expired = coord_->ExpireSessionForTest();
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

}  // namespace
}  // namespace reborn
