#include "server/replica_link.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "net/sync_client.h"
#include "resp/request_parser.h"
#include "scripting/lua_engine.h"
#include "server/qdb_server_impl.h"
#include "server/replication.h"
#include "spdlog/spdlog.h"

namespace reborn::server {
namespace {

int64_t NowMs() { return absl::GetCurrentTimeNanos() / 1000000; }

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMarkLen = 40;

}  // namespace

ReplicaLink::ReplicaLink(Replication& repl, QdbServerImpl& server,
                         std::string host, int port)
    : repl_(repl), server_(server), host_(std::move(host)), port_(port) {}

ReplicaLink::~ReplicaLink() { Stop(); }

void ReplicaLink::Start() {
  down_since_ms_ = NowMs();
  thread_ = std::thread([this] { Run(); });
}

void ReplicaLink::Stop() {
  stop_ = true;
  sleep_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReplicaLink::Kill() { kill_ = true; }

void ReplicaLink::Run() {
  int64_t backoff_ms = 100;
  while (!stopping()) {
    kill_ = false;
    state_ = kConnecting;
    repl_.set_link_state(kConnecting);
    absl::Status s = Session();
    CloseSocket();
    loading_ = false;
    state_ = kConnect;
    repl_.set_link_state(kConnect);
    down_since_ms_ = NowMs();
    if (stopping()) break;
    spdlog::warn("replication link to {}:{} ended: {}; retrying in {} ms",
                 host_, port_, s.ToString(), backoff_ms);
    std::unique_lock<std::mutex> lock(sleep_mu_);
    sleep_cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms),
                       [this] { return stopping(); });
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 2000);
    if (s.ok()) backoff_ms = 100;
  }
}

absl::Status ReplicaLink::Connect() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &res) !=
          0 ||
      res == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host_));
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM, 0);
  int rc = fd < 0 ? -1 : ::connect(fd, res->ai_addr, res->ai_addrlen);
  int err = errno;
  freeaddrinfo(res);
  if (rc != 0) {
    if (fd >= 0) ::close(fd);
    return absl::UnavailableError(absl::StrCat(
        "cannot connect to ", host_, ":", port_, ": ", std::strerror(err)));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
  in_.clear();
  last_io_ms_ = NowMs();
  return absl::OkStatus();
}

void ReplicaLink::CloseSocket() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

absl::Status ReplicaLink::SendCommand(const std::vector<std::string>& args) {
  std::string data = net::EncodeCommand(args);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(
          absl::StrCat("write to master: ", std::strerror(errno)));
    }
    off += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ReplicaLink::ReadSome(int wait_ms) {
  if (stopping() || kill_.load()) return absl::CancelledError("link closed");
  pollfd p{fd_, POLLIN, 0};
  int rc = ::poll(&p, 1, wait_ms);
  if (rc < 0 && errno != EINTR) {
    return absl::UnavailableError(std::strerror(errno));
  }
  if (rc <= 0) {
    const int64_t timeout = server_.config().GetInt("repl-timeout") * 1000;
    if (NowMs() - last_io_ms_.load() > timeout) {
      return absl::DeadlineExceededError("timeout: master silent");
    }
    return 0;
  }
  char buf[kReadChunk];
  ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n < 0 && errno == EINTR) return 0;
  if (n <= 0) {
    return absl::UnavailableError(n == 0 ? "master closed the connection"
                                         : std::strerror(errno));
  }
  in_.append(buf, static_cast<size_t>(n));
  last_io_ms_ = NowMs();
  return static_cast<size_t>(n);
}

absl::Status ReplicaLink::ReadLine(std::string* line) {
  const int64_t deadline =
      NowMs() + server_.config().GetInt("repl-timeout") * 1000;
  while (true) {
    while (!in_.empty() && in_[0] == '\n') in_.erase(0, 1);  // keepalives
    size_t eol = in_.find("\r\n");
    if (eol != std::string::npos) {
      line->assign(in_, 0, eol);
      in_.erase(0, eol + 2);
      return absl::OkStatus();
    }
    if (in_.size() > 64 * 1024) {
      return absl::DataLossError("protocol error: line too long");
    }
    auto n = ReadSome(100);
    if (!n.ok()) return n.status();
    if (NowMs() > deadline) {
      return absl::DeadlineExceededError("timeout waiting for the master");
    }
  }
}

absl::Status ReplicaLink::Handshake(std::string* first_reply) {
  std::string line;
  absl::Status s = SendCommand({"PING"});
  if (s.ok()) s = ReadLine(&line);
  if (!s.ok()) return s;
  // -NOAUTH is fine here: AUTH follows.
  if (line[0] == '-' && line.rfind("-NOAUTH", 0) != 0 &&
      line.rfind("-NOPERM", 0) != 0) {
    return absl::UnavailableError(absl::StrCat("PING: ", line));
  }
  const std::string pass = server_.config().GetString("masterauth");
  const std::string user = server_.config().GetString("masteruser");
  if (!pass.empty()) {
    s = user.empty() ? SendCommand({"AUTH", pass})
                     : SendCommand({"AUTH", user, pass});
    if (s.ok()) s = ReadLine(&line);
    if (!s.ok()) return s;
    if (line[0] == '-') {
      return absl::PermissionDeniedError(absl::StrCat("AUTH: ", line));
    }
  }
  s = SendCommand(
      {"REPLCONF", "listening-port", std::to_string(server_.port())});
  if (s.ok()) s = ReadLine(&line);
  if (s.ok()) s = SendCommand({"REPLCONF", "capa", "eof", "capa", "psync2"});
  if (s.ok()) s = ReadLine(&line);
  if (!s.ok()) return s;
  auto [replid, offset] = repl_.PsyncTarget();
  s = SendCommand({"PSYNC", replid, std::to_string(offset)});
  if (s.ok()) s = ReadLine(first_reply);
  if (s.ok()) processed_ = offset - 1;
  return s;
}

absl::Status ReplicaLink::Session() {
  absl::Status s = Connect();
  if (!s.ok()) return s;
  std::string reply;
  s = Handshake(&reply);
  if (!s.ok()) return s;
  if (reply.rfind("+FULLRESYNC", 0) == 0) {
    std::vector<std::string> parts = absl::StrSplit(reply, ' ');
    int64_t offset = 0;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[2], &offset)) {
      return absl::DataLossError(absl::StrCat("bad PSYNC reply: ", reply));
    }
    state_ = kSync;
    repl_.set_link_state(kSync);
    s = LoadPayload();
    if (!s.ok()) return s;
    repl_.OnFullSyncDone(parts[1], offset);
    session_ = Replication::LinkSession{};
    processed_ = offset;
    full_syncs_.fetch_add(1);
  } else if (reply.rfind("+CONTINUE", 0) == 0) {
    std::string id = reply.size() > 10 ? reply.substr(10) : std::string();
    repl_.OnContinue(id);
    spdlog::info("partial resync with {}:{} from offset {}", host_, port_,
                 processed_.load() + 1);
  } else {
    return absl::UnavailableError(absl::StrCat("PSYNC: ", reply));
  }
  state_ = kConnected;
  repl_.set_link_state(kConnected);
  s = SendAck();
  if (!s.ok()) return s;
  return Stream();
}

absl::Status ReplicaLink::LoadPayload() {
  std::string header;
  absl::Status s = ReadLine(&header);
  if (!s.ok()) return s;
  if (header.empty() || header[0] != '$') {
    return absl::DataLossError(
        absl::StrCat("bad sync payload header: ", header.substr(0, 64)));
  }
  std::string mark;
  int64_t total = -1;
  if (header.rfind("$EOF:", 0) == 0) {
    mark = header.substr(5);
    if (mark.size() != kMarkLen) {
      return absl::DataLossError("bad EOF mark in the sync payload header");
    }
  } else if (!absl::SimpleAtoi(header.substr(1), &total) || total < 0) {
    return absl::DataLossError(absl::StrCat("bad payload length: ", header));
  }
  RdbLoadOptions options;
  options.check_functions = scripting::LuaEngine::CheckLibraries;
  options.key_load_delay_us =
      static_cast<int>(server_.config().GetInt("key-load-delay"));
  auto load = server_.engine().BeginRdbLoad(options);
  if (!load.ok()) return load.status();
  loading_ = true;
  sync_total_ = total;
  sync_read_ = 0;
  const int64_t begin = NowMs();
  spdlog::info(
      "full sync from {}:{}: loading {} (reads see the old data "
      "until it is committed)",
      host_, port_,
      total >= 0 ? absl::StrCat(total, " bytes") : "a diskless stream");
  int64_t read = 0;
  while (true) {
    if (total >= 0) {
      size_t take = static_cast<size_t>(
          std::min<int64_t>(total - read, static_cast<int64_t>(in_.size())));
      if (take > 0) {
        s = (*load)->Feed(std::string_view(in_).substr(0, take));
        in_.erase(0, take);
        read += static_cast<int64_t>(take);
        sync_read_ = read;
        if (!s.ok()) break;
      }
      if (read == total) break;
    } else {
      // Everything but a possible partial mark at the end can be fed; the
      // payload ends where the mark is (nothing follows it until we ACK).
      size_t at = in_.find(mark);
      size_t feed = at != std::string::npos
                        ? at
                        : (in_.size() > kMarkLen ? in_.size() - kMarkLen : 0);
      if (feed > 0) {
        s = (*load)->Feed(std::string_view(in_).substr(0, feed));
        in_.erase(0, feed);
        read += static_cast<int64_t>(feed);
        sync_read_ = read;
        if (!s.ok()) break;
      }
      if (at != std::string::npos) {
        in_.erase(0, kMarkLen);
        break;
      }
    }
    auto n = ReadSome(100);
    if (!n.ok()) {
      s = n.status();
      break;
    }
  }
  if (s.ok()) s = (*load)->Commit();
  loading_ = false;
  if (!s.ok()) {
    spdlog::error(
        "full sync from {}:{} failed after {} bytes: {}; keeping the old "
        "data",
        host_, port_, read, s.ToString());
    return s;
  }
  // The RDB's function libraries replaced the stored ones.
  server_.scripting().ReloadLibraries();
  spdlog::info("full sync from {}:{} done: {} keys, {} bytes in {} ms", host_,
               port_, (*load)->keys_loaded(), read, NowMs() - begin);
  return absl::OkStatus();
}

absl::Status ReplicaLink::SendAck() {
  return SendCommand({"REPLCONF", "ACK", std::to_string(processed_.load())});
}

absl::Status ReplicaLink::Stream() {
  resp::RequestParser parser;
  resp::ParserLimits limits = parser.limits();
  limits.max_bulk_len = server_.config().GetInt("proto-max-bulk-len");
  parser.set_limits(limits);
  std::vector<std::string> args;
  // A transaction cut by the disconnect is dropped: the offset stopped
  // before its MULTI, so the master sends it again.
  session_.in_multi = false;
  session_.queued.clear();
  session_.multi_raw.clear();
  int64_t multi_bytes = 0;
  int64_t last_ack = NowMs();
  // The parser keeps the state of a partly received command, so the bytes
  // it consumed are kept here until the command is complete.
  std::string raw;
  while (true) {
    size_t pos = 0;
    while (pos < in_.size()) {
      size_t consumed = 0;
      auto result =
          parser.Parse(std::string_view(in_).substr(pos), &consumed, &args);
      raw.append(in_, pos, consumed);
      pos += consumed;
      if (result == resp::RequestParser::Result::kNeedMore) break;
      if (result == resp::RequestParser::Result::kError) {
        return absl::DataLossError(
            absl::StrCat("bad command stream: ", parser.error()));
      }
      multi_bytes += static_cast<int64_t>(raw.size());
      if (!args.empty() && repl_.ApplyFromMaster(session_, args, raw)) {
        absl::Status s = SendAck();
        if (!s.ok()) return s;
        last_ack = NowMs();
      }
      // Like Redis, the offset moves only outside MULTI (at its EXEC).
      if (!session_.in_multi) {
        processed_.fetch_add(multi_bytes);
        multi_bytes = 0;
      }
      raw.clear();
    }
    in_.erase(0, pos);
    if (NowMs() - last_ack >= 1000) {
      absl::Status s = SendAck();
      if (!s.ok()) return s;
      last_ack = NowMs();
    }
    auto n = ReadSome(100);
    if (!n.ok()) return n.status();
  }
}

void ReplicaLink::AppendInfo(std::string* out) const {
  const int64_t now = NowMs();
  const bool up = state_.load() == kConnected;
  absl::StrAppend(out, "master_link_status:", up ? "up" : "down", "\r\n",
                  "master_last_io_seconds_ago:",
                  up ? (now - last_io_ms_.load()) / 1000 : -1, "\r\n",
                  "master_sync_in_progress:", loading_.load() ? 1 : 0, "\r\n",
                  "slave_read_repl_offset:", processed_.load(), "\r\n",
                  "slave_repl_offset:", processed_.load(), "\r\n");
  if (loading_.load()) {
    absl::StrAppend(
        out, "master_sync_total_bytes:", sync_total_.load(), "\r\n",
        "master_sync_read_bytes:", sync_read_.load(), "\r\n",
        "master_sync_left_bytes:",
        sync_total_.load() >= 0 ? sync_total_.load() - sync_read_.load() : -1,
        "\r\n", "master_sync_perc:",
        sync_total_.load() > 0
            ? 100.0 * static_cast<double>(sync_read_.load()) /
                  static_cast<double>(sync_total_.load())
            : 0.0,
        "\r\n");
  }
  if (!up) {
    absl::StrAppend(out, "master_link_down_since_seconds:",
                    (now - down_since_ms_.load()) / 1000, "\r\n");
  }
  absl::StrAppend(out, "slave_priority:100\r\n");
}

}  // namespace reborn::server
