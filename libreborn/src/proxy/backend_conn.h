#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "asio.hpp"
#include "resp/reply_parser.h"

namespace reborn::proxy {

struct BackendOptions {
  std::string password;
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{1000};
  std::chrono::milliseconds connect_timeout{1000};
  // A request without a reply after this long fails the connection (see
  // BackendConnection). 0 = none.
  std::chrono::milliseconds request_timeout{0};
};

// Counters shared by all backend connections of a proxy (relaxed atomics).
struct BackendCounters {
  std::atomic<int64_t> connections{0};  // currently connected
  std::atomic<int64_t> in_flight{0};    // requests awaiting a reply
  std::atomic<uint64_t> connects{0};    // successful connects
  std::atomic<uint64_t> failures{0};    // connect or I/O failures
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> batches{0};  // writes (requests / batches =
                                     // average pipeline depth)
};

// One pipelined RESP connection to a backend server, living on one
// io_context (one thread): every member is touched only from that thread, so
// there is no lock. Requests are appended to an output buffer and written in
// one batch when the current handler returns (a posted flush), so all the
// commands a client pipelined — and those of other clients on the same
// thread — go out in one write. Replies are matched to callbacks in order
// and handed over as the raw RESP bytes (relayed verbatim).
//
// While the backend is unreachable the connection backs off (doubling from
// backoff_min to backoff_max); requests during the backoff fail at once with
// an error reply, so a dead group never holds up anyone. A hung one (a
// stopped process accepts connections and requests but never answers) is
// caught by the request timeout: when the oldest request has waited longer,
// and nothing came from the backend for as long either (a deep pipeline it
// is still answering is not hung), every request on the connection fails with
// "ERR backend <addr> timed out after <n> ms" and the connection backs off and
// is made again. Replies come in order, so only the oldest request's deadline
// is watched (one timer per connection, not one per request). In push mode
// (Pub/Sub) every reply goes to the push handler instead of a callback, and
// nothing times out.
class BackendConnection
    : public std::enable_shared_from_this<BackendConnection> {
 public:
  // Receives one complete raw reply; on failure a synthesized "-ERR ..."
  // reply. Called on the connection's thread, possibly from within Send().
  using Callback = std::function<void(std::string_view reply)>;
  // Push mode: `closed` is true once, when the connection is gone.
  using PushHandler = std::function<void(std::string_view reply, bool closed)>;

  BackendConnection(asio::io_context& io, std::string addr,
                    const BackendOptions* options, BackendCounters* counters);
  ~BackendConnection();

  const std::string& addr() const { return addr_; }

  // Use the options' request_timeout.
  static constexpr std::chrono::milliseconds kDefaultTimeout{-1};

  // Queues one encoded request. Connects first when needed. `timeout`: how
  // long the reply may take (0 = forever, e.g. a blocking command that
  // waits forever).
  void Send(std::string_view encoded, Callback callback,
            std::chrono::milliseconds timeout = kDefaultTimeout);
  void SetPushHandler(PushHandler handler) { push_ = std::move(handler); }

  // Fails every pending request and closes; the object may be reused (the
  // next Send reconnects).
  void Close();

  bool connected() const { return state_ == State::kConnected; }
  bool down() const;
  size_t pending() const { return callbacks_.size(); }
  std::chrono::steady_clock::time_point last_activity() const {
    return last_activity_;
  }

 private:
  enum class State { kIdle, kConnecting, kConnected, kBackoff };

  void Connect();
  void OnConnected(const asio::error_code& ec);
  void ScheduleFlush();
  void Flush();
  void ReadMore();
  void OnRead(const asio::error_code& ec, size_t n);
  void Fail(const std::string& why);
  // Fails the connection if the oldest request is past its deadline, else
  // waits until that deadline.
  void CheckDeadline();
  void ArmDeadline();
  void ArmDeadlineAt(std::chrono::steady_clock::time_point at);

  asio::io_context& io_;
  std::string addr_;
  const BackendOptions* options_;
  BackendCounters* counters_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer connect_timer_;
  State state_ = State::kIdle;
  std::chrono::steady_clock::time_point retry_at_{};
  int failures_ = 0;
  std::string last_error_;
  std::string out_;
  std::string writing_;
  std::string in_;
  std::array<char, 16 * 1024> read_buf_;
  std::deque<Callback> callbacks_;
  // One per callback: when its reply is due (time_point::max(): never).
  struct Due {
    std::chrono::steady_clock::time_point at;
    int64_t timeout_ms = 0;
  };
  std::deque<Due> deadlines_;
  asio::steady_timer deadline_timer_;
  bool deadline_armed_ = false;
  PushHandler push_;
  resp::ReplyParser parser_;
  bool flush_posted_ = false;
  bool closing_ = false;  // inside Close(): not a failure
  bool write_in_flight_ = false;
  bool read_in_flight_ = false;
  std::chrono::steady_clock::time_point last_activity_{};
  uint64_t generation_ = 0;  // bumped on every (re)connect and close
};

}  // namespace reborn::proxy
