#pragma once

// Two real redis-server groups (redis-server is a test dependency) and a
// Client over them, shared by the client tests.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "net/sync_client.h"
#include "reborn/client.h"

extern char** environ;

namespace reborn::testing {

inline std::string Cat(std::string_view prefix, int64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A redis-server child process, killed on destruction.
class RedisProcess {
 public:
  RedisProcess() : port_(FreePort()) {
    std::string port = std::to_string(port_);
    std::vector<std::string> argv = {
        "redis-server", "--port", port,           "--bind", "127.0.0.1",
        "--save",       "",       "--appendonly", "no"};
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawnp(&pid_, "redis-server", nullptr, nullptr, cargv.data(),
                 environ);
    for (int i = 0; i < 200; ++i) {
      auto c = net::SyncClient::Connect("127.0.0.1", port_,
                                        std::chrono::milliseconds(200));
      if (c.ok()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~RedisProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string addr() const { return Cat("127.0.0.1:", port_); }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Client::Open(
        absl::StrCat("static://", g1_.addr(), ",", g2_.addr()), "");
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
  }
  int64_t DbSize(const RedisProcess& p) {
    auto c = net::SyncClient::Connect("127.0.0.1", p.port(),
                                      std::chrono::milliseconds(1000));
    return c->Call({"DBSIZE"})->integer;
  }

  RedisProcess g1_, g2_;
  std::unique_ptr<Client> client_;
};

}  // namespace reborn::testing
