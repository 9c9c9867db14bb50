#include "proxy/backend_conn.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "net/sync_client.h"
#include "routing/merge.h"
#include "spdlog/spdlog.h"

namespace reborn::proxy {
BackendConnection::BackendConnection(asio::io_context& io, std::string addr,
                                     const BackendOptions* options,
                                     BackendCounters* counters)
    : io_(io),
      addr_(std::move(addr)),
      options_(options),
      counters_(counters),
      socket_(io),
      connect_timer_(io),
      deadline_timer_(io) {}

BackendConnection::~BackendConnection() {
  if (state_ == State::kConnected) counters_->connections.fetch_sub(1);
  counters_->in_flight.fetch_sub(static_cast<int64_t>(callbacks_.size()));
}

bool BackendConnection::down() const {
  return state_ == State::kBackoff &&
         std::chrono::steady_clock::now() < retry_at_;
}

void BackendConnection::Send(std::string_view encoded, Callback callback,
                             std::chrono::milliseconds timeout) {
  if (state_ == State::kBackoff) {
    if (std::chrono::steady_clock::now() < retry_at_) {
      std::string err = routing::ErrorReply(absl::StrCat(
          "ERR backend ", addr_, " is unavailable: ", last_error_));
      if (callback) callback(err);
      return;
    }
    state_ = State::kIdle;
  }
  if (state_ == State::kIdle) Connect();
  out_.append(encoded);
  if (!push_) {  // in push mode every reply goes to the push handler
    if (timeout == kDefaultTimeout) timeout = options_->request_timeout;
    deadlines_.push_back(Due{timeout.count() > 0
                                 ? std::chrono::steady_clock::now() + timeout
                                 : std::chrono::steady_clock::time_point::max(),
                             timeout.count()});
    callbacks_.push_back(std::move(callback));
    ArmDeadline();
    counters_->in_flight.fetch_add(1, std::memory_order_relaxed);
  }
  counters_->requests.fetch_add(1, std::memory_order_relaxed);
  if (state_ == State::kConnected) ScheduleFlush();
}

void BackendConnection::Connect() {
  state_ = State::kConnecting;
  ++generation_;
  size_t colon = addr_.rfind(':');
  int port = 0;
  asio::error_code ec;
  asio::ip::address address;
  if (colon != std::string::npos &&
      absl::SimpleAtoi(addr_.substr(colon + 1), &port)) {
    std::string host = addr_.substr(0, colon);
    if (host == "localhost") host = "127.0.0.1";
    address = asio::ip::make_address(host, ec);
    if (ec) {
      // A host name: resolve synchronously (rare; topology uses addresses).
      asio::ip::tcp::resolver resolver(io_);
      auto results = resolver.resolve(host, std::to_string(port), ec);
      if (!ec && !results.empty())
        address = results.begin()->endpoint().address();
    }
  } else {
    ec = asio::error::invalid_argument;
  }
  if (options_->password.size() > 0) {
    out_.insert(0, net::EncodeCommand({"AUTH", options_->password}));
    deadlines_.push_front(Due{std::chrono::steady_clock::time_point::max()});
    callbacks_.push_front([this](std::string_view reply) {
      if (!reply.empty() && reply[0] == '-') {
        spdlog::warn("backend {}: AUTH failed: {}", addr_,
                     std::string(reply.substr(1, reply.size() - 3)));
      }
    });
    counters_->in_flight.fetch_add(1, std::memory_order_relaxed);
  }
  if (ec) {
    asio::post(io_, [self = shared_from_this(), gen = generation_] {
      if (self->generation_ == gen) self->Fail("bad backend address");
    });
    return;
  }
  asio::ip::tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  socket_ = asio::ip::tcp::socket(io_);
  connect_timer_.expires_after(options_->connect_timeout);
  connect_timer_.async_wait([self = shared_from_this(),
                             gen = generation_](const asio::error_code& e) {
    if (e || self->generation_ != gen || self->state_ != State::kConnecting) {
      return;
    }
    self->Fail("connect timeout");
  });
  socket_.async_connect(endpoint,
                        [self = shared_from_this(),
                         gen = generation_](const asio::error_code& e) {
                          if (self->generation_ != gen) return;
                          self->OnConnected(e);
                        });
}

void BackendConnection::OnConnected(const asio::error_code& ec) {
  connect_timer_.cancel();
  if (ec) {
    Fail(ec.message());
    return;
  }
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  state_ = State::kConnected;
  // failures_ is reset by the first reply, not here: a stopped server
  // accepts connections, and its timeouts must still back off.
  last_activity_ = std::chrono::steady_clock::now();
  counters_->connections.fetch_add(1, std::memory_order_relaxed);
  counters_->connects.fetch_add(1, std::memory_order_relaxed);
  ReadMore();
  Flush();
}

void BackendConnection::ScheduleFlush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [self = shared_from_this(), gen = generation_] {
    self->flush_posted_ = false;
    if (self->generation_ == gen) self->Flush();
  });
}

void BackendConnection::Flush() {
  if (state_ != State::kConnected || write_in_flight_ || out_.empty()) return;
  writing_.swap(out_);
  out_.clear();
  write_in_flight_ = true;
  counters_->batches.fetch_add(1, std::memory_order_relaxed);
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this(), gen = generation_](
                        const asio::error_code& ec, size_t) {
                      if (self->generation_ != gen) return;
                      self->write_in_flight_ = false;
                      self->writing_.clear();
                      if (ec) {
                        self->Fail(ec.message());
                        return;
                      }
                      self->Flush();
                    });
}

void BackendConnection::ReadMore() {
  if (read_in_flight_) return;
  read_in_flight_ = true;
  socket_.async_read_some(asio::buffer(read_buf_),
                          [self = shared_from_this(), gen = generation_](
                              const asio::error_code& ec, size_t n) {
                            if (self->generation_ != gen) return;
                            self->read_in_flight_ = false;
                            self->OnRead(ec, n);
                          });
}

void BackendConnection::OnRead(const asio::error_code& ec, size_t n) {
  if (ec) {
    Fail(ec == asio::error::eof ? "connection closed by backend"
                                : ec.message());
    return;
  }
  last_activity_ = std::chrono::steady_clock::now();
  in_.append(read_buf_.data(), n);
  uint64_t gen = generation_;
  auto keep_alive = shared_from_this();
  size_t pos = 0;
  while (pos < in_.size()) {
    int64_t len = parser_.Measure(std::string_view(in_).substr(pos));
    if (len == 0) break;
    if (len < 0) {
      Fail("protocol error in backend reply");
      return;
    }
    std::string_view reply(in_.data() + pos, static_cast<size_t>(len));
    pos += static_cast<size_t>(len);
    if (push_ && callbacks_.empty()) {
      push_(reply, false);
    } else if (!callbacks_.empty()) {
      Callback cb = std::move(callbacks_.front());
      callbacks_.pop_front();
      deadlines_.pop_front();
      failures_ = 0;
      counters_->in_flight.fetch_sub(1, std::memory_order_relaxed);
      if (cb) cb(reply);
    }
    if (generation_ != gen) return;  // closed from a callback
  }
  in_.erase(0, pos);
  ArmDeadline();
  ReadMore();
}

void BackendConnection::Fail(const std::string& why) {
  if (state_ == State::kConnecting || state_ == State::kConnected) {
    if (state_ == State::kConnected) counters_->connections.fetch_sub(1);
    if (!closing_) {
      counters_->failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("backend {}: {}", addr_, why);
    }
  }
  ++generation_;
  asio::error_code ignored;
  socket_.close(ignored);
  connect_timer_.cancel();
  last_error_ = why;
  ++failures_;
  auto delay = options_->backoff_min * (1LL << std::min(failures_ - 1, 10));
  if (delay > options_->backoff_max) delay = options_->backoff_max;
  retry_at_ = std::chrono::steady_clock::now() + delay;
  state_ = State::kBackoff;
  out_.clear();
  writing_.clear();
  in_.clear();
  write_in_flight_ = false;
  read_in_flight_ = false;
  std::deque<Callback> callbacks;
  callbacks.swap(callbacks_);
  deadlines_.clear();
  counters_->in_flight.fetch_sub(static_cast<int64_t>(callbacks.size()));
  std::string err = routing::ErrorReply(
      absl::StartsWith(why, "timed out")
          ? absl::StrCat("ERR backend ", addr_, " ", why)
          : absl::StrCat("ERR backend ", addr_, " is unavailable: ", why));
  auto keep_alive = shared_from_this();
  for (auto& cb : callbacks) {
    if (cb) cb(err);
  }
  if (push_) push_(err, true);
}

void BackendConnection::ArmDeadline() {
  if (deadlines_.empty()) return;
  ArmDeadlineAt(deadlines_.front().at);
}

void BackendConnection::ArmDeadlineAt(
    std::chrono::steady_clock::time_point at) {
  if (deadline_armed_ || at == std::chrono::steady_clock::time_point::max()) {
    return;
  }
  deadline_armed_ = true;
  deadline_timer_.expires_at(at);
  deadline_timer_.async_wait(
      [self = shared_from_this()](const asio::error_code& ec) {
        self->deadline_armed_ = false;
        if (ec) {
          self->ArmDeadline();
        } else {
          self->CheckDeadline();
        }
      });
}

// The oldest request is late when it has waited its timeout and the backend
// sent nothing for as long: a deep pipeline that the backend is still
// working through (replies arriving) is not a hung backend.
void BackendConnection::CheckDeadline() {
  if (deadlines_.empty()) return;
  const Due& front = deadlines_.front();
  if (front.at == std::chrono::steady_clock::time_point::max()) return;
  const auto due = std::max(
      front.at, last_activity_ + std::chrono::milliseconds(front.timeout_ms));
  if (due > std::chrono::steady_clock::now()) {
    ArmDeadlineAt(due);  // answered meanwhile, or still answering
    return;
  }
  const int64_t ms = front.timeout_ms;
  spdlog::warn("backend {}: no reply within {} ms, reconnecting", addr_, ms);
  Fail(absl::StrCat("timed out after ", ms, " ms"));
}

void BackendConnection::Close() {
  if (state_ == State::kIdle) return;
  closing_ = true;
  Fail("connection closed by proxy");
  closing_ = false;
  state_ = State::kIdle;
  failures_ = 0;
}

}  // namespace reborn::proxy
