#include "net/sync_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "resp/reply_parser.h"

namespace reborn::net {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status Errno(std::string_view what) {
  return absl::UnavailableError(
      absl::StrCat(std::string(what), ": ", std::strerror(errno)));
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

absl::Status WaitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, RemainingMs(deadline));
    if (n > 0) return absl::OkStatus();
    if (n == 0) return absl::DeadlineExceededError("timed out");
    if (errno != EINTR) return Errno("poll");
  }
}

}  // namespace

std::string EncodeCommand(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const auto& a : args)
    absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  return out;
}

SyncClient::~SyncClient() { Close(); }

SyncClient::SyncClient(SyncClient&& other) noexcept
    : fd_(other.fd_),
      timeout_(other.timeout_),
      inbuf_(std::move(other.inbuf_)) {
  other.fd_ = -1;
}

SyncClient& SyncClient::operator=(SyncClient&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    timeout_ = other.timeout_;
    inbuf_ = std::move(other.inbuf_);
    other.fd_ = -1;
  }
  return *this;
}

void SyncClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  inbuf_.clear();
}

absl::StatusOr<SyncClient> SyncClient::Connect(
    const std::string& host, int port, std::chrono::milliseconds timeout,
    const std::string& password) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  std::string port_text = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &result);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("resolve ", host, ": ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(result,
                                                           freeaddrinfo);
  const auto deadline = Clock::now() + timeout;
  absl::Status last = absl::UnavailableError("no address");
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    SyncClient client;
    client.timeout_ = timeout;
    client.fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                          ai->ai_protocol);
    if (client.fd_ < 0) {
      last = Errno("socket");
      continue;
    }
    ::fcntl(client.fd_, F_SETFL, ::fcntl(client.fd_, F_GETFL) | O_NONBLOCK);
    int one = 1;
    ::setsockopt(client.fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(client.fd_, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = Errno(absl::StrCat("connect ", host, ":", port));
        continue;
      }
      last = WaitFor(client.fd_, POLLOUT, deadline);
      if (!last.ok()) {
        last = absl::UnavailableError(
            absl::StrCat("connect ", host, ":", port, ": ", last.message()));
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(client.fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        errno = err;
        last = Errno(absl::StrCat("connect ", host, ":", port));
        continue;
      }
    }
    if (!password.empty()) {
      auto reply = client.Call({"AUTH", password});
      if (!reply.ok()) return reply.status();
      if (reply->is_error()) {
        return absl::PermissionDeniedError(
            absl::StrCat("AUTH to ", host, ":", port, ": ", reply->str));
      }
    }
    return client;
  }
  return last;
}

absl::Status SyncClient::SendAll(std::string_view data) {
  const auto deadline = Clock::now() + timeout_;
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      absl::Status s = WaitFor(fd_, POLLOUT, deadline);
      if (!s.ok()) return s;
      continue;
    }
    return Errno("send");
  }
  return absl::OkStatus();
}

absl::StatusOr<Reply> SyncClient::ReadReply() {
  const auto deadline = Clock::now() + timeout_;
  resp::ReplyParser parser;
  while (true) {
    size_t consumed = 0;
    Reply reply;
    auto result = parser.Parse(inbuf_, &consumed, &reply);
    if (result == resp::ReplyParser::Result::kReply) {
      inbuf_.erase(0, consumed);
      return reply;
    }
    if (result == resp::ReplyParser::Result::kError) {
      return absl::DataLossError("protocol error in reply");
    }
    absl::Status s = WaitFor(fd_, POLLIN, deadline);
    if (!s.ok()) return s;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      inbuf_.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      return absl::UnavailableError("connection closed by peer");
    } else if (errno != EINTR && errno != EAGAIN) {
      return Errno("recv");
    }
  }
}

absl::Status SyncClient::Send(const std::vector<std::string>& args) {
  if (fd_ < 0) return absl::FailedPreconditionError("not connected");
  absl::Status s = SendAll(EncodeCommand(args));
  if (!s.ok()) Close();
  return s;
}

absl::StatusOr<Reply> SyncClient::Receive() {
  if (fd_ < 0) return absl::FailedPreconditionError("not connected");
  absl::StatusOr<Reply> reply = ReadReply();
  if (!reply.ok()) Close();
  return reply;
}

absl::StatusOr<Reply> SyncClient::Call(const std::vector<std::string>& args) {
  auto replies = CallAll({args});
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

absl::StatusOr<std::vector<Reply>> SyncClient::CallAll(
    const std::vector<std::vector<std::string>>& commands) {
  if (fd_ < 0) return absl::FailedPreconditionError("not connected");
  std::string request;
  for (const auto& c : commands) request += EncodeCommand(c);
  absl::Status s = SendAll(request);
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  while (s.ok() && replies.size() < commands.size()) {
    auto reply = ReadReply();
    if (!reply.ok()) {
      s = reply.status();
      break;
    }
    replies.push_back(std::move(*reply));
  }
  if (!s.ok()) {
    Close();
    return s;
  }
  return replies;
}

}  // namespace reborn::net
