// Concurrency: striped key locks make read-modify-write commands atomic.
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine_fixture.h"

namespace reborn {
namespace {

using ConcurrencyTest = EngineTest;

TEST_P(ConcurrencyTest, EightClientsIncrOneKey) {
  constexpr int kThreads = 8;
  constexpr int kIncrs = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      QdbEngine::Context ctx;
      for (int i = 0; i < kIncrs; ++i) {
        Reply r = engine_->Execute(ctx, {"INCR", "counter"});
        ASSERT_EQ(r.type, Reply::Type::kInteger);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(R("GET", "counter"), Str(std::to_string(kThreads * kIncrs)));
}

TEST_P(ConcurrencyTest, AppendAndSetrangeNeverTear) {
  // Appenders add 8-byte records; a SETRANGE writer overwrites whole
  // records in place. Every record must stay one of the written patterns.
  constexpr int kAppenders = 4;
  constexpr int kRecords = 500;
  ASSERT_EQ(R("SET", "log", ""), Ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < kAppenders; ++t) {
    threads.emplace_back([&, t] {
      QdbEngine::Context ctx;
      const std::string rec(8, static_cast<char>('a' + t));
      for (int i = 0; i < kRecords; ++i) {
        ASSERT_EQ(engine_->Execute(ctx, {"APPEND", "log", rec}).type,
                  Reply::Type::kInteger);
      }
    });
  }
  std::atomic<bool> done{false};
  std::thread rewriter([&] {
    QdbEngine::Context ctx;
    int i = 0;
    while (!done.load()) {
      Reply len = engine_->Execute(ctx, {"STRLEN", "log"});
      int64_t records = len.integer / 8;
      if (records == 0) continue;
      const int64_t at = (i++ % records) * 8;
      engine_->Execute(
          ctx, {"SETRANGE", "log", std::to_string(at), std::string(8, 'Z')});
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  rewriter.join();
  Reply v = R("GET", "log");
  ASSERT_EQ(v.str.size(), static_cast<size_t>(kAppenders * kRecords * 8));
  for (size_t i = 0; i < v.str.size(); i += 8) {
    const std::string rec = v.str.substr(i, 8);
    EXPECT_EQ(rec, std::string(8, rec[0])) << "torn record at " << i;
  }
}

TEST_P(ConcurrencyTest, MixedWritersKeepCountsExact) {
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      QdbEngine::Context ctx;
      for (int i = 0; i < 2000; ++i) {
        const std::string key = absl::StrCat("k", (i * 7 + t) % 50);
        switch ((i + t) % 5) {
          case 0:
            engine_->Execute(ctx, {"SET", key, "v"});
            break;
          case 1:
            engine_->Execute(ctx, {"DEL", key});
            break;
          case 2:
            engine_->Execute(ctx, {"SET", key, "v", "EX", "100"});
            break;
          case 3:
            engine_->Execute(ctx, {"RENAME", key, key + "x"});
            break;
          case 4:
            engine_->Execute(ctx, {"PERSIST", key});
            break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  Reply keys = R("KEYS", "*");
  EXPECT_EQ(R("DBSIZE"), Int(static_cast<int64_t>(keys.elements.size())));
  int64_t with_ttl = 0;
  for (const Reply& k : keys.elements) with_ttl += R("TTL", k.str).integer > 0;
  std::string info = engine_->Info("keyspace");
  EXPECT_NE(info.find("expires=" + std::to_string(with_ttl) + ","),
            std::string::npos)
      << info;
}

REBORN_ALL_ENGINES(ConcurrencyTest);

}  // namespace
}  // namespace reborn
