#include "test_servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reborn::testing {
namespace {

std::string MakeTempDir(const char* tag) {
  std::string templ = absl::StrCat("/tmp/reborn-", tag, "-XXXXXX");
  char* dir = mkdtemp(templ.data());
  return dir ? std::string(dir) : std::string();
}

// Sends `request` to 127.0.0.1:port and returns what came back ("" on error).
std::string Exchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      write(fd, request.data(), request.size()) ==
          static_cast<ssize_t>(request.size())) {
    char buf[1024];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  }
  close(fd);
  return out;
}

}  // namespace

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    const std::vector<std::string>& argv, const std::string& log_path) {
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  kill(pid_, SIGCONT);
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

void ChildProcess::Pause() { kill(pid_, SIGSTOP); }
void ChildProcess::Resume() { kill(pid_, SIGCONT); }
bool ChildProcess::Alive() { return waitpid(pid_, nullptr, WNOHANG) == 0; }

TestServer::~TestServer() {
  process_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string TestServer::host_port() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::StatusOr<std::unique_ptr<ZooKeeperServer>> ZooKeeperServer::Start(
    absl::Duration timeout) {
  auto server = std::unique_ptr<ZooKeeperServer>(new ZooKeeperServer());
  server->dir_ = MakeTempDir("zk");
  server->port_ = FreeLoopbackPort();
  std::filesystem::create_directories(server->dir_ + "/data");
  {
    std::ofstream cfg(server->dir_ + "/zoo.cfg");
    cfg << "tickTime=200\n"
        << "dataDir=" << server->dir_ << "/data\n"
        << "clientPort=" << server->port_ << "\n"
        << "clientPortAddress=127.0.0.1\n"
        << "admin.enableServer=false\n"
        << "minSessionTimeout=400\nmaxSessionTimeout=60000\n"
        << "4lw.commands.whitelist=ruok\n";
  }
  std::vector<std::string> jars = {"zookeeper",
                                   "zookeeper-jute",
                                   "slf4j-api",
                                   "slf4j-nop",
                                   "netty-handler",
                                   "netty-common",
                                   "netty-buffer",
                                   "netty-transport",
                                   "netty-transport-native-unix-common",
                                   "netty-transport-native-epoll",
                                   "netty-codec",
                                   "netty-resolver",
                                   "commons-io",
                                   "commons-cli",
                                   "metrics-core",
                                   "jackson-databind",
                                   "jackson-core",
                                   "jackson-annotations",
                                   "snappy-java"};
  for (auto& j : jars) j = absl::StrCat("/usr/share/java/", j, ".jar");
  auto proc = ChildProcess::Spawn(
      {"java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
       "-Xshare:auto", "-cp", absl::StrJoin(jars, ":"),
       "org.apache.zookeeper.server.ZooKeeperServerMain",
       server->dir_ + "/zoo.cfg"},
      server->dir_ + "/zk.log");
  if (!proc.ok()) return proc.status();
  server->process_ = std::move(*proc);
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (Exchange(server->port_, "ruok") == "imok") return server;
    if (!server->process_->Alive()) break;
    usleep(100 * 1000);
  }
  return absl::UnavailableError(
      absl::StrCat("zookeeper did not start; see ", server->dir_, "/zk.log"));
}

absl::StatusOr<std::unique_ptr<EtcdServer>> EtcdServer::Start(
    absl::Duration timeout) {
  auto server = std::unique_ptr<EtcdServer>(new EtcdServer());
  server->dir_ = MakeTempDir("etcd");
  server->port_ = FreeLoopbackPort();
  int peer = FreeLoopbackPort();
  std::string client_url = absl::StrCat("http://127.0.0.1:", server->port_);
  std::string peer_url = absl::StrCat("http://127.0.0.1:", peer);
  auto proc = ChildProcess::Spawn({"etcd",
                                   "--name",
                                   "test",
                                   "--data-dir",
                                   server->dir_ + "/data",
                                   "--listen-client-urls",
                                   client_url,
                                   "--advertise-client-urls",
                                   client_url,
                                   "--listen-peer-urls",
                                   peer_url,
                                   "--initial-advertise-peer-urls",
                                   peer_url,
                                   "--initial-cluster",
                                   absl::StrCat("test=", peer_url),
                                   "--heartbeat-interval",
                                   "50",
                                   "--election-timeout",
                                   "300",
                                   "--log-level",
                                   "error"},
                                  server->dir_ + "/etcd.log");
  if (!proc.ok()) return proc.status();
  server->process_ = std::move(*proc);
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::string resp = Exchange(
        server->port_,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    if (resp.find("\"true\"") != std::string::npos) return server;
    if (!server->process_->Alive()) break;
    usleep(100 * 1000);
  }
  return absl::UnavailableError(
      absl::StrCat("etcd did not start; see ", server->dir_, "/etcd.log"));
}

}  // namespace reborn::testing
