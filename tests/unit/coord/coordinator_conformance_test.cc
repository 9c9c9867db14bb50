// The Coordinator conformance suite (reborn/testing/coordinator_conformance.h)
// run against every built-in backend: memory, a real ZooKeeper and a real
// etcd (each started once per suite on free ports); plus the registry.

#include "reborn/testing/coordinator_conformance.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coord/builtin_backends.h"
#include "coord/memory_coordinator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reborn/coordinator.h"
#include "test_servers.h"

namespace reborn {
namespace {

using ::reborn::testing::EtcdServer;
using ::reborn::testing::ZooKeeperServer;

struct MemoryBackend {
  static absl::StatusOr<std::unique_ptr<Coordinator>> Open(
      const std::string& ns) {
    return Coordinator::Open(absl::StrCat("memory://", ns));
  }
  static void Partition(Coordinator* c) {
    static_cast<coord::MemoryCoordinator*>(c)->SetPartitionedForTest(true);
  }
  static void Heal(Coordinator* c) {
    static_cast<coord::MemoryCoordinator*>(c)->SetPartitionedForTest(false);
  }
};

struct ZkBackend {
  static std::string SkipReason() {
    return coord::BuiltInBackendAvailable("zk")
               ? ""
               : "zk:// is not built (REBORN_WITH_ZOOKEEPER=OFF)";
  }
  static inline std::unique_ptr<ZooKeeperServer> server;
  static void SetUpSuite() {
    auto s = ZooKeeperServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    server = std::move(*s);
  }
  static void TearDownSuite() { server.reset(); }
  static absl::StatusOr<std::unique_ptr<Coordinator>> Open(
      const std::string& ns) {
    return Coordinator::Open(
        absl::StrCat("zk://", server->host_port(), "/conformance/", ns,
                     "?session_timeout_ms=3000&connect_timeout_ms=15000"));
  }
  static void Partition(Coordinator*) { server->Pause(); }
  static void Heal(Coordinator*) { server->Resume(); }
};

struct EtcdBackend {
  static std::string SkipReason() {
    return coord::BuiltInBackendAvailable("etcd")
               ? ""
               : "etcd:// is not built (REBORN_WITH_ETCD=OFF)";
  }
  static inline std::unique_ptr<EtcdServer> server;
  static void SetUpSuite() {
    auto s = EtcdServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    server = std::move(*s);
  }
  static void TearDownSuite() { server.reset(); }
  static absl::StatusOr<std::unique_ptr<Coordinator>> Open(
      const std::string& ns) {
    return Coordinator::Open(
        absl::StrCat("etcd://", server->host_port(), "/conformance/", ns,
                     "?session_timeout_ms=3000&connect_timeout_ms=1000"));
  }
  static void Partition(Coordinator*) { server->Pause(); }
  static void Heal(Coordinator*) { server->Resume(); }
};

}  // namespace
}  // namespace reborn

REBORN_COORDINATOR_CONFORMANCE_TEST(Memory, ::reborn::MemoryBackend);
REBORN_COORDINATOR_CONFORMANCE_TEST(ZooKeeper, ::reborn::ZkBackend);
REBORN_COORDINATOR_CONFORMANCE_TEST(Etcd, ::reborn::EtcdBackend);

namespace reborn {
namespace {

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
