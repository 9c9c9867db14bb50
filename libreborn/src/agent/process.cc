#include "agent/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace reborn::agent {
namespace {

absl::Status Errno(const std::string& what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

// Frees the posix_spawn objects on every path out of Spawn().
struct SpawnObjects {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnObjects() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnObjects() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

absl::StatusOr<pid_t> Spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("empty argv");
  std::error_code ec;
  std::filesystem::create_directories(spec.cwd, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", spec.cwd, ": ", ec.message()));
  }
  if (access(spec.argv[0].c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", spec.argv[0], ": ", std::strerror(errno)));
  }
  SpawnObjects o;
  int rc =
      posix_spawn_file_actions_addopen(&o.actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) {
    rc = posix_spawn_file_actions_addopen(&o.actions, 1, spec.log_path.c_str(),
                                          O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&o.actions, 1, 2);
  if (rc == 0) {
    rc = posix_spawn_file_actions_addchdir_np(&o.actions, spec.cwd.c_str());
  }
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&o.actions, 3);
  if (rc != 0) return Errno("posix_spawn_file_actions", rc);

  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) {
    sigaddset(&defaults, sig);
  }
  rc = posix_spawnattr_setsigmask(&o.attr, &empty);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&o.attr, &defaults);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&o.attr, 0);
  if (rc == 0) {
    rc = posix_spawnattr_setflags(&o.attr, POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETSIGDEF |
                                               POSIX_SPAWN_SETPGROUP);
  }
  if (rc != 0) return Errno("posix_spawnattr", rc);

  std::vector<char*> argv;
  argv.reserve(spec.argv.size() + 1);
  for (const std::string& a : spec.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  rc = posix_spawn(&pid, argv[0], &o.actions, &o.attr, argv.data(), environ);
  if (rc != 0) return Errno(absl::StrCat("spawn ", spec.argv[0]), rc);
  return pid;
}

absl::StatusOr<uint64_t> ProcessStartTime(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  if (!in) return absl::NotFoundError(absl::StrCat("no process ", pid));
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  // The command name (field 2) may hold spaces and parentheses: fields
  // resume after the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos) {
    return absl::InternalError(absl::StrCat("bad /proc/", pid, "/stat"));
  }
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(text).substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  if (fields.size() < 20) {
    return absl::InternalError(absl::StrCat("short /proc/", pid, "/stat"));
  }
  if (fields[0] == "Z" || fields[0] == "X") {
    return absl::NotFoundError(absl::StrCat("process ", pid, " is a zombie"));
  }
  uint64_t start = 0;
  if (!absl::SimpleAtoi(fields[19], &start)) {
    return absl::InternalError(absl::StrCat("bad start time of ", pid));
  }
  return start;
}

bool SameProcessAlive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  auto t = ProcessStartTime(pid);
  return t.ok() && *t == start_time;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("status ", status);
}

std::string Terminate(pid_t pid, uint64_t start_time, bool is_child, int sig,
                      int grace_ms) {
  if (!SameProcessAlive(pid, start_time)) {
    if (is_child) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        return DescribeWaitStatus(status);
      }
    }
    return "gone";
  }
  kill(pid, sig);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  bool killed = false;
  const auto give_up = deadline + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < give_up) {
    if (is_child) {
      int status = 0;
      pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid) return DescribeWaitStatus(status);
      if (r < 0) return "gone";
    } else if (!SameProcessAlive(pid, start_time)) {
      return "stopped";
    }
    if (!killed && std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "unkillable";
}

}  // namespace reborn::agent
