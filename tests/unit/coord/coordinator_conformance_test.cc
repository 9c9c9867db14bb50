// One behaviour suite for every Coordinator backend: memory, a real
// ZooKeeper and a real etcd (each started once per suite on free ports).

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coord/builtin_backends.h"
#include "coord/memory_coordinator.h"
#include "coord_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reborn/coordinator.h"
#include "test_servers.h"

namespace reborn {
namespace {

using ::reborn::testing::EtcdServer;
using ::reborn::testing::EventLog;
using ::reborn::testing::Eventually;
using ::reborn::testing::ZooKeeperServer;
using ::testing::ElementsAre;

constexpr absl::Duration kWait = absl::Seconds(10);

std::string TestName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return absl::StrCat(info->name());
}

struct MemoryBackend {
  static void SetUpSuite() {}
  static void TearDownSuite() {}
  static std::string Uri(const std::string& ns) {
    return absl::StrCat("memory://", ns);
  }
  static void Partition(Coordinator* c) {
    static_cast<coord::MemoryCoordinator*>(c)->SetPartitionedForTest(true);
  }
  static void Heal(Coordinator* c) {
    static_cast<coord::MemoryCoordinator*>(c)->SetPartitionedForTest(false);
  }
};

struct ZkBackend {
  static inline std::unique_ptr<ZooKeeperServer> server;
  static void SetUpSuite() {
    if (!coord::BuiltInBackendAvailable("zk")) {
      GTEST_SKIP() << "zk:// is not built (REBORN_WITH_ZOOKEEPER=OFF)";
    }
    auto s = ZooKeeperServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    server = std::move(*s);
  }
  static void TearDownSuite() { server.reset(); }
  static std::string Uri(const std::string& ns) {
    return absl::StrCat("zk://", server->host_port(), "/conformance/", ns,
                        "?session_timeout_ms=3000&connect_timeout_ms=15000");
  }
  static void Partition(Coordinator*) { server->Pause(); }
  static void Heal(Coordinator*) { server->Resume(); }
};

struct EtcdBackend {
  static inline std::unique_ptr<EtcdServer> server;
  static void SetUpSuite() {
    if (!coord::BuiltInBackendAvailable("etcd")) {
      GTEST_SKIP() << "etcd:// is not built (REBORN_WITH_ETCD=OFF)";
    }
    auto s = EtcdServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    server = std::move(*s);
  }
  static void TearDownSuite() { server.reset(); }
  static std::string Uri(const std::string& ns) {
    return absl::StrCat("etcd://", server->host_port(), "/conformance/", ns,
                        "?session_timeout_ms=3000&connect_timeout_ms=1000");
  }
  static void Partition(Coordinator*) { server->Pause(); }
  static void Heal(Coordinator*) { server->Resume(); }
};

// Exists() answered, and said yes / no (an error, e.g. while a session is
// being renewed, is neither).
bool Present(Coordinator& c, const std::string& path) {
  absl::StatusOr<bool> e = c.Exists(path);
  return e.ok() && *e;
}
bool Absent(Coordinator& c, const std::string& path) {
  absl::StatusOr<bool> e = c.Exists(path);
  return e.ok() && !*e;
}

template <typename B>
class CoordinatorConformanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { B::SetUpSuite(); }
  static void TearDownTestSuite() { B::TearDownSuite(); }

  void SetUp() override {
    a_ = OpenSession();
    b_ = OpenSession();
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
  }

  std::unique_ptr<Coordinator> OpenSession() {
    auto c = Coordinator::Open(B::Uri(TestName()));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::unique_ptr<Coordinator> a_;
  std::unique_ptr<Coordinator> b_;
};

using Backends = ::testing::Types<MemoryBackend, ZkBackend, EtcdBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryBackend>) return "Memory";
    if (std::is_same_v<T, ZkBackend>) return "ZooKeeper";
    return "Etcd";
  }
};
TYPED_TEST_SUITE(CoordinatorConformanceTest, Backends, BackendNames);

TYPED_TEST(CoordinatorConformanceTest, CreateGetSetDeleteWithVersions) {
  Coordinator& c = *this->a_;
  ASSERT_EQ(*c.Create("/n", "v0", CreateMode::kPersistent), "/n");
  auto got = c.Get("/n");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->data, "v0");
  EXPECT_EQ(got->version, 0);
  EXPECT_FALSE(got->ephemeral);
  EXPECT_EQ(*c.Set("/n", "v1", 0), 1);
  EXPECT_EQ(*c.Set("/n", "v2", Coordinator::kAnyVersion), 2);
  EXPECT_EQ(this->b_->Get("/n")->data, "v2");
  EXPECT_TRUE(*c.Exists("/n"));
  EXPECT_TRUE(c.Delete("/n", 2).ok());
  EXPECT_FALSE(*c.Exists("/n"));
  EXPECT_TRUE(absl::IsNotFound(c.Get("/n").status()));
  EXPECT_TRUE(absl::IsNotFound(c.Set("/n", "x", -1).status()));
  EXPECT_TRUE(absl::IsNotFound(c.Delete("/n", -1)));
}

TYPED_TEST(CoordinatorConformanceTest, CreateErrorsAndPathChecks) {
  Coordinator& c = *this->a_;
  EXPECT_TRUE(absl::IsNotFound(
      c.Create("/missing/child", "", CreateMode::kPersistent).status()));
  ASSERT_TRUE(c.Create("/p", "", CreateMode::kPersistent).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(
      c.Create("/p", "", CreateMode::kPersistent).status()));
  ASSERT_TRUE(c.Create("/p/c", "", CreateMode::kPersistent).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(c.Delete("/p", -1)));
  EXPECT_TRUE(absl::IsInvalidArgument(c.Get("p").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(c.Get("/p/").status()));
  ASSERT_TRUE(c.CreateRecursive("/deep/er/path").ok());
  EXPECT_TRUE(*c.Exists("/deep/er/path"));
  EXPECT_TRUE(c.CreateRecursive("/deep/er/path").ok());
}

TYPED_TEST(CoordinatorConformanceTest, CasConflictsAreAbortedAndCountIsExact) {
  Coordinator& a = *this->a_;
  Coordinator& b = *this->b_;
  ASSERT_TRUE(a.Create("/ctr", "0", CreateMode::kPersistent).ok());
  EXPECT_TRUE(absl::IsAborted(a.Set("/ctr", "x", 5).status()));
  EXPECT_TRUE(absl::IsAborted(a.Delete("/ctr", 7)));

  // Two sessions, four threads, each incrementing with CAS retries.
  constexpr int kPerThread = 15;
  std::atomic<int> conflicts{0};
  auto worker = [&](Coordinator* c) {
    for (int i = 0; i < kPerThread; ++i) {
      while (true) {
        auto cur = c->Get("/ctr");
        ASSERT_TRUE(cur.ok()) << cur.status();
        int v = std::stoi(cur->data);
        auto set = c->Set("/ctr", std::to_string(v + 1), cur->version);
        if (set.ok()) break;
        ASSERT_TRUE(absl::IsAborted(set.status())) << set.status();
        conflicts++;
      }
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(worker, &a);
  threads.emplace_back(worker, &b);
  threads.emplace_back(worker, &a);
  threads.emplace_back(worker, &b);
  for (auto& t : threads) t.join();
  auto final = a.Get("/ctr");
  ASSERT_TRUE(final.ok());
  EXPECT_EQ(final->data, std::to_string(4 * kPerThread));
  EXPECT_EQ(final->version, 4 * kPerThread);
}

TYPED_TEST(CoordinatorConformanceTest, ChildrenAreSortedNames) {
  Coordinator& c = *this->a_;
  ASSERT_TRUE(c.Create("/dir", "", CreateMode::kPersistent).ok());
  EXPECT_TRUE(c.Children("/dir")->empty());
  for (const char* n : {"b", "a", "c"}) {
    ASSERT_TRUE(
        c.Create(CoordJoin("/dir", n), "", CreateMode::kPersistent).ok());
  }
  ASSERT_TRUE(c.Create("/dir/a/grandchild", "", CreateMode::kPersistent).ok());
  EXPECT_THAT(*c.Children("/dir"), ElementsAre("a", "b", "c"));
  EXPECT_TRUE(absl::IsNotFound(c.Children("/nope").status()));
}

TYPED_TEST(CoordinatorConformanceTest, SequentialNamesIncreaseInCreateOrder) {
  ASSERT_TRUE(this->a_->Create("/q", "", CreateMode::kPersistent).ok());
  std::vector<std::string> created;
  for (int i = 0; i < 6; ++i) {
    Coordinator& c = (i % 2 == 0) ? *this->a_ : *this->b_;
    auto p = c.Create(
        "/q/item-", absl::StrCat(i),
        i < 3 ? CreateMode::kSequential : CreateMode::kEphemeralSequential);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE(p->starts_with("/q/item-")) << *p;
    EXPECT_EQ(p->size(), std::string("/q/item-").size() + 10) << *p;
    if (!created.empty()) {
      EXPECT_LT(created.back(), *p);
    }
    created.push_back(*p);
  }
  auto kids = this->a_->Children("/q");
  ASSERT_TRUE(kids.ok());
  ASSERT_EQ(kids->size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(CoordJoin("/q", (*kids)[i]), created[i]);
    EXPECT_EQ(this->a_->Get(created[i])->data, absl::StrCat(i));
  }
}

TYPED_TEST(CoordinatorConformanceTest, EphemeralsGoWhenSessionCloses) {
  auto c = this->OpenSession();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(this->b_->Create("/eph", "", CreateMode::kPersistent).ok());
  ASSERT_TRUE(c->Create("/eph/mine", "x", CreateMode::kEphemeral).ok());
  auto got = this->b_->Get("/eph/mine");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->ephemeral);
  EXPECT_TRUE(absl::IsFailedPrecondition(
      c->Create("/eph/mine/kid", "", CreateMode::kPersistent).status()));
  c.reset();
  EXPECT_TRUE(
      Eventually([&] { return Absent(*this->b_, "/eph/mine"); }, kWait));
}

// Topology::ChangeOps takes the topology lock inside a transaction: a lock
// created there must go with its holder's session like any other.
TYPED_TEST(CoordinatorConformanceTest,
           EphemeralCreatedInAMultiGoesWithItsSession) {
  auto c = this->OpenSession();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(this->b_->Create("/mlock", "", CreateMode::kPersistent).ok());
  auto r =
      c->Multi({CoordOp::Create("/mlock/l", "me", CreateMode::kEphemeral),
                CoordOp::Create("/mlock/a-", "", CreateMode::kSequential)});
  ASSERT_TRUE(r.ok()) << r.status();
  auto got = this->b_->Get("/mlock/l");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->ephemeral);
  c.reset();
  EXPECT_TRUE(Eventually([&] { return Absent(*this->b_, "/mlock/l"); }, kWait));
  EXPECT_TRUE(Present(*this->b_, (*r)[1].path));
}

TYPED_TEST(CoordinatorConformanceTest, EphemeralsGoWhenSessionExpires) {
  EventLog log;
  auto listener = this->a_->AddSessionListener(log.SessionFn());
  ASSERT_TRUE(this->a_->Create("/e", "", CreateMode::kEphemeral).ok());
  ASSERT_TRUE(Present(*this->b_, "/e"));
  absl::Status expired = this->a_->ExpireSessionForTest();
  ASSERT_TRUE(expired.ok()) << expired;
  EXPECT_TRUE(log.WaitFor("session expired", kWait));
  EXPECT_TRUE(log.WaitFor("session connected", kWait));
  EXPECT_TRUE(Eventually([&] { return Absent(*this->b_, "/e"); }, kWait));
  // The new session works and owns new ephemerals.
  ASSERT_TRUE(Eventually(
      [&] { return this->a_->Create("/e", "", CreateMode::kEphemeral).ok(); },
      kWait));
  EXPECT_TRUE(Present(*this->b_, "/e"));
  EXPECT_EQ(this->a_->session_state(), SessionState::kConnected);
}

TYPED_TEST(CoordinatorConformanceTest, DataWatchSeesCreateChangeDelete) {
  EventLog log;
  auto sub = this->a_->Watch("/w", WatchKind::kData, log.WatchFn());
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_TRUE(this->b_->Create("/w", "1", CreateMode::kPersistent).ok());
  ASSERT_TRUE(log.WaitFor("created /w", kWait));
  ASSERT_TRUE(this->b_->Set("/w", "2", -1).ok());
  ASSERT_TRUE(log.WaitFor("changed /w", kWait));
  ASSERT_TRUE(this->b_->Delete("/w", -1).ok());
  ASSERT_TRUE(log.WaitFor("deleted /w", kWait));
  EXPECT_THAT(log.events(),
              ElementsAre("created /w", "changed /w", "deleted /w"));
  // After the Subscription is gone, no more callbacks.
  sub->reset();
  ASSERT_TRUE(this->b_->Create("/w", "3", CreateMode::kPersistent).ok());
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(log.size(), 3u);
}

TYPED_TEST(CoordinatorConformanceTest, ChildrenWatchSeesMembership) {
  ASSERT_TRUE(this->a_->Create("/kids", "", CreateMode::kPersistent).ok());
  EventLog log;
  auto sub = this->a_->Watch("/kids", WatchKind::kChildren, log.WatchFn());
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(this->b_->Create("/kids/x", "", CreateMode::kEphemeral).ok());
  ASSERT_TRUE(log.WaitFor("children /kids", kWait));
  size_t n = log.size();
  // Data changes of a child do not count as membership changes.
  ASSERT_TRUE(this->b_->Set("/kids/x", "data", -1).ok());
  ASSERT_TRUE(this->b_->Delete("/kids/x", -1).ok());
  ASSERT_TRUE(log.WaitFor("children /kids", kWait, n));
}

TYPED_TEST(CoordinatorConformanceTest, WatchesWorkAfterReconnect) {
  EventLog log;
  auto listener = this->a_->AddSessionListener(log.SessionFn());
  auto sub = this->a_->Watch("/r", WatchKind::kData, log.WatchFn());
  ASSERT_TRUE(sub.ok());
  TypeParam::Partition(this->a_.get());
  EXPECT_TRUE(log.WaitFor("session suspended", kWait));
  EXPECT_TRUE(absl::IsUnavailable(this->a_->Get("/r").status()) ||
              absl::IsNotFound(this->a_->Get("/r").status()));
  TypeParam::Heal(this->a_.get());
  ASSERT_TRUE(log.WaitFor("session connected", kWait));
  ASSERT_TRUE(log.WaitFor("resync /r", kWait));
  size_t n = log.size();
  ASSERT_TRUE(Eventually(
      [&] {
        return this->b_->Create("/r", "", CreateMode::kPersistent).ok() ||
               Present(*this->b_, "/r");
      },
      kWait));
  EXPECT_TRUE(log.WaitFor("created /r", kWait, n));
}

TYPED_TEST(CoordinatorConformanceTest, WatchesWorkAfterSessionExpiry) {
  EventLog log;
  auto sub = this->a_->Watch("/x", WatchKind::kData, log.WatchFn());
  ASSERT_TRUE(sub.ok());
  auto listener = this->a_->AddSessionListener(log.SessionFn());
  ASSERT_TRUE(this->a_->ExpireSessionForTest().ok());
  ASSERT_TRUE(log.WaitFor("session connected", kWait));
  ASSERT_TRUE(this->b_->Create("/x", "", CreateMode::kPersistent).ok());
  EXPECT_TRUE(log.WaitFor("created /x", kWait));
}

TYPED_TEST(CoordinatorConformanceTest, MultiIsAllOrNothing) {
  Coordinator& c = *this->a_;
  ASSERT_TRUE(c.Create("/m", "", CreateMode::kPersistent).ok());
  ASSERT_TRUE(c.Create("/m/a", "a0", CreateMode::kPersistent).ok());
  // The last op fails: nothing of the batch is applied.
  auto failed =
      c.Multi({CoordOp::Create("/m/b", "b0"), CoordOp::Set("/m/a", "a1", 0),
               CoordOp::Check("/m/a", 3)});
  EXPECT_TRUE(absl::IsAborted(failed.status())) << failed.status();
  EXPECT_FALSE(*c.Exists("/m/b"));
  EXPECT_EQ(c.Get("/m/a")->data, "a0");
  failed =
      c.Multi({CoordOp::Create("/m/b", "b0"), CoordOp::Create("/m/a", "dup")});
  EXPECT_TRUE(absl::IsAlreadyExists(failed.status())) << failed.status();
  EXPECT_FALSE(*c.Exists("/m/b"));
  failed = c.Multi({CoordOp::Set("/m/a", "x"), CoordOp::Delete("/m/zz")});
  EXPECT_TRUE(absl::IsNotFound(failed.status())) << failed.status();
  EXPECT_EQ(c.Get("/m/a")->data, "a0");

  auto ok = c.Multi({CoordOp::Check("/m/a", 0), CoordOp::Create("/m/b", "b0"),
                     CoordOp::Create("/m/b/c", "c0"),
                     CoordOp::Create("/m/s-", "", CreateMode::kSequential),
                     CoordOp::Set("/m/a", "a1", 0), CoordOp::Delete("/m/b/c")});
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->size(), 6u);
  EXPECT_EQ((*ok)[1].path, "/m/b");
  EXPECT_TRUE((*ok)[3].path.starts_with("/m/s-"));
  EXPECT_EQ((*ok)[4].version, 1);
  EXPECT_EQ(this->b_->Get("/m/a")->data, "a1");
  EXPECT_TRUE(Present(*this->b_, "/m/b"));
  EXPECT_TRUE(Absent(*this->b_, "/m/b/c"));
  EXPECT_TRUE(Present(*this->b_, (*ok)[3].path));
}

// Topology::PruneActions deletes an action with its acks in one Multi,
// children first; a parent whose children are not all named is refused and
// nothing is deleted.
TYPED_TEST(CoordinatorConformanceTest, MultiDeletesASubtreeChildrenFirst) {
  Coordinator& c = *this->a_;
  for (const char* path :
       {"/t", "/t/acks", "/t/acks/p1", "/t/acks/p1-x", "/t/acks/p2"}) {
    ASSERT_TRUE(c.Create(path, "", CreateMode::kPersistent).ok()) << path;
  }
  // "p1-x" sorts between "p1" and "p1/...": it must still count as a child.
  auto refused =
      c.Multi({CoordOp::Delete("/t/acks/p1"), CoordOp::Delete("/t/acks/p2"),
               CoordOp::Delete("/t/acks"), CoordOp::Delete("/t")});
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(Present(*this->b_, "/t/acks/p1"));
  refused =
      c.Multi({CoordOp::Delete("/t/acks/p1-x"), CoordOp::Delete("/t/acks/p2"),
               CoordOp::Delete("/t/acks")});
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(Present(*this->b_, "/t/acks/p2"));
  auto ok =
      c.Multi({CoordOp::Delete("/t/acks/p1"), CoordOp::Delete("/t/acks/p1-x"),
               CoordOp::Delete("/t/acks/p2"), CoordOp::Delete("/t/acks"),
               CoordOp::Delete("/t")});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(Absent(*this->b_, "/t"));
  EXPECT_TRUE(Absent(*this->b_, "/t/acks/p2"));
}

TEST(CoordinatorRegistryTest, UnknownSchemeAndBadUriAreClearErrors) {
  auto c = Coordinator::Open("nope://x/y");
  EXPECT_TRUE(absl::IsInvalidArgument(c.status()));
  EXPECT_THAT(std::string(c.status().message()),
              ::testing::HasSubstr("unknown coordinator scheme 'nope'"));
  EXPECT_TRUE(absl::IsInvalidArgument(Coordinator::Open("garbage").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      Coordinator::Open("memory://x?bogus=1").status()));
}

TEST(CoordinatorRegistryTest, RegisteredFactoryIsUsed) {
  std::string seen;
  ASSERT_TRUE(Coordinator::Register(
                  "mine",
                  [&seen](const CoordinatorUri& uri, const CoordinatorOptions&)
                      -> absl::StatusOr<std::unique_ptr<Coordinator>> {
                    seen = uri.hosts + "|" + uri.path;
                    return Coordinator::Open("memory://");
                  })
                  .ok());
  auto c = Coordinator::Open("mine://h1:1,h2:2/root/x");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(seen, "h1:1,h2:2|/root/x");
  EXPECT_TRUE((*c)->Create("/a", "", CreateMode::kPersistent).ok());
}

// A build without a built-in backend names the option that leaves it out.
TEST(CoordinatorRegistryTest, BackendsLeftOutOfTheBuildAreClearErrors) {
  for (auto [scheme, option] : std::vector<std::pair<std::string, std::string>>{
           {"zk", "REBORN_WITH_ZOOKEEPER"}, {"etcd", "REBORN_WITH_ETCD"}}) {
    if (coord::BuiltInBackendAvailable(scheme)) continue;
    std::string uri = absl::StrCat(scheme, "://127.0.0.1:1/x");
    auto c = Coordinator::Open(uri);
    EXPECT_TRUE(absl::IsInvalidArgument(c.status())) << c.status();
    EXPECT_THAT(std::string(c.status().message()),
                ::testing::HasSubstr(absl::StrCat(option, "=OFF")));
    EXPECT_THAT(std::string(c.status().message()), ::testing::HasSubstr(uri));
  }
  EXPECT_TRUE(coord::BuiltInBackendAvailable("memory"));
}

TEST(CoordinatorRegistryTest, UnreachableServersFailWithinTimeoutNamingUri) {
  int port = testing::FreeLoopbackPort();
  for (std::string scheme : std::vector<std::string>{"zk", "etcd"}) {
    if (!coord::BuiltInBackendAvailable(scheme)) continue;
    std::string uri = absl::StrCat(scheme, "://127.0.0.1:", port,
                                   "/x?connect_timeout_ms=500");
    absl::Time start = absl::Now();
    auto c = Coordinator::Open(uri);
    EXPECT_TRUE(absl::IsUnavailable(c.status())) << c.status();
    EXPECT_THAT(std::string(c.status().message()), ::testing::HasSubstr(uri));
    EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  }
}

}  // namespace
}  // namespace reborn
