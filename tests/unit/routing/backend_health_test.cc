#include "routing/backend_health.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reborn/coordinator.h"
#include "reborn/qdb_server.h"

namespace reborn {
namespace {

using json = nlohmann::json;

TEST(BackendHealthTest, PublishesTheMastersDownAndClearsThem) {
  auto coord = Coordinator::Open("memory://backend-health");
  ASSERT_TRUE(coord.ok());
  auto store = QdbServer::Create({"--port", "0", "--engine", "memory"});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Start().ok());
  const std::string alive = absl::StrCat("127.0.0.1:", (*store)->port());
  // Port 1 on loopback: connection refused.
  absl::Mutex mu;
  std::vector<std::string> masters = {alive, "127.0.0.1:1"};
  BackendHealthOptions o;
  o.path = "/reborn/p/proxy_views/proxy-1";
  o.interval = absl::Hours(1);  // the test runs the rounds
  o.down_after = absl::ZeroDuration();
  o.timeout = absl::Milliseconds(500);
  BackendHealthReporter reporter(
      coord->get(),
      [&] {
        absl::MutexLock lock(&mu);
        return masters;
      },
      o);
  auto down = [&]() -> json {
    auto node = (*coord)->Get(o.path);
    if (!node.ok()) return nullptr;
    return json::parse(node->data)["down"];
  };
  // One failed check is not enough; nothing published while all is well.
  EXPECT_TRUE(reporter.RunOnce(absl::Now()));
  EXPECT_EQ(down(), nullptr);
  EXPECT_TRUE(reporter.RunOnce(absl::Now()));
  EXPECT_EQ(down(), json::array({"127.0.0.1:1"}));
  // Re-published every round while not empty (a fresh version each time).
  const int64_t version = (*coord)->Get(o.path)->version;
  EXPECT_TRUE(reporter.RunOnce(absl::Now()));
  EXPECT_GT((*coord)->Get(o.path)->version, version);
  // The dead master left the table: cleared once, then left alone.
  {
    absl::MutexLock lock(&mu);
    masters = {alive};
  }
  EXPECT_FALSE(reporter.RunOnce(absl::Now()));
  EXPECT_EQ(down(), json::array());
  const int64_t cleared = (*coord)->Get(o.path)->version;
  EXPECT_FALSE(reporter.RunOnce(absl::Now()));
  EXPECT_EQ((*coord)->Get(o.path)->version, cleared);
  (*store)->Stop();
}

}  // namespace
}  // namespace reborn
