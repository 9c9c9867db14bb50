// The etcd backend's Multi planner without etcd: the compares and writes a
// batch becomes, and the results and errors read back from a reply. The
// conformance suite runs the same logic against a real etcd.
#include "coord/etcd_txn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace reborn::coord::etcd {
namespace {

constexpr char kPrefix[] = "/t";

// The compares of a plan as "TARGET RESULT key[..end] value".
std::vector<std::string> Compares(const TxnPlan& plan) {
  std::vector<std::string> out;
  for (const json& c : plan.request["compare"]) {
    std::string line = c["target"].get<std::string>() + " " +
                       c["result"].get<std::string>() + " " + UnB64(c["key"]);
    if (c.contains("range_end")) line += ".." + UnB64(c["range_end"]);
    out.push_back(line);
  }
  return out;
}

TEST(EtcdTxnTest, CreateChecksParentAndAbsence) {
  auto plan = PlanTxn({CoordOp::Create("/a/b", "v", CreateMode::kPersistent)},
                      kPrefix, /*lease=*/7, /*read_rev=*/0);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Compares(*plan),
            (std::vector<std::string>{"CREATE GREATER /t/a", "LEASE EQUAL /t/a",
                                      "CREATE EQUAL /t/a/b"}));
  ASSERT_EQ(plan->request["success"].size(), 1u);
  const json& put = plan->request["success"][0]["request_put"];
  EXPECT_EQ(UnB64(put["key"]), "/t/a/b");
  EXPECT_EQ(UnB64(put["value"]), "v");
  EXPECT_FALSE(put.contains("lease"));  // persistent
  EXPECT_EQ(plan->results[0].path, "/a/b");
}

TEST(EtcdTxnTest, EphemeralSequentialTakesLeaseAndRevision) {
  const std::vector<CoordOp> ops = {
      CoordOp::Create("/q/n-", "x", CreateMode::kEphemeralSequential)};
  EXPECT_TRUE(NeedsRevision(ops));
  EXPECT_FALSE(NeedsRevision({CoordOp::Set("/q", "x", -1)}));
  auto plan = PlanTxn(ops, kPrefix, /*lease=*/42, /*read_rev=*/99);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->results[0].path, "/q/n-0000000100");
  const json& put = plan->request["success"][0]["request_put"];
  EXPECT_EQ(put["lease"], "42");
  // A newer write under /q than the revision read means the number may be
  // taken: that compare is marked for a retry.
  bool has_retry = false;
  for (const TxnCompare& c : plan->compares) {
    if (c.target == TxnCompare::Target::kMod) has_retry = c.retry;
  }
  EXPECT_TRUE(has_retry);
}

TEST(EtcdTxnTest, RefusalsKnownFromTheOpsAlone) {
  auto twice = PlanTxn({CoordOp::Create("/a", "", CreateMode::kPersistent),
                        CoordOp::Create("/a", "", CreateMode::kPersistent)},
                       kPrefix, 0, 0);
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(twice.status().message(), "op 1: /a exists");
  auto root = PlanTxn({CoordOp::Delete("/")}, kPrefix, 0, 0);
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  auto child_of_ephemeral =
      PlanTxn({CoordOp::Create("/e", "", CreateMode::kEphemeral),
               CoordOp::Create("/e/c", "", CreateMode::kPersistent)},
              kPrefix, 1, 0);
  EXPECT_EQ(child_of_ephemeral.status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(EtcdTxnTest, DeleteAfterItsChildrenLeavesThemOutOfTheEmptyCheck) {
  auto plan =
      PlanTxn({CoordOp::Delete("/p/c"), CoordOp::Delete("/p")}, kPrefix, 0, 0);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // /p/ must be empty except /p/c and its subtree: two gaps around them.
  std::vector<std::string> c = Compares(*plan);
  std::string child_end = std::string("/t/p/c") + '\0';
  EXPECT_NE(std::find(c.begin(), c.end(), "CREATE EQUAL /t/p/../t/p/c"),
            c.end());
  EXPECT_NE(
      std::find(c.begin(), c.end(), "CREATE EQUAL " + child_end + "../t/p/c/"),
      c.end());
  EXPECT_EQ(plan->request["success"].size(), 2u);
}

TEST(EtcdTxnTest, FailedCompareBecomesItsOpsError) {
  auto plan = PlanTxn({CoordOp::Set("/a", "1", 3)}, kPrefix, 0, 0);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // etcd's answer to a failed txn: the failure branch's ranges, one per
  // compare. /a exists (create_revision 5) at version 2 (our 1), not 4.
  json kv = {{"key", B64("/t/a")}, {"create_revision", "5"}, {"version", "2"}};
  json responses = json::array();
  for (size_t i = 0; i < plan->compares.size(); ++i) {
    responses.push_back({{"response_range", {{"kvs", json::array({kv})}}}});
  }
  bool retry = true;
  auto r = TxnResults(*plan, {{"responses", responses}}, &retry);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(r.status().message(), "op 0: version conflict on /a");
  EXPECT_FALSE(retry);
}

TEST(EtcdTxnTest, SetVersionsReadBackAfterSuccess) {
  auto plan =
      PlanTxn({CoordOp::Set("/a", "1", -1), CoordOp::Set("/a", "2", -1)},
              kPrefix, 0, 0);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->readback, std::vector<std::string>{"/a"});
  json responses = json::array();
  for (size_t i = 0; i < plan->readback_at; ++i) {
    responses.push_back({{"response_put", json::object()}});
  }
  responses.push_back(
      {{"response_range",
        {{"kvs", json::array({{{"key", B64("/t/a")}, {"version", "9"}}})}}}});
  bool retry = false;
  auto r = TxnResults(*plan, {{"succeeded", true}, {"responses", responses}},
                      &retry);
  ASSERT_TRUE(r.ok()) << r.status();
  // etcd version 9 is our 8 after both Sets; the first Set saw 7.
  EXPECT_EQ((*r)[0].version, 7);
  EXPECT_EQ((*r)[1].version, 8);
}

}  // namespace
}  // namespace reborn::coord::etcd
