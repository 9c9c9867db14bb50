#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "command/session.h"
#include "net/client_registry.h"
#include "resp/reply_writer.h"
#include "resp/request_parser.h"

namespace reborn::net {

// Limits that CONFIG SET may change while the server runs; read by every
// connection thread, hence atomics.
struct ServerLimits {
  std::atomic<size_t> max_clients{10000};
  // Unparsed input plus the arguments of a command being received, each
  // counted with its bookkeeping overhead (kArgumentOverhead).
  std::atomic<size_t> query_buffer_limit{1024ULL * 1024 * 1024};
  // client-output-buffer-limit for normal clients (0 = none): pending output
  // over the hard limit, or over the soft limit for longer than
  // soft_seconds, disconnects the client; checked per reply appended.
  std::atomic<size_t> output_hard_limit{0};
  std::atomic<size_t> output_soft_limit{0};
  std::atomic<int64_t> output_soft_seconds{0};
  // The pubsub class, for clients with subscriptions (same rules).
  std::atomic<size_t> pubsub_hard_limit{32ULL * 1024 * 1024};
  std::atomic<size_t> pubsub_soft_limit{8ULL * 1024 * 1024};
  std::atomic<int64_t> pubsub_soft_seconds{60};
  std::atomic<int64_t> idle_timeout_s{0};  // 0 = never
  // Client eviction (maxmemory-clients resolved to bytes; 0 = off): while
  // the clients' buffers (ClientMemory) add up to this or more, the biggest
  // evictable client is closed. Checked once a second.
  std::atomic<int64_t> clients_memory_limit{0};
  std::atomic<int64_t> max_bulk_len{512LL * 1024 * 1024};
  std::atomic<int64_t> max_multibulk_len{2147483647};  // Redis: INT_MAX
};

// While a client's pending output is over this, its further commands wait
// unread (backpressure), so a client that never reads cannot make the server
// buffer replies without bound. The soft limit, when set, is the threshold;
// else the hard limit or kDefaultOutputPause, whichever is smaller.
inline constexpr size_t kDefaultOutputPause = 32ULL * 1024 * 1024;
size_t OutputPauseThreshold(const ServerLimits& limits);

// Whether a peer address ("ip:port" or "[ip]:port" or "ip6:port") is the
// loopback interface as Redis counts it: 127.0.0.1 or ::1 exactly.
bool IsLocalPeer(std::string_view peer);

// At most this many bind addresses (Redis' CONFIG_BINDADDR_MAX).
inline constexpr size_t kMaxBindAddresses = 16;

struct ServerOptions {
  // redis.conf's bind syntax, one address a string (see net::Listeners).
  std::vector<std::string> bind = {"127.0.0.1"};
  int port = 6380;  // 0 picks a free port; see Server::port()
  int threads = 0;  // 0 = hardware concurrency
  int backlog = 511;
};

// Counters for INFO stats; relaxed atomics.
struct ServerStats {
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> input_bytes{0};
  std::atomic<uint64_t> output_bytes{0};
  std::atomic<uint64_t> protocol_errors{0};
  // Clients closed for client-output-buffer-limit (Redis'
  // client_output_buffer_limit_disconnections) and for the query limit.
  std::atomic<uint64_t> output_limit_disconnections{0};
  std::atomic<uint64_t> query_limit_disconnections{0};
  std::atomic<int64_t> blocked_clients{0};
  std::atomic<uint64_t> evicted_clients{0};  // by clients_memory_limit
};

// The memory a client's buffers take, as client eviction counts it: its
// query buffer (used and spare), its pending output and its read chunk.
size_t ClientMemory(const ClientEntry& entry);

// Executes the commands of client connections. Called concurrently from all
// I/O threads, each call on the thread that owns the session.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // A non-empty result refuses the connection: the text (a RESP error line)
  // is sent and the connection closed before any command is read.
  virtual std::string Admit(const Session& session) { return ""; }
  virtual void OnConnect(Session& session) {}
  virtual void OnDisconnect(Session& session) {}
  // Runs one command and writes its reply. Setting
  // session.close_after_reply closes the connection once replies are sent.
  virtual void Handle(Session& session, std::vector<std::string>& args,
                      resp::ReplyWriter& reply) = 0;
  // The durability barrier before replies go out (group commit): while
  // HasUnflushedWrites() is true, an I/O thread holds the replies of every
  // connection it served, runs FlushWrites() once after its other ready
  // work, then sends them all. Called from every I/O thread.
  virtual bool HasUnflushedWrites() { return false; }
  virtual void FlushWrites() {}
};

// A RESP server: one io_context per thread, each connection pinned to one
// thread. A read parses every complete command in the buffer and the replies
// of the batch go out in one write (pipelining).
//
// Thread safety: Start/Stop/Wait from one controlling thread; limits(),
// stats() and clients() from any thread.
class Server {
 public:
  Server(ServerOptions options, RequestHandler* handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the I/O threads.
  absl::Status Start();
  // Listens on `bind` at `port` instead (CONFIG SET bind / port), keeping
  // the connections; on error the old listeners stay (net::Listeners::
  // Rebind). Any thread.
  absl::Status Listen(const std::vector<std::string>& bind, int port);
  // The bound port (useful with port 0); 0 when nothing listens.
  int port() const;
  // Stops accepting, lets in-flight replies drain (bounded), closes every
  // connection and joins the threads. Idempotent; safe from any thread
  // except an I/O thread.
  void Stop();
  // Blocks until Stop() has completed.
  void Wait();
  // Asks the controlling thread blocked in Wait() to stop (any thread, also
  // I/O threads: SHUTDOWN, signals).
  void RequestStop();

  ServerLimits& limits();
  ServerStats& stats();
  ClientRegistry& clients();
  int thread_count() const;

  class Impl;  // public so that the internal connection class can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace reborn::net
