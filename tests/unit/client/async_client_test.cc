// Client::ExecuteAsync / ExecuteFuture against two real redis-server groups:
// every callback runs exactly once, same-key order is kept, the executor
// and the pending bound are honoured, and destruction answers the queue.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client_fixture.h"
#include "reborn/client.h"

namespace reborn {
namespace {

using testing::Cat;
using testing::ClientTest;

// Counts completions and wakes the test when `expected` have arrived.
class Completions {
 public:
  explicit Completions(int expected) : expected_(expected) {}
  Client::Callback Track(std::function<void(const Reply&)> check = nullptr) {
    return [this, check](absl::StatusOr<Reply> r) {
      absl::MutexLock lock(&mu_);
      if (!r.ok()) {
        ++failures_;
      } else if (check) {
        check(*r);
      }
      if (++done_ == expected_) all_.Notify();
    };
  }
  bool Wait() { return all_.WaitForNotificationWithTimeout(absl::Seconds(30)); }
  int failures() {
    absl::MutexLock lock(&mu_);
    return failures_;
  }

 private:
  absl::Mutex mu_;
  const int expected_;
  int done_ ABSL_GUARDED_BY(mu_) = 0;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Notification all_;
};

TEST_F(ClientTest, AsyncFromManyThreadsAnswersEveryCommand) {
  constexpr int kThreads = 4, kPerThread = 2500, kKeys = 50;
  Completions done(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        client_->ExecuteAsync({"INCR", Cat("ac", (t * kPerThread + i) % kKeys)},
                              done.Track([](const Reply& r) {
                                EXPECT_EQ(r.type, Reply::Type::kInteger);
                              }));
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(done.Wait());
  EXPECT_EQ(done.failures(), 0);
  int64_t total = 0;
  for (int k = 0; k < kKeys; ++k) {
    total += std::stoll(**client_->Get(Cat("ac", k)));
  }
  EXPECT_EQ(total, kThreads * kPerThread);
}

TEST_F(ClientTest, AsyncKeepsOrderOnOneKey) {
  constexpr int kN = 3000;
  std::vector<int64_t> seen;
  absl::Mutex mu;
  Completions done(kN);
  for (int i = 0; i < kN; ++i) {
    client_->ExecuteAsync({"RPUSH", "ordered", std::to_string(i)},
                          done.Track([&](const Reply& r) {
                            absl::MutexLock lock(&mu);
                            seen.push_back(r.integer);
                          }));
  }
  ASSERT_TRUE(done.Wait());
  auto list = client_->LRange("ordered", 0, -1);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) ASSERT_EQ((*list)[i], std::to_string(i));
  // Callbacks of one lane complete in submission order.
  for (int i = 0; i < kN; ++i) ASSERT_EQ(seen[i], i + 1);
}

TEST_F(ClientTest, FuturesAndBadInput) {
  auto set = client_->ExecuteFuture({"SET", "fut", "1"});
  auto get = client_->ExecuteFuture({"GET", "fut"});
  EXPECT_EQ(set.get()->str, "OK");
  EXPECT_EQ(get.get()->str, "1");
  auto cross = client_->ExecuteFuture({"SINTER", "a", "b", "c"}).get();
  ASSERT_TRUE(cross.ok());
  EXPECT_TRUE(cross->is_error());
  EXPECT_EQ(client_->ExecuteFuture({}).get().status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AsyncClient, CallbacksRunOnTheExecutorAndTheQueueIsBounded) {
  testing::RedisProcess group;
  absl::Mutex mu;
  std::vector<std::function<void()>> posted;
  ClientOptions options;
  options.callback_executor = [&](std::function<void()> fn) {
    absl::MutexLock lock(&mu);
    posted.push_back(std::move(fn));
  };
  auto client =
      Client::Open(absl::StrCat("static://", group.addr()), "", options);
  ASSERT_TRUE(client.ok());
  std::atomic<int> ran{0};
  auto future = (*client)->ExecuteFuture({"PING"});
  (*client)->ExecuteAsync({"PING"}, [&](absl::StatusOr<Reply>) { ++ran; });
  // Nothing runs until the executor does.
  for (int i = 0; i < 200; ++i) {
    {
      absl::MutexLock lock(&mu);
      if (posted.size() == 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(ran.load(), 0);
  std::vector<std::function<void()>> to_run;
  {
    absl::MutexLock lock(&mu);
    to_run.swap(posted);
  }
  ASSERT_EQ(to_run.size(), 2u);
  for (auto& fn : to_run) fn();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(future.get()->str, "PONG");

  ClientOptions tight;
  tight.async_max_pending = 0;
  auto bounded =
      Client::Open(absl::StrCat("static://", group.addr()), "", tight);
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ((*bounded)->ExecuteFuture({"PING"}).get().status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(AsyncClient, DestructionAnswersEveryQueuedCommand) {
  testing::RedisProcess group;
  constexpr int kN = 5000;
  std::atomic<int> answered{0};
  {
    auto client = Client::Open(absl::StrCat("static://", group.addr()), "");
    ASSERT_TRUE(client.ok());
    for (int i = 0; i < kN; ++i) {
      (*client)->ExecuteAsync({"INCR", "drain"}, [&](absl::StatusOr<Reply> r) {
        if (r.ok() && !r->is_error()) ++answered;
      });
    }
  }
  EXPECT_EQ(answered.load(), kN);
}

}  // namespace
}  // namespace reborn
