#include "server/slowlog.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace reborn::server {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Args(std::initializer_list<const char*> a) {
  return std::vector<std::string>(a.begin(), a.end());
}

TEST(SlowLogTest, KeepsNewestFirstUpToMaxLen) {
  SlowLog log;
  log.set_threshold_us(0);
  log.set_max_len(3);
  for (int i = 0; i < 5; ++i) {
    log.Push({"ping", std::to_string(i)}, {}, i, "1.2.3.4:5", "n", 100 + i);
  }
  EXPECT_EQ(log.Len(), 3u);
  std::vector<SlowLog::Entry> all = log.Get(-1);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, 4);
  EXPECT_EQ(all[2].id, 2);
  EXPECT_THAT(all[0].args, ElementsAre("ping", "4"));
  EXPECT_EQ(all[0].duration_us, 4);
  EXPECT_EQ(all[0].unix_time, 104);
  EXPECT_EQ(all[0].peer, "1.2.3.4:5");
  EXPECT_EQ(all[0].name, "n");
  EXPECT_EQ(log.Get(2).size(), 2u);
  EXPECT_EQ(log.Get(0).size(), 0u);
  log.set_max_len(1);
  EXPECT_EQ(log.Get(-1)[0].id, 4);
  log.Reset();
  EXPECT_EQ(log.Len(), 0u);
  // Ids keep counting after a reset, as in Redis.
  log.Push(Args({"get"}), {}, 0, "", "", 0);
  EXPECT_EQ(log.Get(1)[0].id, 5);
}

TEST(SlowLogTest, ThresholdAndDisabled) {
  SlowLog log;
  log.set_threshold_us(100);
  EXPECT_FALSE(log.Wants(99));
  EXPECT_TRUE(log.Wants(100));
  log.Push(Args({"fast"}), {}, 50, "", "", 0);
  log.Push(Args({"slow"}), {}, 150, "", "", 0);
  EXPECT_EQ(log.Len(), 1u);
  log.set_threshold_us(-1);
  EXPECT_FALSE(log.Wants(1000000));
  log.Push(Args({"slower"}), {}, 1000000, "", "", 0);
  EXPECT_EQ(log.Len(), 1u);
  log.set_max_len(0);
  EXPECT_EQ(log.Len(), 0u);
}

TEST(SlowLogTest, TrimsArgumentsLikeRedis) {
  std::vector<std::string> many = {"sadd", "set"};
  for (int i = 3; i <= 33; ++i) many.push_back(std::to_string(i));
  ASSERT_EQ(many.size(), 33u);
  std::vector<std::string> kept = SlowLog::Trim(many, {});
  ASSERT_EQ(kept.size(), 32u);
  EXPECT_EQ(kept[30], "31");
  EXPECT_EQ(kept[31], "... (2 more arguments)");
  std::vector<std::string> exactly(32, "x");
  EXPECT_EQ(SlowLog::Trim(exactly, {}), exactly);

  std::vector<std::string> long_arg = {"set", "k", std::string(129, 'A'),
                                       std::string(128, 'B')};
  kept = SlowLog::Trim(long_arg, {});
  EXPECT_EQ(kept[2], std::string(128, 'A') + "... (1 more bytes)");
  EXPECT_EQ(kept[3], std::string(128, 'B'));
  // A redacted argument shows no prefix of the secret however long.
  kept = SlowLog::Trim(long_arg, {2});
  EXPECT_EQ(kept[2], "(redacted)");
}

std::vector<size_t> Redacted(std::vector<std::string> args) {
  const CommandSpec* spec = FindCommandSpec(args[0]);
  EXPECT_NE(spec, nullptr);
  std::vector<size_t> positions;
  EXPECT_TRUE(RedactedArgs(*spec, args, &positions));
  return positions;
}

TEST(SlowLogTest, RedactsAsRedisDoes) {
  EXPECT_THAT(Redacted({"auth", "pw"}), ElementsAre(1));
  EXPECT_THAT(Redacted({"AUTH", "user", "pw"}), ElementsAre(1, 2));
  EXPECT_THAT(Redacted({"auth", "a", "b", "c"}), ElementsAre());
  EXPECT_THAT(Redacted({"hello", "3", "AUTH", "u", "p", "SETNAME", "n"}),
              ElementsAre(3, 4));
  EXPECT_THAT(Redacted({"hello", "4", "AUTH", "u", "p"}), ElementsAre());
  EXPECT_THAT(Redacted({"hello", "2", "bogus", "AUTH", "u", "p"}),
              ElementsAre());
  EXPECT_THAT(Redacted({"config", "set", "masterauth", "x", "requirepass", "y",
                        "maxmemory", "1"}),
              ElementsAre(3, 5));
  EXPECT_THAT(Redacted({"config", "get", "masterauth"}), ElementsAre());
  EXPECT_THAT(Redacted({"get", "k"}), ElementsAre());
  std::vector<size_t> positions;
  EXPECT_FALSE(RedactedArgs(*FindCommandSpec("exec"), {"exec"}, &positions));
}

TEST(SlowLogTest, ConcurrentPushesStayBounded) {
  SlowLog log;
  log.set_threshold_us(0);
  log.set_max_len(20);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 500; ++i) {
        log.Push({"set", std::to_string(t), std::to_string(i)}, {}, i, "", "",
                 0);
        if (i % 50 == 0) log.Get(-1);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<SlowLog::Entry> all = log.Get(-1);
  ASSERT_EQ(all.size(), 20u);
  EXPECT_EQ(all[0].id, 1999);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, all[i - 1].id - 1);
  }
}

}  // namespace
}  // namespace reborn::server
