#pragma once

// The Coordinator conformance suite: the behaviour every backend must have
// (reborn/coordinator.h's contract: versions and CAS, error codes,
// ephemerals, sequential names, watches, session life cycle, Multi), as
// gtest tests. The built-in memory://, zk:// and etcd:// backends are tested
// with it; a custom backend's author runs the same tests against theirs:
//
//   #include "reborn/testing/coordinator_conformance.h"
//
//   struct MyBackend {
//     static absl::StatusOr<std::unique_ptr<reborn::Coordinator>> Open(
//         const std::string& ns) {
//       return reborn::Coordinator::Open("mine://host:1234/" + ns);
//     }
//   };
//   REBORN_COORDINATOR_CONFORMANCE_TEST(Mine, MyBackend);
//
// and links the test with reborn::reborn and GTest::gtest_main. Include this
// header in one .cc file of a test binary only (it defines the tests).
//
// A backend type B has static members:
//   Open(ns)       required: opens a new session. Sessions opened with the same
//                  `ns` share one tree; different `ns` are independent (each
//                  test opens its sessions with its own name). Two or more
//                  sessions are open at once.
//   SetUpSuite(), TearDownSuite()
//                  optional: run once around the suite (start and stop a
//                  server). Fail with gtest assertions.
//   SkipReason()   optional: a non-empty string skips every test (the
//                  backend is not available in this build or machine).
//   Partition(c), Heal(c)
//                  optional: cut session `c` off from its server and
//                  reconnect it (the server keeps the session). Without them
//                  the reconnect test is skipped.
// The session-expiry tests run when the backend implements
// reborn::testing::SessionExpiry (reborn/testing/session_expiry.h) and are
// skipped otherwise. Every wait is bounded (10 s).

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reborn/coordinator.h"
#include "reborn/testing/session_expiry.h"

namespace reborn::testing {

// Records watch events and session states as strings ("changed /a",
// "session connected"), so tests can wait for them and assert on order.
// Thread-safe.
class EventLog {
 public:
  WatchCallback WatchFn() {
    return [this](const WatchEvent& e) {
      Add(std::string(WatchEventTypeName(e.type)) + " " + e.path);
    };
  }
  SessionCallback SessionFn() {
    return [this](SessionState s) {
      Add("session " + std::string(SessionStateName(s)));
    };
  }
  void Add(std::string s) {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(s));
  }
  // Waits until `entry` has been logged (at or after position `from`).
  bool WaitFor(const std::string& entry, absl::Duration timeout,
               size_t from = 0) {
    absl::MutexLock lock(&mu_);
    auto found = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (size_t i = from; i < events_.size(); ++i) {
        if (events_[i] == entry) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&found), timeout);
  }
  std::vector<std::string> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return events_.size();
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    events_.clear();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

// Polls `pred` until true or timeout.
inline bool Eventually(const std::function<bool()>& pred,
                       absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return pred();
}

namespace internal {

template <typename B>
constexpr bool kCanPartition = requires(Coordinator* c) {
  B::Partition(c);
  B::Heal(c);
};

inline constexpr absl::Duration kWait = absl::Seconds(10);

inline std::string TestName() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

// Exists() answered, and said yes / no (an error, e.g. while a session is
// being renewed, is neither).
inline bool Present(Coordinator& c, const std::string& path) {
  absl::StatusOr<bool> e = c.Exists(path);
  return e.ok() && *e;
}
inline bool Absent(Coordinator& c, const std::string& path) {
  absl::StatusOr<bool> e = c.Exists(path);
  return e.ok() && !*e;
}

}  // namespace internal

template <typename B>
class CoordinatorConformanceTest : public ::testing::Test {
 protected:
  // Non-empty: the backend cannot run here (B::SkipReason()); every test is
  // skipped and SetUpSuite() is not called.
  static std::string SkipReason() {
    if constexpr (requires { std::string(B::SkipReason()); }) {
      return std::string(B::SkipReason());
    } else {
      return "";
    }
  }
  static void SetUpTestSuite() {
    if constexpr (requires { B::SetUpSuite(); }) {
      if (SkipReason().empty()) B::SetUpSuite();
    }
  }
  static void TearDownTestSuite() {
    if constexpr (requires { B::TearDownSuite(); }) {
      if (SkipReason().empty()) B::TearDownSuite();
    }
  }

  void SetUp() override {
    if (std::string why = SkipReason(); !why.empty()) GTEST_SKIP() << why;
    a_ = OpenSession();
    b_ = OpenSession();
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
  }

  std::unique_ptr<Coordinator> OpenSession() {
    absl::StatusOr<std::unique_ptr<Coordinator>> c =
        B::Open(internal::TestName());
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::unique_ptr<Coordinator> a_;
  std::unique_ptr<Coordinator> b_;
};

TYPED_TEST_SUITE_P(CoordinatorConformanceTest);

TYPED_TEST_P(CoordinatorConformanceTest, CreateGetSetDeleteWithVersions) {
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

TYPED_TEST_P(CoordinatorConformanceTest, CreateErrorsAndPathChecks) {
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

TYPED_TEST_P(CoordinatorConformanceTest,
             CasConflictsAreAbortedAndCountIsExact) {
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

TYPED_TEST_P(CoordinatorConformanceTest, ChildrenAreSortedNames) {
  Coordinator& c = *this->a_;
  ASSERT_TRUE(c.Create("/dir", "", CreateMode::kPersistent).ok());
  EXPECT_TRUE(c.Children("/dir")->empty());
  for (const char* n : {"b", "a", "c"}) {
    ASSERT_TRUE(
        c.Create(CoordJoin("/dir", n), "", CreateMode::kPersistent).ok());
  }
  ASSERT_TRUE(c.Create("/dir/a/grandchild", "", CreateMode::kPersistent).ok());
  EXPECT_THAT(*c.Children("/dir"), ::testing::ElementsAre("a", "b", "c"));
  EXPECT_TRUE(absl::IsNotFound(c.Children("/nope").status()));
}

TYPED_TEST_P(CoordinatorConformanceTest, SequentialNamesIncreaseInCreateOrder) {
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

TYPED_TEST_P(CoordinatorConformanceTest, EphemeralsGoWhenSessionCloses) {
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
      Eventually([&] { return internal::Absent(*this->b_, "/eph/mine"); },
                 internal::kWait));
}

// Topology::ChangeOps takes the topology lock inside a transaction: a lock
// created there must go with its holder's session like any other.
TYPED_TEST_P(CoordinatorConformanceTest,
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
  EXPECT_TRUE(
      Eventually([&] { return internal::Absent(*this->b_, "/mlock/l"); },
                 internal::kWait));
  EXPECT_TRUE(internal::Present(*this->b_, (*r)[1].path));
}

TYPED_TEST_P(CoordinatorConformanceTest, EphemeralsGoWhenSessionExpires) {
  EventLog log;
  auto listener = this->a_->AddSessionListener(log.SessionFn());
  ASSERT_TRUE(this->a_->Create("/e", "", CreateMode::kEphemeral).ok());
  ASSERT_TRUE(internal::Present(*this->b_, "/e"));
  absl::Status expired = ExpireSession(*this->a_);
  if (absl::IsUnimplemented(expired)) GTEST_SKIP() << expired;
  ASSERT_TRUE(expired.ok()) << expired;
  EXPECT_TRUE(log.WaitFor("session expired", internal::kWait));
  EXPECT_TRUE(log.WaitFor("session connected", internal::kWait));
  EXPECT_TRUE(Eventually([&] { return internal::Absent(*this->b_, "/e"); },
                         internal::kWait));
  // The new session works and owns new ephemerals.
  ASSERT_TRUE(Eventually(
      [&] { return this->a_->Create("/e", "", CreateMode::kEphemeral).ok(); },
      internal::kWait));
  EXPECT_TRUE(internal::Present(*this->b_, "/e"));
  EXPECT_EQ(this->a_->session_state(), SessionState::kConnected);
}

TYPED_TEST_P(CoordinatorConformanceTest, DataWatchSeesCreateChangeDelete) {
  EventLog log;
  auto sub = this->a_->Watch("/w", WatchKind::kData, log.WatchFn());
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_TRUE(this->b_->Create("/w", "1", CreateMode::kPersistent).ok());
  ASSERT_TRUE(log.WaitFor("created /w", internal::kWait));
  ASSERT_TRUE(this->b_->Set("/w", "2", -1).ok());
  ASSERT_TRUE(log.WaitFor("changed /w", internal::kWait));
  ASSERT_TRUE(this->b_->Delete("/w", -1).ok());
  ASSERT_TRUE(log.WaitFor("deleted /w", internal::kWait));
  EXPECT_THAT(log.events(),
              ::testing::ElementsAre("created /w", "changed /w", "deleted /w"));
  // After the Subscription is gone, no more callbacks.
  sub->reset();
  ASSERT_TRUE(this->b_->Create("/w", "3", CreateMode::kPersistent).ok());
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(log.size(), 3u);
}

TYPED_TEST_P(CoordinatorConformanceTest, ChildrenWatchSeesMembership) {
  ASSERT_TRUE(this->a_->Create("/kids", "", CreateMode::kPersistent).ok());
  EventLog log;
  auto sub = this->a_->Watch("/kids", WatchKind::kChildren, log.WatchFn());
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(this->b_->Create("/kids/x", "", CreateMode::kEphemeral).ok());
  ASSERT_TRUE(log.WaitFor("children /kids", internal::kWait));
  size_t n = log.size();
  // Data changes of a child do not count as membership changes.
  ASSERT_TRUE(this->b_->Set("/kids/x", "data", -1).ok());
  ASSERT_TRUE(this->b_->Delete("/kids/x", -1).ok());
  ASSERT_TRUE(log.WaitFor("children /kids", internal::kWait, n));
}

TYPED_TEST_P(CoordinatorConformanceTest, WatchesWorkAfterReconnect) {
  if constexpr (!internal::kCanPartition<TypeParam>) {
    GTEST_SKIP() << "the backend has no Partition()/Heal()";
  } else {
    EventLog log;
    auto listener = this->a_->AddSessionListener(log.SessionFn());
    auto sub = this->a_->Watch("/r", WatchKind::kData, log.WatchFn());
    ASSERT_TRUE(sub.ok());
    TypeParam::Partition(this->a_.get());
    EXPECT_TRUE(log.WaitFor("session suspended", internal::kWait));
    EXPECT_TRUE(absl::IsUnavailable(this->a_->Get("/r").status()) ||
                absl::IsNotFound(this->a_->Get("/r").status()));
    TypeParam::Heal(this->a_.get());
    ASSERT_TRUE(log.WaitFor("session connected", internal::kWait));
    ASSERT_TRUE(log.WaitFor("resync /r", internal::kWait));
    size_t n = log.size();
    ASSERT_TRUE(Eventually(
        [&] {
          return this->b_->Create("/r", "", CreateMode::kPersistent).ok() ||
                 internal::Present(*this->b_, "/r");
        },
        internal::kWait));
    EXPECT_TRUE(log.WaitFor("created /r", internal::kWait, n));
  }
}

TYPED_TEST_P(CoordinatorConformanceTest, WatchesWorkAfterSessionExpiry) {
  EventLog log;
  auto sub = this->a_->Watch("/x", WatchKind::kData, log.WatchFn());
  ASSERT_TRUE(sub.ok());
  auto listener = this->a_->AddSessionListener(log.SessionFn());
  absl::Status expired = ExpireSession(*this->a_);
  if (absl::IsUnimplemented(expired)) GTEST_SKIP() << expired;
  ASSERT_TRUE(expired.ok()) << expired;
  ASSERT_TRUE(log.WaitFor("session connected", internal::kWait));
  ASSERT_TRUE(this->b_->Create("/x", "", CreateMode::kPersistent).ok());
  EXPECT_TRUE(log.WaitFor("created /x", internal::kWait));
}

TYPED_TEST_P(CoordinatorConformanceTest, MultiIsAllOrNothing) {
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
  EXPECT_TRUE(internal::Present(*this->b_, "/m/b"));
  EXPECT_TRUE(internal::Absent(*this->b_, "/m/b/c"));
  EXPECT_TRUE(internal::Present(*this->b_, (*ok)[3].path));
}

// Topology::PruneActions deletes an action with its acks in one Multi,
// children first; a parent whose children are not all named is refused and
// nothing is deleted.
TYPED_TEST_P(CoordinatorConformanceTest, MultiDeletesASubtreeChildrenFirst) {
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
  EXPECT_TRUE(internal::Present(*this->b_, "/t/acks/p1"));
  refused =
      c.Multi({CoordOp::Delete("/t/acks/p1-x"), CoordOp::Delete("/t/acks/p2"),
               CoordOp::Delete("/t/acks")});
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(internal::Present(*this->b_, "/t/acks/p2"));
  auto ok =
      c.Multi({CoordOp::Delete("/t/acks/p1"), CoordOp::Delete("/t/acks/p1-x"),
               CoordOp::Delete("/t/acks/p2"), CoordOp::Delete("/t/acks"),
               CoordOp::Delete("/t")});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(internal::Absent(*this->b_, "/t"));
  EXPECT_TRUE(internal::Absent(*this->b_, "/t/acks/p2"));
}

REGISTER_TYPED_TEST_SUITE_P(
    CoordinatorConformanceTest, CreateGetSetDeleteWithVersions,
    CreateErrorsAndPathChecks, CasConflictsAreAbortedAndCountIsExact,
    ChildrenAreSortedNames, SequentialNamesIncreaseInCreateOrder,
    EphemeralsGoWhenSessionCloses, EphemeralCreatedInAMultiGoesWithItsSession,
    EphemeralsGoWhenSessionExpires, DataWatchSeesCreateChangeDelete,
    ChildrenWatchSeesMembership, WatchesWorkAfterReconnect,
    WatchesWorkAfterSessionExpiry, MultiIsAllOrNothing,
    MultiDeletesASubtreeChildrenFirst);

}  // namespace reborn::testing

// Instantiates the suite for backend type `Backend` (see the top of this
// file); the tests are named `Name/CoordinatorConformanceTest/0.<Test>`. Use
// at namespace scope, outside any namespace.
#define REBORN_COORDINATOR_CONFORMANCE_TEST(Name, Backend)         \
  namespace reborn::testing {                                      \
  INSTANTIATE_TYPED_TEST_SUITE_P(Name, CoordinatorConformanceTest, \
                                 ::testing::Types<Backend>);       \
  }                                                                \
  static_assert(true, "")
