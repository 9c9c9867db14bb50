#pragma once

// Real coordinator servers for tests: a ZooKeeper (Debian's jars, run with
// java) and an etcd, each on free loopback ports with its own temp dir,
// killed and cleaned up on destruction.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace reborn::testing {

// A port that was free a moment ago (bound to port 0, then released).
int FreeLoopbackPort();

// A child process; SIGKILLed and reaped on destruction.
class ChildProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();
  void Pause();   // SIGSTOP: connections hang, like a network partition
  void Resume();  // SIGCONT
  bool Alive();
  pid_t pid() const { return pid_; }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

class TestServer {
 public:
  virtual ~TestServer();
  // "127.0.0.1:port"
  std::string host_port() const;
  int port() const { return port_; }
  void Pause() { process_->Pause(); }
  void Resume() { process_->Resume(); }
  const std::string& dir() const { return dir_; }

 protected:
  int port_ = 0;
  std::string dir_;
  std::unique_ptr<ChildProcess> process_;
};

class ZooKeeperServer : public TestServer {
 public:
  static absl::StatusOr<std::unique_ptr<ZooKeeperServer>> Start(
      absl::Duration timeout = absl::Seconds(30));
};

class EtcdServer : public TestServer {
 public:
  static absl::StatusOr<std::unique_ptr<EtcdServer>> Start(
      absl::Duration timeout = absl::Seconds(30));
};

}  // namespace reborn::testing
