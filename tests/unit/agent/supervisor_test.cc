#include "agent/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/process.h"
#include "gtest/gtest.h"

namespace reborn::agent {
namespace {

namespace fs = std::filesystem;

class AgentSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("reborn-agent-sup-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    // Reap what a test left (adopted processes are still our children).
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    fs::remove_all(dir_);
  }

  SupervisorOptions Options() {
    SupervisorOptions o;
    o.dir = dir_.string();
    o.backoff_min = absl::Milliseconds(20);
    o.backoff_max = absl::Seconds(1);
    o.max_restarts = 3;
    o.restart_window = absl::Seconds(60);
    o.stop_grace_ms = 2000;
    return o;
  }

  AppSpec Spec(const std::string& id, std::vector<std::string> argv,
               int port = 0) {
    AppSpec s;
    s.id = id;
    s.kind = "other";
    s.argv = std::move(argv);
    if (port != 0) s.ports = {port};
    s.dir = (dir_ / "apps" / id).string();
    s.log = (dir_ / "apps" / id / "log").string();
    return s;
  }

  // Ticks until `done()` or 10 s.
  template <typename Pred>
  bool TickUntil(Supervisor& s, Pred done) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      s.Tick();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  nlohmann::json App(const Supervisor& s, const std::string& id) {
    for (const auto& a : s.Apps()) {
      if (a["id"] == id) return a;
    }
    return nullptr;
  }

  fs::path dir_;
};

TEST_F(AgentSupervisorTest, RestartsAKilledChildAndRecordsHowItDied) {
  Supervisor s(Options());
  ASSERT_TRUE(s.Add(Spec("sleeper", {"/bin/sleep", "30"})).ok());
  const pid_t first = s.PidForTest("sleeper");
  ASSERT_GT(first, 0);
  ASSERT_EQ(kill(first, SIGKILL), 0);
  ASSERT_TRUE(TickUntil(s, [&] {
    pid_t p = s.PidForTest("sleeper");
    return p != 0 && p != first;
  }));
  auto a = App(s, "sleeper");
  EXPECT_EQ(a["state"], "running");
  EXPECT_EQ(a["restarts"], 1);
  EXPECT_EQ(a["last_exit"], "signal 9");
  s.StopAll(/*forget=*/true);
  EXPECT_TRUE(s.Apps().empty());
}

TEST_F(AgentSupervisorTest, BacksOffExponentiallyThenGivesUp) {
  Supervisor s(Options());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(s.Add(Spec("crasher", {"/bin/false"})).ok());
  std::vector<int64_t> delays;
  ASSERT_TRUE(TickUntil(s, [&] {
    auto a = App(s, "crasher");
    if (a.contains("backoff_ms") &&
        a["restarts"].get<size_t>() == delays.size()) {
      delays.push_back(a["backoff_ms"].get<int64_t>());
    }
    return a["state"] == "failed";
  }));
  const auto took = std::chrono::steady_clock::now() - start;
  auto a = App(s, "crasher");
  EXPECT_EQ(a["restarts"], 3);  // max_restarts, then it gave up
  EXPECT_EQ(a["last_exit"], "exit 1");
  EXPECT_EQ(a["pid"], 0);
  // 20 + 40 + 80 ms of backoff at least.
  EXPECT_GE(took, std::chrono::milliseconds(140));
  EXPECT_EQ(delays, (std::vector<int64_t>{20, 40, 80}));
  // A failed application is not restarted any more.
  for (int i = 0; i < 5; ++i) s.Tick();
  EXPECT_EQ(App(s, "crasher")["state"], "failed");
}

TEST_F(AgentSupervisorTest,
       ANewSupervisorAdoptsLiveProcessesAndRestartsDeadOnes) {
  pid_t live = 0;
  {
    Supervisor s(Options());
    ASSERT_TRUE(s.Add(Spec("live", {"/bin/sleep", "30"})).ok());
    ASSERT_TRUE(s.Add(Spec("dead", {"/bin/sleep", "30"})).ok());
    live = s.PidForTest("live");
    pid_t dead = s.PidForTest("dead");
    kill(dead, SIGKILL);
    waitpid(dead, nullptr, 0);
    // The supervisor goes without stopping its applications.
  }
  Supervisor again(Options());
  ASSERT_TRUE(again.Load().ok());
  EXPECT_EQ(again.PidForTest("live"), live);
  EXPECT_EQ(App(again, "live")["adopted"], true);
  EXPECT_GT(again.PidForTest("dead"), 0);
  EXPECT_EQ(App(again, "dead")["adopted"], false);
  // An adopted process that dies is noticed without waitpid and restarted.
  kill(live, SIGKILL);
  waitpid(live, nullptr, 0);
  ASSERT_TRUE(TickUntil(again, [&] {
    pid_t p = again.PidForTest("live");
    return p != 0 && p != live;
  }));
  EXPECT_EQ(App(again, "live")["restarts"], 1);
  again.StopAll(/*forget=*/true);
}

TEST_F(AgentSupervisorTest, StoppedOnExitTheyStartAgainWithTheNextAgent) {
  pid_t before = 0;
  {
    Supervisor s(Options());
    ASSERT_TRUE(s.Add(Spec("x", {"/bin/sleep", "30"})).ok());
    before = s.PidForTest("x");
    s.StopAll(/*forget=*/false);  // an agent's SIGTERM
    EXPECT_EQ(s.PidForTest("x"), 0);
  }
  EXPECT_NE(kill(before, 0), 0);  // gone (and reaped by StopAll)
  Supervisor next(Options());
  ASSERT_TRUE(next.Load().ok());
  EXPECT_GT(next.PidForTest("x"), 0);
  EXPECT_EQ(App(next, "x")["adopted"], false);
  next.StopAll(/*forget=*/true);
}

TEST_F(AgentSupervisorTest, RemoveStopsTheProcessAndForgetsIt) {
  Supervisor s(Options());
  ASSERT_TRUE(s.Add(Spec("x", {"/bin/sleep", "30"})).ok());
  const pid_t pid = s.PidForTest("x");
  auto start = ProcessStartTime(pid);
  ASSERT_TRUE(start.ok());
  ASSERT_TRUE(s.Remove("x").ok());
  EXPECT_FALSE(SameProcessAlive(pid, *start));
  EXPECT_TRUE(s.Apps().empty());
  EXPECT_TRUE(absl::IsNotFound(s.Remove("x")));
  Supervisor reloaded(Options());
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_TRUE(reloaded.Apps().empty());
}

TEST_F(AgentSupervisorTest, DetachLeavesTheProcessRunningUnwatched) {
  Supervisor s(Options());
  ASSERT_TRUE(s.Add(Spec("x", {"/bin/sleep", "30"})).ok());
  const pid_t pid = s.PidForTest("x");
  auto start = ProcessStartTime(pid);
  ASSERT_TRUE(start.ok());
  ASSERT_TRUE(s.Detach("x").ok());
  EXPECT_TRUE(SameProcessAlive(pid, *start));
  EXPECT_TRUE(s.Apps().empty());
  EXPECT_TRUE(absl::IsNotFound(s.Detach("x")));
  // Killed, it is not restarted, and Tick reaps it (no zombie left).
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  for (int i = 0; i < 200 && kill(pid, 0) == 0; ++i) {
    s.Tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(kill(pid, 0), 0);
  EXPECT_TRUE(s.Apps().empty());
  Supervisor reloaded(Options());
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_TRUE(reloaded.Apps().empty());
}

TEST_F(AgentSupervisorTest, RefusesClashesAndProgramsThatCannotRun) {
  Supervisor s(Options());
  ASSERT_TRUE(s.Add(Spec("a", {"/bin/sleep", "30"}, 40001)).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(s.Add(Spec("a", {"/bin/sleep", "1"}))));
  EXPECT_TRUE(
      absl::IsAlreadyExists(s.Add(Spec("b", {"/bin/sleep", "1"}, 40001))));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      s.Add(Spec("c", {(dir_ / "no-such-program").string()}))));
  s.StopAll(/*forget=*/true);
}

TEST_F(AgentSupervisorTest, ChildLogGoesToItsFileInItsOwnDirectory) {
  Supervisor s(Options());
  AppSpec spec = Spec("echo", {"/bin/sh", "-c", "pwd; echo to-stderr >&2"});
  ASSERT_TRUE(s.Add(spec).ok());
  ASSERT_TRUE(
      TickUntil(s, [&] { return App(s, "echo")["state"] != "running"; }));
  std::ifstream in(spec.log);
  std::string cwd, err;
  std::getline(in, cwd);
  std::getline(in, err);
  EXPECT_EQ(fs::canonical(cwd), fs::canonical(spec.dir));
  EXPECT_EQ(err, "to-stderr");
  s.StopAll(/*forget=*/true);
}

TEST(AgentProcessTest, StartTimeTellsAReusedPid) {
  auto self = ProcessStartTime(getpid());
  ASSERT_TRUE(self.ok());
  EXPECT_TRUE(SameProcessAlive(getpid(), *self));
  EXPECT_FALSE(SameProcessAlive(getpid(), *self + 1));
  EXPECT_FALSE(SameProcessAlive(0, 0));
}

}  // namespace
}  // namespace reborn::agent
