// reborn-proxy and the Client apply one routing policy (reborn::Router):
// over the same two groups and the same table, the same command gets the
// same reply from both — the routing errors (CROSSSLOT, arity, unknown
// command, a slot held past the hold timeout) and the merged replies of
// split commands.
#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "../client/client_fixture.h"
#include "reborn/proxy.h"
#include "reborn/router.h"
#include "reborn/slot.h"
#include "resp/reply_parser.h"

namespace reborn::testing {
namespace {

using Args = std::vector<std::string>;

class ProxyClientParityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto table =
        SlotTable::FromAddressList(absl::StrCat(g1_.addr(), ",", g2_.addr()));
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = *table;
    source_ = MakeStaticSource(table_);
    ProxyOptions po;
    po.addr = "127.0.0.1:0";
    po.threads = 1;
    po.hold_timeout = absl::Milliseconds(200);
    auto proxy = Proxy::Start(po, source_);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
    ClientOptions co;
    co.hold_timeout = absl::Milliseconds(200);
    auto client = Client::Open(source_, co);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    auto conn = net::SyncClient::Connect("127.0.0.1", proxy_->port(),
                                         std::chrono::milliseconds(5000));
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::make_unique<net::SyncClient>(std::move(*conn));
    // A key on each group.
    for (int i = 0; key1_.empty() || key2_.empty(); ++i) {
      std::string key = Cat("k", i);
      int group = table_->slot(SlotOf(key)).group_id;
      if (group == table_->groups()[0].id && key1_.empty()) key1_ = key;
      if (group == table_->groups()[1].id && key2_.empty()) key2_ = key;
    }
  }
  void TearDown() override {
    conn_.reset();
    client_.reset();
    if (proxy_ != nullptr) proxy_->Stop();
  }

  Reply ViaProxy(const Args& args) {
    auto r = conn_->Call(args);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Reply::Error("no reply");
  }
  Reply ViaClient(const Args& args) {
    auto r = client_->Execute(args);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Reply::Error("no reply");
  }
  // Both answer an error with the same text; returns it.
  std::string SameError(const Args& args) {
    Reply p = ViaProxy(args);
    Reply c = ViaClient(args);
    EXPECT_TRUE(p.is_error()) << args[0];
    EXPECT_TRUE(c.is_error()) << args[0];
    EXPECT_EQ(p.str, c.str) << args[0];
    return p.str;
  }
  // Waits (bounded) until the proxy's worker uses the table just published:
  // GET key1_ fails (held) or succeeds, as `held` says.
  void AwaitProxyHolds(bool held) {
    for (int i = 0; i < 200; ++i) {
      if (ViaProxy({"GET", key1_}).is_error() == held) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "the proxy did not take the new table";
  }
  void SameReply(const Args& args) {
    Reply p = ViaProxy(args);
    Reply c = ViaClient(args);
    EXPECT_EQ(resp::EncodeReply(p), resp::EncodeReply(c)) << args[0];
  }

  RedisProcess g1_, g2_;
  std::shared_ptr<const SlotTable> table_;
  std::shared_ptr<StaticSlotTableSource> source_;
  std::unique_ptr<Proxy> proxy_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<net::SyncClient> conn_;
  std::string key1_, key2_;
};

TEST_F(ProxyClientParityTest, CrossSlotAndCrossGroupErrorsAreTheSame) {
  ASSERT_NE(table_->slot(SlotOf(key1_)).group_id,
            table_->slot(SlotOf(key2_)).group_id);
  const std::string cross = Router::kCrossSlotError;
  EXPECT_EQ(SameError({"RENAME", key1_, key2_}), cross);
  EXPECT_EQ(SameError({"SMOVE", key1_, key2_, "m"}), cross);
  EXPECT_EQ(SameError({"SINTERSTORE", "{d}", key1_, key2_}), cross);
  EXPECT_EQ(SameError({"EVAL", "return 1", "2", key1_, key2_}), cross);
  // Keys in two slots of one group are still two slots.
  EXPECT_EQ(SameError({"RENAME", "{a}1", "{b}1"}), cross);
}

TEST_F(ProxyClientParityTest, ArityAndUnknownCommandErrorsAreTheSame) {
  EXPECT_EQ(SameError({"MSET", key1_, "v", key2_}),
            "ERR wrong number of arguments for 'mset' command");
  EXPECT_EQ(SameError({"MGET"}),
            "ERR wrong number of arguments for 'mget' command");
  EXPECT_EQ(SameError({"GET"}),
            "ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(SameError({"NOSUCH", "x"}),
            "ERR unknown command 'NOSUCH', with args beginning with: 'x' ");
}

TEST_F(ProxyClientParityTest, RefusalsGiveTheSameReason) {
  for (const Args& args : {Args{"SLOTSINFO"}, Args{"SWAPDB", "0", "1"},
                           Args{"COPY", key1_, "{x}", "DB", "3"}}) {
    Reply p = ViaProxy(args);
    Reply c = ViaClient(args);
    ASSERT_TRUE(p.is_error() && c.is_error()) << args[0];
    std::string from_proxy = p.str;
    // The same text but for who refuses it.
    for (auto [name, who] :
         std::array<std::pair<std::string_view, std::string_view>, 2>{
             {{"reborn-proxy", "reborn::Client"},
              {"the proxy", "the client"}}}) {
      size_t at = from_proxy.find(name);
      if (at != std::string::npos) from_proxy.replace(at, name.size(), who);
    }
    EXPECT_EQ(from_proxy, c.str) << args[0];
  }
}

TEST_F(ProxyClientParityTest, SplitCommandsMergeAlike) {
  SameReply({"MSET", key1_, "a", key2_, "b", "{k}3", "c"});
  SameReply({"MGET", key2_, "nokey", key1_, "{k}3", key2_});
  SameReply({"EXISTS", key1_, key2_, "nokey", key1_});
  SameReply({"TOUCH", key1_, key2_});
  ASSERT_EQ(ViaProxy({"DEL", key1_, key2_, "nokey"}).integer, 2);
  EXPECT_EQ(ViaClient({"DEL", key1_, key2_, "nokey"}).integer, 0);
  // A backend's error in one part is the command's reply on both.
  ASSERT_EQ(ViaClient({"LPUSH", key2_, "x"}).integer, 1);
  EXPECT_EQ(SameError({"MSET", key1_, "a", key2_}),
            "ERR wrong number of arguments for 'mset' command");
  SameReply({"MGET", key1_, key2_});
  EXPECT_EQ(
      SameError({"GET", key2_}),
      "WRONGTYPE Operation against a key holding the wrong kind of value");
}

// SCAN: one policy (routing::ClusterScan) behind both, so the same cursor
// walks the same slots: every batch is the same, and the errors too.
TEST_F(ProxyClientParityTest, ScanWalksAlike) {
  std::vector<std::string> written;
  for (int i = 0; i < 60; ++i) {
    written.push_back(Cat("s", i));
    ASSERT_EQ(ViaClient({"SET", written.back(), "v"}).str, "OK");
  }
  ASSERT_EQ(ViaClient({"RPUSH", "s:list", "x"}).integer, 1);
  for (const Args& opts : {Args{"COUNT", "7"}, Args{"MATCH", "s1*"},
                           Args{"TYPE", "list", "COUNT", "3"}}) {
    std::vector<std::string> seen;
    std::string cursor = "0";
    int calls = 0;
    do {
      Args args = {"SCAN", cursor};
      args.insert(args.end(), opts.begin(), opts.end());
      Reply p = ViaProxy(args);
      Reply c = ViaClient(args);
      ASSERT_EQ(p.elements.size(), 2u) << p.str;
      ASSERT_EQ(c.elements.size(), 2u) << c.str;
      EXPECT_EQ(p.elements[0].str, c.elements[0].str);
      ASSERT_EQ(p.elements[1].elements.size(), c.elements[1].elements.size());
      for (size_t i = 0; i < p.elements[1].elements.size(); ++i) {
        EXPECT_EQ(p.elements[1].elements[i].str, c.elements[1].elements[i].str);
        seen.push_back(c.elements[1].elements[i].str);
      }
      cursor = c.elements[0].str;
      if (cursor != "0") {
        EXPECT_FALSE(c.elements[1].elements.empty());
      }
      ASSERT_LT(++calls, 200);
    } while (cursor != "0");
    std::vector<std::string> want;
    if (opts[0] == "TYPE") {
      want = {"s:list"};
    } else {
      for (const std::string& k : written) {
        if (opts[0] == "COUNT" || k.rfind("s1", 0) == 0) want.push_back(k);
      }
      if (opts[0] == "COUNT") want.push_back("s:list");
    }
    std::sort(seen.begin(), seen.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(seen, want) << opts[0];
  }
  EXPECT_EQ(SameError({"SCAN", "x"}), "ERR invalid cursor");
  EXPECT_EQ(SameError({"SCAN", "0", "COUNT", "0"}), "ERR syntax error");
  EXPECT_EQ(SameError({"SCAN", "0", "COUNT", "y"}),
            "ERR value is not an integer or out of range");
}

TEST_F(ProxyClientParityTest, HeldSlotTimesOutWithTheSameText) {
  std::array<TableSlot, kSlotCount> slots;
  for (int i = 0; i < kSlotCount; ++i) slots[i] = table_->slot(i);
  TableSlot& held = slots[SlotOf(key1_)];
  held.migrate_from = held.group_id;
  held.migrate_to = held.group_id;
  held.state = SlotState::kPreMigrate;
  auto table = SlotTable::Create(table_->groups(), slots, 2);
  ASSERT_TRUE(table.ok()) << table.status();
  source_->Publish(*table);
  AwaitProxyHolds(true);
  EXPECT_EQ(SameError({"GET", key1_}), Router::kHoldTimeoutError);
  EXPECT_EQ(SameError({"MGET", key1_, key2_}), Router::kHoldTimeoutError);
  SameReply({"GET", key2_});  // other slots are served meanwhile
  source_->Publish(table_);
  AwaitProxyHolds(false);
  SameReply({"GET", key1_});
}

TEST_F(ProxyClientParityTest, BatchesAdmitAsSingleCommandsDo) {
  auto replies = client_->ExecuteBatch(
      {{"SET", key1_, "v"}, {"SUBSCRIBE", "c"}, {"GET", key1_}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 3u);
  EXPECT_EQ((*replies)[1].str, ViaClient({"SUBSCRIBE", "c"}).str);
  EXPECT_EQ((*replies)[1].str,
            "ERR SUBSCRIBE is not supported by reborn::Client: Pub/Sub needs "
            "a connection of its own: use reborn-proxy");
  EXPECT_EQ((*replies)[2].str, "v");
}

}  // namespace
}  // namespace reborn::testing
