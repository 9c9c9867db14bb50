#include "admin/rest_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "reborn/coordinator.h"

namespace reborn::admin {
namespace {

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` as is and returns the whole response (the server closes
// the connection: requests say "Connection: close").
std::string RawRequest(int port, const std::string& request) {
  int fd = Connect(port);
  if (fd < 0) return "";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

int StatusOf(const std::string& response) {
  // "HTTP/1.1 200 OK"
  if (response.size() < 12) return -1;
  return std::atoi(response.substr(9, 3).c_str());
}

class RestServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (rest_) rest_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  void Start(RestServerOptions options, const std::string& host = "127.0.0.1") {
    static std::atomic<int> n{0};
    auto coord = Coordinator::Open(absl::StrCat("memory://rest", n++));
    ASSERT_TRUE(coord.ok()) << coord.status();
    coord_ = *std::move(coord);
    service_ = std::make_unique<ConfigService>(coord_.get(), "p");
    rest_ = std::make_unique<RestServer>(service_.get(), std::move(options));
    ASSERT_TRUE(rest_->Bind(host, 0).ok());
    port_ = rest_->port();
    thread_ = std::thread([this] { (void)rest_->Serve(); });
  }

  // A change (POST /api/groups) with the given extra header lines.
  std::string Change(const std::string& headers, int gid = 1,
                     const std::string& host = "") {
    std::string body = absl::StrCat("{\"id\":", gid, "}");
    return RawRequest(
        port_,
        absl::StrCat("POST /api/groups HTTP/1.1\r\nHost: ",
                     host.empty() ? absl::StrCat("127.0.0.1:", port_) : host,
                     "\r\nConnection: close\r\n", headers,
                     "Content-Length: ", body.size(), "\r\n\r\n", body));
  }

  std::unique_ptr<Coordinator> coord_;
  std::unique_ptr<ConfigService> service_;
  std::unique_ptr<RestServer> rest_;
  std::thread thread_;
  int port_ = 0;
};

constexpr char kJson[] = "Content-Type: application/json\r\n";
constexpr char kAuth[] = "Authorization: Bearer s3cret\r\n";

RestServerOptions WithToken() {
  RestServerOptions o;
  o.token = "s3cret";
  return o;
}

TEST_F(RestServerTest, ChangeNeedsTheToken) {
  Start(WithToken());
  std::string r = Change(kJson);
  EXPECT_EQ(StatusOf(r), 401) << r;
  EXPECT_NE(r.find("UNAUTHENTICATED"), std::string::npos) << r;
  EXPECT_EQ(StatusOf(Change(absl::StrCat(kJson,
                                         "Authorization: Bearer "
                                         "s3creT\r\n"))),
            401);
  EXPECT_EQ(StatusOf(Change(absl::StrCat(kJson, kAuth))), 200);
}

TEST_F(RestServerTest, ReadsStayOpen) {
  Start(WithToken());
  std::string r = RawRequest(
      port_,
      "GET /api/groups HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 200) << r;
}

TEST_F(RestServerTest, ChangeThatIsNotJsonIs415) {
  Start(WithToken());
  std::string r = Change(absl::StrCat(kAuth, "Content-Type: text/plain\r\n"));
  EXPECT_EQ(StatusOf(r), 415) << r;
  EXPECT_NE(r.find("application/json"), std::string::npos) << r;
  EXPECT_EQ(StatusOf(Change(kAuth)), 415);
  EXPECT_EQ(StatusOf(Change(absl::StrCat(
                kAuth, "Content-Type: application/x-www-form-urlencoded\r\n"))),
            415);
  EXPECT_EQ(StatusOf(Change(absl::StrCat(
                kAuth, "Content-Type: Application/JSON; charset=utf-8\r\n"))),
            200);
}

TEST_F(RestServerTest, ForeignOriginIs403) {
  Start(WithToken());
  std::string ok = absl::StrCat(kJson, kAuth);
  std::string r = Change(absl::StrCat(ok, "Origin: http://evil.example\r\n"));
  EXPECT_EQ(StatusOf(r), 403) << r;
  EXPECT_EQ(StatusOf(Change(absl::StrCat(ok, "Origin: null\r\n"))), 403);
  // A different port is a different origin.
  EXPECT_EQ(
      StatusOf(Change(absl::StrCat(ok, "Origin: http://127.0.0.1:1\r\n"))),
      403);
  EXPECT_EQ(StatusOf(Change(
                absl::StrCat(ok, "Origin: http://127.0.0.1:", port_, "\r\n"))),
            200);
}

TEST_F(RestServerTest, AllowedOriginIsAccepted) {
  RestServerOptions o = WithToken();
  o.allowed_origins = {"https://ops.example.com"};
  Start(o);
  EXPECT_EQ(StatusOf(Change(absl::StrCat(
                kJson, kAuth, "Origin: https://ops.example.com\r\n"))),
            200);
}

TEST_F(RestServerTest, PreflightDoesNotOpenCors) {
  Start(WithToken());
  std::string r = RawRequest(
      port_,
      "OPTIONS /api/groups HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Origin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n"
      "Access-Control-Request-Headers: authorization,content-type\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 405) << r;
  EXPECT_EQ(r.find("Access-Control"), std::string::npos) << r;
}

TEST_F(RestServerTest, BindRefusesNoTokenUnlessInsecure) {
  auto coord = Coordinator::Open("memory://bind");
  ASSERT_TRUE(coord.ok());
  ConfigService service(coord->get(), "p");
  RestServer none(&service, RestServerOptions{});
  EXPECT_TRUE(absl::IsInvalidArgument(none.Bind("127.0.0.1", 0)));
  RestServerOptions insecure;
  insecure.insecure_no_token = true;
  RestServer wide(&service, insecure);
  absl::Status s = wide.Bind("0.0.0.0", 0);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("loopback"), std::string::npos) << s;
  RestServer local(&service, insecure);
  EXPECT_TRUE(local.Bind("127.0.0.1", 0).ok());
}

TEST_F(RestServerTest, InsecureModeStillRefusesCrossSiteAndRebinding) {
  RestServerOptions o;
  o.insecure_no_token = true;
  Start(o);
  EXPECT_EQ(StatusOf(Change(kJson)), 200);
  EXPECT_EQ(StatusOf(Change("Content-Type: text/plain\r\n", 2)), 415);
  EXPECT_EQ(StatusOf(Change(
                absl::StrCat(kJson, "Origin: http://evil.example\r\n"), 2)),
            403);
  // DNS rebinding: a page of evil.example whose name now points here has
  // Origin == Host, but not a loopback name.
  std::string host = absl::StrCat("evil.example:", port_);
  EXPECT_EQ(StatusOf(Change(
                absl::StrCat(kJson, "Origin: http://", host, "\r\n"), 2, host)),
            403);
  host = absl::StrCat("localhost:", port_);
  EXPECT_EQ(StatusOf(Change(
                absl::StrCat(kJson, "Origin: http://", host, "\r\n"), 2, host)),
            200);
}

TEST_F(RestServerTest, StalledClientsDoNotStarveTheServer) {
  Start(WithToken());
  std::vector<int> stalled;
  for (int i = 0; i < 16; ++i) {
    int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    std::string half = "GET /api/over";
    ::send(fd, half.data(), half.size(), MSG_NOSIGNAL);
    stalled.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  std::string r = RawRequest(
      port_,
      "GET /api/groups HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(StatusOf(r), 200) << r;
  EXPECT_LT(took, std::chrono::seconds(1));
  for (int fd : stalled) ::close(fd);
}

TEST_F(RestServerTest, OversizedBodyIsRefused) {
  Start(WithToken());
  std::string body(2 << 20, 'x');
  std::string r = RawRequest(
      port_, absl::StrCat("POST /api/groups HTTP/1.1\r\nHost: x\r\n"
                          "Connection: close\r\n",
                          kJson, kAuth, "Content-Length: ", body.size(),
                          "\r\n\r\n", body));
  EXPECT_EQ(StatusOf(r), 413) << r.substr(0, 200);
}

}  // namespace
}  // namespace reborn::admin
