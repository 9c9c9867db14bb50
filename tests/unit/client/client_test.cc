// The in-process Client against two real redis-server groups (started here;
// redis-server is a test dependency), and an embedded Proxy in front of the
// same groups: both must route identically.
#include "reborn/client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client_fixture.h"
#include "net/sync_client.h"
#include "reborn/proxy.h"
#include "reborn/slot.h"

namespace reborn {
namespace {

using testing::Cat;
using testing::ClientTest;
using testing::RedisProcess;

TEST_F(ClientTest, ExecuteRoutesKeysToBothGroups) {
  for (int i = 0; i < 50; ++i) {
    auto r = client_->Execute({"SET", Cat("k", i), "v"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->type, Reply::Type::kStatus);
  }
  EXPECT_GT(DbSize(g1_), 0);
  EXPECT_GT(DbSize(g2_), 0);
  EXPECT_EQ(DbSize(g1_) + DbSize(g2_), 50);
  EXPECT_EQ(client_->Execute({"GET", "k7"})->str, "v");
}

TEST_F(ClientTest, SplitCommandsMerge) {
  std::vector<std::string> mset = {"MSET"};
  std::vector<std::string> mget = {"MGET"};
  for (int i = 0; i < 20; ++i) {
    mset.push_back(Cat("m", i));
    mset.push_back(std::to_string(i));
    mget.push_back(Cat("m", i));
  }
  mget.push_back("missing");
  EXPECT_EQ(client_->Execute(mset)->str, "OK");
  auto r = client_->Execute(mget);
  ASSERT_EQ(r->elements.size(), 21u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r->elements[i].str, std::to_string(i));
  EXPECT_TRUE(r->elements[20].is_nil());
  EXPECT_EQ(client_->Execute({"DEL", "m1", "m2", "m3", "nope"})->integer, 3);
  EXPECT_EQ(client_->Execute({"EXISTS", "m1", "m4", "m5"})->integer, 2);
}

TEST_F(ClientTest, CrossSlotIsAnErrorReply) {
  auto r = client_->Execute({"SINTER", "a", "b", "c"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->str, "CROSSSLOT Keys in request don't hash to the same slot");
  EXPECT_FALSE(client_->Execute({}).ok());
}

// Keys in `slots` [from, to): static:// gives slots 0-511 to the first
// group and 512-1023 to the second.
std::vector<std::string> KeysInSlots(int from, int to, size_t n) {
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < n && i < 100000; ++i) {
    std::string key = Cat("tx", i);
    if (SlotOf(key) >= from && SlotOf(key) < to) keys.push_back(key);
  }
  return keys;
}

TEST_F(ClientTest, TransactionSpansSlotsOfOneGroup) {
  std::vector<std::string> g1 = KeysInSlots(0, 512, 3);
  ASSERT_NE(SlotOf(g1[0]), SlotOf(g1[1]));
  auto r = client_->ExecuteTransaction({{"SET", g1[0], "1"},
                                        {"INCR", g1[1]},
                                        {"MGET", g1[0], g1[1], g1[2]},
                                        {"LPUSH", g1[0], "x"}});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->type, Reply::Type::kArray);
  ASSERT_EQ(r->elements.size(), 4u);
  EXPECT_EQ(r->elements[0].str, "OK");
  EXPECT_EQ(r->elements[1].integer, 1);
  ASSERT_EQ(r->elements[2].elements.size(), 3u);
  EXPECT_EQ(r->elements[2].elements[0].str, "1");
  EXPECT_TRUE(r->elements[2].elements[2].is_nil());
  // A run-time error stays in its place; the others ran.
  EXPECT_TRUE(r->elements[3].is_error());
  EXPECT_EQ(DbSize(g1_), 2);
}

TEST_F(ClientTest, TransactionAcrossGroupsRunsNothing) {
  std::string a = KeysInSlots(0, 512, 1)[0];
  std::string b = KeysInSlots(512, 1024, 1)[0];
  auto r = client_->ExecuteTransaction({{"SET", a, "1"}, {"SET", b, "2"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->str, "CROSSSLOT Keys in request don't hash to the same slot");
  EXPECT_EQ(DbSize(g1_) + DbSize(g2_), 0);
  // A command the client refuses (here: its arity) aborts the whole
  // transaction before anything is sent.
  auto aborted =
      client_->ExecuteTransaction({{"SET", a, "1"}, {"GET", a, "extra"}});
  ASSERT_TRUE(aborted.ok()) << aborted.status();
  EXPECT_EQ(aborted->str, "ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(DbSize(g1_), 0);
  EXPECT_FALSE(client_->ExecuteTransaction({}).ok());
  EXPECT_FALSE(client_->ExecuteTransaction({{"MULTI"}}).ok());
  EXPECT_FALSE(client_->ExecuteTransaction({{"SET", a, "1"}, {}}).ok());
}

TEST_F(ClientTest, BatchKeepsOrderAcrossGroups) {
  std::vector<std::vector<std::string>> batch;
  for (int i = 0; i < 30; ++i) {
    batch.push_back({"INCRBY", Cat("c", i % 7), "1"});
  }
  batch.push_back({"MGET", "c0", "c1", "c2"});
  auto r = client_->ExecuteBatch(batch);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 31u);
  EXPECT_EQ((*r)[0].integer, 1);
  EXPECT_EQ((*r)[7].integer, 2);
  EXPECT_EQ((*r)[29].integer, 5);  // c1: i = 1, 8, 15, 22, 29
  EXPECT_EQ((*r)[30].elements[1].str, "5");
}

TEST_F(ClientTest, ThreadSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 100; ++i) {
        (void)client_->Execute({"INCR", Cat("shared", i % 10)});
      }
      (void)t;
    });
  }
  for (auto& t : threads) t.join();
  int64_t total = 0;
  for (int i = 0; i < 10; ++i) {
    total += std::stoll(client_->Execute({"GET", Cat("shared", i)})->str);
  }
  EXPECT_EQ(total, 400);
}

TEST_F(ClientTest, EmbeddedProxyAgreesWithClient) {
  auto table =
      SlotTable::FromAddressList(absl::StrCat(g1_.addr(), ",", g2_.addr()));
  ProxyOptions options;
  options.addr = "127.0.0.1:0";
  options.threads = 1;
  auto proxy = Proxy::Start(options, MakeStaticSource(*table));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto conn = net::SyncClient::Connect("127.0.0.1", (*proxy)->port(),
                                       std::chrono::milliseconds(2000));
  ASSERT_TRUE(conn.ok());
  for (int i = 0; i < 20; ++i) {
    (void)client_->Execute({"SET", Cat("e", i), std::to_string(i)});
  }
  for (int i = 0; i < 20; ++i) {
    auto r = conn->Call({"GET", Cat("e", i)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->str, std::to_string(i));
  }
  EXPECT_EQ(conn->Call({"DBSIZE"})->integer, 20);
  (*proxy)->Stop();
}

TEST_F(ClientTest, ClusterKeyslotIsRedisClusters) {
  auto c = Client::Open("static://127.0.0.1:1", "p");
  ASSERT_TRUE(c.ok());
  auto r = (*c)->Execute({"CLUSTER", "KEYSLOT", "foo"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->integer, 12182);
}

TEST_F(ClientTest, UnknownSchemesFail) {
  auto c = Client::Open("nosuch://127.0.0.1:2181", "p");
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace reborn
