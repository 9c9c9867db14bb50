// The typed calls of Client against two real redis-server groups: the C++
// types in and out, nil as std::nullopt, error replies as Status codes.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "client_fixture.h"
#include "reborn/client.h"

namespace reborn {
namespace {

using testing::Cat;
using testing::ClientTest;
using Pairs = std::vector<std::pair<std::string, std::string>>;
using absl::Milliseconds;

TEST_F(ClientTest, GetSetWithOptions) {
  EXPECT_EQ(*client_->Get("t:missing"), std::nullopt);
  EXPECT_TRUE(*client_->Set("t:a", std::string("v\0x", 3)));
  EXPECT_EQ(*client_->Get("t:a"), std::string("v\0x", 3));  // binary safe
  SetOptions nx;
  nx.condition = SetOptions::Condition::kIfAbsent;
  EXPECT_FALSE(*client_->Set("t:a", "other", nx));
  EXPECT_TRUE(*client_->Set("t:new", "n", nx));
  SetOptions xx;
  xx.condition = SetOptions::Condition::kIfPresent;
  EXPECT_FALSE(*client_->Set("t:absent", "x", xx));
  SetOptions ttl;
  ttl.ttl = Milliseconds(50000);
  EXPECT_TRUE(*client_->Set("t:ttl", "x", ttl));
  auto left = client_->Ttl("t:ttl");
  ASSERT_TRUE(left.ok());
  ASSERT_TRUE(left->has_value());
  EXPECT_GT(left->value(), absl::Seconds(40));
  EXPECT_LE(left->value(), absl::Seconds(50));
  SetOptions keep;
  keep.keep_ttl = true;
  EXPECT_TRUE(*client_->Set("t:ttl", "y", keep));
  EXPECT_TRUE(client_->Ttl("t:ttl")->has_value());
  EXPECT_EQ(*client_->Ttl("t:a"), std::nullopt);
  EXPECT_EQ(client_->Ttl("t:missing").status().code(),
            absl::StatusCode::kNotFound);
  SetOptions both = keep;
  both.ttl = Milliseconds(5);
  EXPECT_EQ(client_->Set("t:a", "v", both).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, MultiKeyCallsSpanGroups) {
  Pairs pairs;
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) {
    pairs.emplace_back(Cat("mk", i), Cat("v", i));
    keys.push_back(Cat("mk", i));
  }
  ASSERT_TRUE(client_->MSet(pairs).ok());
  keys.push_back("mk:missing");
  auto values = client_->MGet(keys);
  ASSERT_TRUE(values.ok());
  ASSERT_EQ(values->size(), 21u);
  EXPECT_EQ((*values)[3], "v3");
  EXPECT_EQ((*values)[20], std::nullopt);
  EXPECT_EQ(*client_->Exists(keys), 20);
  EXPECT_EQ(*client_->Del({"mk1", "mk2", "nope"}), 2);
  EXPECT_TRUE(*client_->Expire("mk3", Milliseconds(100000)));
  EXPECT_FALSE(*client_->Expire("nope", Milliseconds(1000)));
  EXPECT_EQ(*client_->IncrBy("counter"), 1);
  EXPECT_EQ(*client_->IncrBy("counter", -5), -4);
}

TEST_F(ClientTest, HashesListsSets) {
  EXPECT_EQ(*client_->HSet("h", {{"f1", "a"}, {"f2", "b"}}), 2);
  EXPECT_EQ(*client_->HGet("h", "f2"), "b");
  EXPECT_EQ(*client_->HGet("h", "nope"), std::nullopt);
  EXPECT_EQ(*client_->HGetAll("h"), (Pairs{{"f1", "a"}, {"f2", "b"}}));
  EXPECT_EQ(*client_->HDel("h", {"f1", "zz"}), 1);

  EXPECT_EQ(*client_->RPush("l", {"b", "c"}), 2);
  EXPECT_EQ(*client_->LPush("l", {"a"}), 3);
  EXPECT_EQ(*client_->LRange("l", 0, -1),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(*client_->LPop("l"), "a");
  EXPECT_EQ(*client_->RPop("l"), "c");
  EXPECT_EQ(*client_->RPop("l:none"), std::nullopt);

  EXPECT_EQ(*client_->SAdd("s", {"x", "y", "x"}), 2);
  EXPECT_TRUE(*client_->SIsMember("s", "y"));
  EXPECT_FALSE(*client_->SIsMember("s", "q"));
  EXPECT_EQ(client_->SMembers("s")->size(), 2u);
  EXPECT_EQ(*client_->SRem("s", {"x"}), 1);
}

TEST_F(ClientTest, SortedSetsKeepScoresExact) {
  EXPECT_EQ(*client_->ZAdd("z", {{"a", 1.5}, {"b", -0.1}, {"c", 1e300}}), 3);
  EXPECT_EQ(*client_->ZScore("z", "b"), -0.1);
  EXPECT_EQ(*client_->ZScore("z", "c"), 1e300);
  EXPECT_EQ(*client_->ZScore("z", "nope"), std::nullopt);
  EXPECT_EQ(*client_->ZIncrBy("z", 2.25, "a"), 3.75);
  auto range = client_->ZRangeWithScores("z", 0, -1);
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->size(), 3u);
  EXPECT_EQ((*range)[0], (std::pair<std::string, double>("b", -0.1)));
  EXPECT_EQ((*range)[1].second, 3.75);
  EXPECT_EQ(*client_->ZAdd("z", {{"inf", HUGE_VAL}}), 1);
  EXPECT_EQ(*client_->ZScore("z", "inf"), HUGE_VAL);
  EXPECT_EQ(*client_->ZRem("z", {"a", "nope"}), 1);
  EXPECT_EQ(client_->ZAdd("z", {{"nan", NAN}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, ErrorRepliesBecomeStatusCodes) {
  ASSERT_TRUE(*client_->Set("str", "v"));
  auto wrong = client_->HGet("str", "f");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(wrong.status().message(),
            "WRONGTYPE Operation against a key holding the wrong kind of "
            "value");
  EXPECT_EQ(client_->IncrBy("str").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromErrorReply(Reply::Error("TRYAGAIN slot moving")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromErrorReply(Reply::Error("NOPERM no")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusFromErrorReply(Reply::Error("OOM full")).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(ClientTest, EvalLoadsOnNoScriptThenUsesEvalSha) {
  const std::string script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  auto first = client_->Eval(script, {"ev"}, {"2"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->integer, 2);
  auto second = client_->Eval(script, {"ev"}, {"3"});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->integer, 5);
  EXPECT_EQ(
      client_
          ->Eval("return redis.call('GET', KEYS[1], KEYS[2])", {"a", "b"}, {})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);  // CROSSSLOT
}

}  // namespace
}  // namespace reborn
