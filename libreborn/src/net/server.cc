#include "net/server.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asio.hpp"
#include "command/deferred_reply.h"
#include "command/push_channel.h"
#include "net/listeners.h"
#include "net/query_buffer.h"
#include "spdlog/spdlog.h"

namespace reborn::net {
namespace {

int64_t NowMs() { return absl::GetCurrentTimeNanos() / 1000000; }

std::string Endpoint(const asio::ip::tcp::endpoint& ep) {
  return absl::StrCat(ep.address().to_string(), ":", ep.port());
}

constexpr size_t kReadChunk = 16 * 1024;  // Redis' PROTO_IOBUF_LEN
// Query buffer resizing, Redis' numbers: a buffer is trimmed only when it
// wastes more than 4 KiB, to its recent peak only when over 32 KiB
// (PROTO_RESIZE_THRESHOLD) and twice that peak; peaks are per 100 ms
// (clientsCron at hz 10); idle means no input for over 2 s.
constexpr size_t kQueryWasteBytes = 4 * 1024;
constexpr size_t kQueryResizeThreshold = 32 * 1024;
constexpr int64_t kQueryPeakWindowMs = 100;
constexpr int64_t kQueryIdleMs = 2000;

}  // namespace

size_t OutputPauseThreshold(const ServerLimits& limits) {
  const size_t soft = limits.output_soft_limit.load();
  if (soft > 0) return soft;
  const size_t hard = limits.output_hard_limit.load();
  return hard > 0 ? std::min(hard, kDefaultOutputPause) : kDefaultOutputPause;
}

size_t ClientMemory(const ClientEntry& entry) {
  return entry.query_buffer.load() + entry.query_buffer_free.load() +
         entry.output_buffer.load() + kReadChunk;
}

bool IsLocalPeer(std::string_view peer) {
  const size_t colon = peer.rfind(':');
  std::string_view ip = peer.substr(0, colon);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') {
    ip = ip.substr(1, ip.size() - 2);
  }
  return ip == "127.0.0.1" || ip == "::1" || ip == "::ffff:127.0.0.1";
}

class Connection;

class Server::Impl {
 public:
  Impl(ServerOptions options, RequestHandler* handler)
      : options_(std::move(options)), handler_(handler) {
    int n = options_.threads > 0
                ? options_.threads
                : static_cast<int>(
                      std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
    }
    flush_groups_.resize(contexts_.size());
    listeners_ = std::make_unique<Listeners>(*contexts_[0], options_.backlog);
  }

  // Sends the replies of `conn` once the writes they acknowledge are in
  // the log. Runs on the thread of context `index`.
  void SendAfterFlush(size_t index, std::shared_ptr<Connection> conn);

  absl::Status Start();
  void Stop();
  void Wait();
  void RequestStop();
  absl::Status Listen(const std::vector<std::string>& bind, int port);

  ServerOptions options_;
  RequestHandler* handler_;
  ServerLimits limits_;
  ServerStats stats_;
  ClientRegistry registry_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>>
      guards_;
  std::vector<std::thread> threads_;
  // Guards listeners_ and every operation on its acceptors: Listen() runs
  // on any thread, accepts complete on contexts_[0]'s.
  std::mutex listen_mu_;
  std::unique_ptr<Listeners> listeners_;
  std::unique_ptr<asio::steady_timer> sweep_timer_;
  size_t next_context_ = 0;
  // Per io_context: connections whose replies wait for the next
  // RequestHandler::FlushWrites(), and whether that flush is posted.
  struct FlushGroup {
    // Strong references: a connection that is closing after its replies
    // has nothing else keeping it alive.
    std::vector<std::shared_ptr<Connection>> waiting;
    bool scheduled = false;
  };
  std::vector<FlushGroup> flush_groups_;
  std::atomic<int> port_{0};  // listeners_->port(), for any thread

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_requested_ = false;
  bool stopped_ = false;
  bool started_ = false;

 private:
  // Starts one accept on `acceptor`; listen_mu_ held.
  void Accept(const Listeners::Acceptor& acceptor);
  void Sweep();
  // Redis' evictClients: closes the biggest clients while all of them
  // together take clients_memory_limit or more. Replicas and CLIENT
  // NO-EVICT ones count but are never closed.
  void EvictClients(const std::vector<std::shared_ptr<ClientEntry>>& clients);
};

// One client connection. Lives on one io_context thread: every member is
// touched only from that thread (asio handlers of one socket never run
// concurrently because each io_context has exactly one thread).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl* server, size_t context_index,
             asio::ip::tcp::socket socket)
      : server_(server),
        context_index_(context_index),
        socket_(std::move(socket)) {}

  void Start(std::shared_ptr<ClientEntry> entry) {
    entry_ = std::move(entry);
    session_.id = entry_->id;
    session_.peer = entry_->peer;
    session_.local = entry_->local;
    session_.created_ms = entry_->created_ms;
    session_.last_active_ms = entry_->created_ms;
    session_.messages = entry_->messages;
    // A script past busy-reply-threshold runs this thread's ready handlers
    // so that its other clients get their -BUSY (Redis'
    // processEventsWhileBlocked); this connection stays out of it
    // (in_handler_).
    asio::io_context* io = server_->contexts_[context_index_].get();
    session_.poll_io = [io] { io->poll(); };
    asio::error_code ignored;
    socket_.non_blocking(true, ignored);  // ReadReady() must not block
    server_->handler_->OnConnect(session_);
    if (std::string refusal = server_->handler_->Admit(session_);
        !refusal.empty()) {
      out_ = std::move(refusal);
      shutting_down_ = true;
      SendNow();
      return;
    }
    if (session_.messages) AttachMessages();
    ReadMore();
  }

  // Tells a client over maxclients why it is dropped, like redis-server.
  void RejectMaxClients() {
    out_ = "-ERR max number of clients reached\r\n";
    shutting_down_ = true;
    Flush();
  }

  // After the log flush the connection waited for (SendAfterFlush).
  void FlushDone() {
    awaiting_flush_ = false;
    SendNow();
    if (shutting_down_ && !sending()) Close();
  }

  // CLIENT UNBLOCK: ends the parked command as if it timed out, or with
  // redis-server's UNBLOCKED error.
  void Unblock(bool error) {
    if (closed_ || !pending_ || !pending_->Cancel()) return;
    Resume(error ? "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
                 : pending_->timeout_reply());
  }

  // Stops reading and closes once pending output is written.
  void Shutdown() {
    shutting_down_ = true;
    if (!sending()) Close();
  }

  // The sweep found the client idle: an empty buffer's memory goes.
  void ReleaseIdleBuffer() {
    if (closed_ || query_.free() <= kQueryWasteBytes) return;
    if (query_.empty()) {
      query_.Release();
    } else {
      query_.Trim(0);
    }
    query_peak_ = query_.size();
    PublishQueryBuffer();
  }

 private:
  void ReadMore() {
    if (read_in_flight_ || closed_ || shutting_down_ || in_handler_) return;
    // Wait for readiness, then read into the buffer: no read is in flight
    // while waiting, so an idle client's buffer can be freed
    // (ReleaseIdleBuffer). asio re-arms the descriptor on each wait, so
    // input that is already there completes the wait at once.
    read_in_flight_ = true;
    socket_.async_wait(asio::ip::tcp::socket::wait_read,
                       [self = shared_from_this()](const asio::error_code& ec) {
                         self->read_in_flight_ = false;
                         if (ec) {
                           self->Close();
                           return;
                         }
                         self->ReadReady();
                       });
  }

  void ReadReady() {
    if (closed_ || shutting_down_) return;
    size_t room = 0;
    char* at = query_.PrepareRead(kReadChunk, &room);
    asio::error_code ec;
    const size_t n = socket_.read_some(asio::buffer(at, room), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ReadMore();  // a spurious wakeup
      return;
    }
    if (ec) {
      Close();
      return;
    }
    query_.Commit(n);
    OnRead(n);
  }

  void OnRead(size_t n) {
    server_->stats_.input_bytes.fetch_add(n, std::memory_order_relaxed);
    int64_t now = NowMs();
    session_.last_active_ms = now;
    entry_->last_active_ms.store(now, std::memory_order_relaxed);
    query_peak_ = std::max(query_peak_, query_.size());
    ProcessInput();
    if (closed_) return;
    const ServerLimits& limits = server_->limits_;
    if (query_.size() > limits.query_buffer_limit.load()) {
      spdlog::warn("closing client {} ({}): query buffer over {} bytes",
                   session_.id, session_.peer,
                   limits.query_buffer_limit.load());
      Close();
      return;
    }
    if (now - peak_since_ms_ >= kQueryPeakWindowMs) TrimToPeak(now);
    PublishQueryBuffer();
    AfterInput();
  }

  // A buffer much bigger than the window's peak (a big argument once) gives
  // the excess back, as Redis' clientsCronResizeQueryBuffer does.
  void TrimToPeak(int64_t now) {
    if (query_.free() > kQueryWasteBytes &&
        query_.capacity() > kQueryResizeThreshold &&
        query_.capacity() / 2 > query_peak_) {
      query_.Trim(query_peak_);
    }
    query_peak_ = query_.size();
    peak_since_ms_ = now;
  }

  void PublishQueryBuffer() {
    entry_->query_buffer.store(query_.size(), std::memory_order_relaxed);
    entry_->query_buffer_free.store(query_.free(), std::memory_order_relaxed);
  }

  // After commands ran: send their replies, then read on unless the client
  // is closing or its pending output makes it wait.
  void AfterInput() {
    Flush();
    if (closed_) return;
    if (session_.close_after_reply) {
      shutting_down_ = true;
      if (!sending()) Close();
      return;
    }
    if (OutputPaused()) return;  // resumed by OnWritten
    ReadMore();
  }

  size_t pending_output() const { return out_.size() + writing_.size(); }

  bool OutputPaused() const {
    return !push_attached_ &&
           pending_output() > OutputPauseThreshold(server_->limits_);
  }

  // client-output-buffer-limit (normal class), Redis' rules: over the hard
  // limit, or over the soft one for longer than its seconds, closes the
  // client. Replicas (push_attached_) are held to their own limit by the
  // replication code. Returns false when it closed the connection.
  bool CheckOutputLimits() {
    if (push_attached_ || closed_) return !closed_;
    const ServerLimits& limits = server_->limits_;
    const size_t pending = pending_output();
    // A client with subscriptions is held to the pubsub class.
    const bool pubsub = session_.subscribed();
    const size_t hard = pubsub ? limits.pubsub_hard_limit.load()
                               : limits.output_hard_limit.load();
    const size_t soft = pubsub ? limits.pubsub_soft_limit.load()
                               : limits.output_soft_limit.load();
    const int64_t soft_seconds = pubsub ? limits.pubsub_soft_seconds.load()
                                        : limits.output_soft_seconds.load();
    bool over = hard > 0 && pending > hard;
    if (!over && soft > 0 && pending > soft) {
      const int64_t now = NowMs();
      if (soft_since_ms_ == 0) {
        soft_since_ms_ = now;
        ArmSoftLimitTimer(soft_seconds);
      } else {
        over = now - soft_since_ms_ > soft_seconds * 1000;
      }
    } else if (!over) {
      soft_since_ms_ = 0;
    }
    if (!over) return true;
    spdlog::warn(
        "closing client {} ({}) for overcoming of output buffer limits: {} "
        "bytes pending (client-output-buffer-limit {} {} {} {})",
        session_.id, session_.peer, pending, pubsub ? "pubsub" : "normal", hard,
        soft, soft_seconds);
    server_->stats_.output_limit_disconnections.fetch_add(
        1, std::memory_order_relaxed);
    Close();
    return false;
  }

  // A client that stays over the soft limit without reading gets no further
  // reply that would check it again: look once its time is up.
  void ArmSoftLimitTimer(int64_t seconds) {
    if (!soft_timer_) {
      soft_timer_ =
          std::make_unique<asio::steady_timer>(socket_.get_executor());
    }
    soft_timer_->expires_after(std::chrono::milliseconds(seconds * 1000 + 10));
    std::weak_ptr<Connection> weak = shared_from_this();
    soft_timer_->async_wait([weak](const asio::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_ || self->soft_since_ms_ == 0) return;
      if (self->CheckOutputLimits() && self->soft_since_ms_ != 0) {
        self->ArmSoftLimitTimer(1);
      }
    });
  }

  void ProcessInput() {
    if (in_handler_) return;  // a nested poll (Session::poll_io)
    const ServerLimits& limits = server_->limits_;
    resp::ParserLimits parser_limits = parser_.limits();
    parser_limits.max_bulk_len = limits.max_bulk_len.load();
    parser_limits.max_multibulk_len = limits.max_multibulk_len.load();
    parser_limits.max_argument_bytes = limits.query_buffer_limit.load();
    parser_.set_limits(parser_limits);

    resp::ReplyWriter writer(&out_, session_.protocol);
    size_t pos = 0;
    uint64_t executed = 0;
    while (pos < query_.size() && !session_.close_after_reply && !pending_ &&
           !OutputPaused()) {
      if (parser_limits.unauthenticated != !session_.authenticated) {
        parser_limits.unauthenticated = !session_.authenticated;  // AUTH ran
        parser_.set_limits(parser_limits);
      }
      size_t consumed = 0;
      auto result = parser_.Parse(query_.view().substr(pos), &consumed, &args_);
      pos += consumed;
      if (result == resp::RequestParser::Result::kNeedMore) break;
      if (result == resp::RequestParser::Result::kError) {
        server_->stats_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
        writer.Error(parser_.error());
        session_.close_after_reply = true;
        break;
      }
      if (args_.empty()) continue;
      writer.set_protocol(session_.protocol);
      // CLIENT LIST's qbuf counts the command being run, as Redis' does.
      entry_->query_buffer.store(query_.size() - (pos - consumed),
                                 std::memory_order_relaxed);
      const size_t reply_mark = out_.size();
      session_.reply_skip = skip_next_;
      skip_next_ = false;
      in_handler_ = true;
      server_->handler_->Handle(session_, args_, writer);
      in_handler_ = false;
      if (session_.deferred && session_.deferred->retry()) {
        // Postponed (CLIENT PAUSE): the command stays in the input and runs
        // again once the parked reply settles.
        pos -= consumed;
        skip_next_ = session_.reply_skip;
        session_.reply_skip = false;
        Suspend();
        break;
      }
      if (session_.reply_skip_next) {  // CLIENT REPLY SKIP
        session_.reply_skip_next = false;
        skip_next_ = true;
      }
      if ((session_.reply_skip || session_.reply_off) &&
          !session_.reply_is_push) {
        out_.resize(reply_mark);
      }
      session_.reply_skip = false;
      session_.reply_is_push = false;
      ++executed;
      // Other threads address messages by these (client tracking).
      entry_->protocol.store(session_.protocol, std::memory_order_relaxed);
      entry_->sub.store(session_.sub_channels, std::memory_order_relaxed);
      entry_->psub.store(session_.sub_patterns, std::memory_order_relaxed);
      entry_->ssub.store(session_.sub_shard_channels,
                         std::memory_order_relaxed);
      if (session_.deferred) Suspend();
      if (session_.push && !push_attached_) AttachPush();
      if (session_.messages && !messages_attached_) AttachMessages();
      if (!CheckOutputLimits()) return;
    }
    query_.Consume(pos);
    server_->stats_.commands.fetch_add(executed, std::memory_order_relaxed);
    entry_->db.store(session_.db, std::memory_order_relaxed);
    entry_->last_command.store(session_.last_command,
                               std::memory_order_relaxed);
  }

  // The client subscribed (Pub/Sub): messages published on any thread are
  // appended to its output on this thread, between its own replies, and it
  // goes on reading and running its commands.
  void AttachMessages() {
    messages_attached_ = true;
    std::weak_ptr<Connection> weak = shared_from_this();
    auto executor = socket_.get_executor();
    session_.messages->Attach(
        [weak, executor] {
          asio::post(executor, [weak] {
            auto self = weak.lock();
            if (!self || self->closed_) return;
            self->out_.append(self->session_.messages->Take());
            if (!self->CheckOutputLimits()) return;
            self->Flush();
          });
        },
        [weak, executor] {
          asio::post(executor, [weak] {
            if (auto self = weak.lock()) self->Close();
          });
        });
  }

  // A blocking command parked the client: run nothing more of its input
  // until the reply comes (from any thread) or the timeout passes.
  void Suspend() {
    pending_ = std::move(session_.deferred);
    session_.deferred.reset();
    server_->stats_.blocked_clients.fetch_add(1, std::memory_order_relaxed);
    entry_->blocked.store(true, std::memory_order_relaxed);
    std::weak_ptr<Connection> weak = shared_from_this();
    auto executor = socket_.get_executor();
    if (pending_->timeout_ms() > 0) {
      if (!block_timer_)
        block_timer_ = std::make_unique<asio::steady_timer>(executor);
      block_timer_->expires_after(
          std::chrono::milliseconds(pending_->timeout_ms()));
      block_timer_->async_wait([weak](const asio::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || !self->pending_) return;
        if (self->pending_->Cancel()) {
          self->Resume(self->pending_->timeout_reply());
        }
      });
    }
    pending_->AttachDelivery([weak, executor](std::string reply) {
      asio::post(executor, [weak, reply = std::move(reply)]() mutable {
        if (auto self = weak.lock()) self->Resume(std::move(reply));
      });
    });
  }

  // The connection became a stream fed by other threads (a replica).
  void AttachPush() {
    push_attached_ = true;
    entry_->replica.store(true, std::memory_order_relaxed);
    std::weak_ptr<Connection> weak = shared_from_this();
    auto executor = socket_.get_executor();
    session_.push->Attach(
        [weak, executor] {
          asio::post(executor, [weak] {
            auto self = weak.lock();
            if (!self || self->closed_) return;
            self->out_.append(self->session_.push->Take());
            self->Flush();
            self->ReportPushPending();
          });
        },
        [weak, executor] {
          asio::post(executor, [weak] {
            auto self = weak.lock();
            if (!self) return;
            if (self->closed_ || !self->session_.push->drain_on_close()) {
              self->Close();
              return;
            }
            self->out_.append(self->session_.push->Take());
            self->Flush();
            self->Shutdown();  // closes once the write is done
          });
        });
  }

  void ReportPushPending() {
    if (push_attached_) {
      session_.push->set_in_connection(out_.size() + writing_.size());
    }
  }

  void Resume(std::string reply) {
    if (closed_ || !pending_) return;
    pending_.reset();
    server_->stats_.blocked_clients.fetch_sub(1, std::memory_order_relaxed);
    entry_->blocked.store(false, std::memory_order_relaxed);
    if (block_timer_) block_timer_->cancel();
    out_.append(reply);
    ProcessInput();
    AfterInput();
  }

  // Sends out_, or queues it behind the thread's next log flush while
  // writes are unflushed (see RequestHandler::HasUnflushedWrites).
  void Flush() {
    if (write_in_flight_ || out_.empty() || closed_ || awaiting_flush_) return;
    if (server_->handler_->HasUnflushedWrites()) {
      awaiting_flush_ = true;
      server_->SendAfterFlush(context_index_, shared_from_this());
      return;
    }
    SendNow();
  }

  // Replies are on their way: written, or waiting for a log flush.
  bool sending() const { return write_in_flight_ || awaiting_flush_; }

  void SendNow() {
    if (write_in_flight_ || out_.empty() || closed_ || in_handler_) return;
    writing_.swap(out_);
    out_.clear();
    write_in_flight_ = true;
    if (entry_) {
      entry_->output_buffer.store(writing_.size(), std::memory_order_relaxed);
    }
    asio::async_write(
        socket_, asio::buffer(writing_),
        [self = shared_from_this()](const asio::error_code& ec, size_t n) {
          self->OnWritten(ec, n);
        });
  }

  void OnWritten(const asio::error_code& ec, size_t n) {
    write_in_flight_ = false;
    server_->stats_.output_bytes.fetch_add(n, std::memory_order_relaxed);
    writing_.clear();
    if (writing_.capacity() > 1024 * 1024) std::string().swap(writing_);
    if (entry_)
      entry_->output_buffer.store(out_.size(), std::memory_order_relaxed);
    ReportPushPending();
    if (ec) {
      Close();
      return;
    }
    if (!out_.empty()) {
      Flush();
      return;
    }
    if (shutting_down_) {
      Close();
      return;
    }
    if (!CheckOutputLimits()) return;
    // Commands left unread while the output was over the pause threshold.
    if (!query_.empty() && !pending_) {
      ProcessInput();
      if (closed_) return;
    }
    AfterInput();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    asio::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    if (block_timer_) block_timer_->cancel();
    if (soft_timer_) soft_timer_->cancel();
    if (session_.push) session_.push->MarkClosed();
    if (session_.messages) session_.messages->MarkClosed();
    if (pending_) {
      pending_->Cancel();
      pending_.reset();
      server_->stats_.blocked_clients.fetch_sub(1, std::memory_order_relaxed);
    }
    if (entry_ == nullptr) return;  // rejected before it started
    server_->registry_.Remove(session_.id);
    server_->handler_->OnDisconnect(session_);
  }

  Server::Impl* server_;
  const size_t context_index_;
  asio::ip::tcp::socket socket_;
  std::shared_ptr<ClientEntry> entry_;
  Session session_;
  resp::RequestParser parser_;
  std::vector<std::string> args_;
  QueryBuffer query_;
  size_t query_peak_ = 0;  // the largest query_.size() in this window
  int64_t peak_since_ms_ = 0;
  std::string out_;      // replies not yet handed to the socket
  std::string writing_;  // the write in flight
  std::shared_ptr<DeferredReply> pending_;  // a parked blocking command
  std::unique_ptr<asio::steady_timer> block_timer_;
  std::unique_ptr<asio::steady_timer> soft_timer_;
  int64_t soft_since_ms_ = 0;  // over the soft output limit since (0: not)
  bool push_attached_ = false;
  bool messages_attached_ = false;  // session_.messages (Pub/Sub)
  bool skip_next_ = false;          // CLIENT REPLY SKIP: the next reply
  bool read_in_flight_ = false;
  // Inside the command handler: a nested poll of this thread (a busy
  // script, Session::poll_io) must not read, run or send for this
  // connection; the handler's caller does all three after it.
  bool in_handler_ = false;
  bool write_in_flight_ = false;
  bool awaiting_flush_ = false;  // queued in the thread's FlushGroup
  bool shutting_down_ = false;
  bool closed_ = false;
};

absl::Status Server::Impl::Start() {
  if (absl::Status s = Listen(options_.bind, options_.port); !s.ok()) {
    return s;
  }
  sweep_timer_ = std::make_unique<asio::steady_timer>(*contexts_[0]);
  Sweep();
  for (auto& ctx : contexts_) {
    guards_.push_back(asio::make_work_guard(*ctx));
  }
  for (auto& ctx : contexts_) {
    threads_.emplace_back([ctx = ctx.get()] { ctx->run(); });
  }
  started_ = true;
  return absl::OkStatus();
}

void Server::Impl::SendAfterFlush(size_t index,
                                  std::shared_ptr<Connection> conn) {
  FlushGroup& group = flush_groups_[index];
  group.waiting.push_back(std::move(conn));
  if (group.scheduled) return;
  group.scheduled = true;
  // Posted behind the handlers that are ready now (the other connections
  // of this epoll round), so that one flush covers all their writes.
  asio::post(*contexts_[index], [this, index] {
    FlushGroup& g = flush_groups_[index];
    g.scheduled = false;
    std::vector<std::shared_ptr<Connection>> waiting;
    waiting.swap(g.waiting);
    handler_->FlushWrites();
    for (const std::shared_ptr<Connection>& c : waiting) c->FlushDone();
  });
}

absl::Status Server::Impl::Listen(const std::vector<std::string>& bind,
                                  int port) {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stop_requested_) {
      return absl::UnavailableError("the server is shutting down");
    }
  }
  std::lock_guard<std::mutex> lock(listen_mu_);
  std::vector<Listeners::Acceptor> opened;
  absl::Status s = listeners_->Rebind(bind, port, &opened);
  for (const Listeners::Acceptor& acceptor : opened) Accept(acceptor);
  port_ = listeners_->port();
  return s;
}

void Server::Impl::Accept(const Listeners::Acceptor& acceptor) {
  const size_t index = next_context_;
  asio::io_context& target = *contexts_[index];
  next_context_ = (next_context_ + 1) % contexts_.size();
  acceptor->async_accept(target, [this, index, &target, acceptor](
                                     const asio::error_code& ec,
                                     asio::ip::tcp::socket socket) {
    if (ec) {
      // A listener closed by Stop() or replaced by Listen().
      if (ec == asio::error::operation_aborted) return;
      spdlog::warn("accept failed: {}", ec.message());
    } else {
      asio::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      auto entry = std::make_shared<ClientEntry>();
      entry->id = registry_.NextId();
      entry->peer = Endpoint(socket.remote_endpoint(ignored));
      entry->local = Endpoint(socket.local_endpoint(ignored));
      entry->created_ms = NowMs();
      entry->last_active_ms = entry->created_ms;
      entry->messages = std::make_shared<PushChannel>();
      auto conn = std::make_shared<Connection>(this, index, std::move(socket));
      asio::io_context* ctx = &target;
      std::weak_ptr<Connection> weak = conn;
      entry->kill = [weak, ctx] {
        asio::post(*ctx, [weak] {
          if (auto c = weak.lock()) c->Shutdown();
        });
      };
      entry->release_idle_buffer = [weak, ctx] {
        asio::post(*ctx, [weak] {
          if (auto c = weak.lock()) c->ReleaseIdleBuffer();
        });
      };
      entry->unblock = [weak, ctx](bool error) {
        asio::post(*ctx, [weak, error] {
          if (auto c = weak.lock()) c->Unblock(error);
        });
      };
      if (registry_.Add(entry, limits_.max_clients.load())) {
        asio::post(*ctx, [conn, entry] { conn->Start(entry); });
      } else {
        asio::post(*ctx, [conn] { conn->RejectMaxClients(); });
      }
    }
    std::lock_guard<std::mutex> lock(listen_mu_);
    if (!stop_requested_ && acceptor->is_open()) Accept(acceptor);
  });
}

void Server::Impl::Sweep() {
  sweep_timer_->expires_after(std::chrono::seconds(1));
  sweep_timer_->async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    const int64_t timeout_s = limits_.idle_timeout_s.load();
    const int64_t now = NowMs();
    const std::vector<std::shared_ptr<ClientEntry>> clients =
        registry_.Snapshot();
    EvictClients(clients);
    for (const auto& entry : clients) {
      const int64_t idle_ms = now - entry->last_active_ms.load();
      // As in Redis, replicas and blocked clients never time out.
      if (timeout_s > 0 && !entry->replica.load() && !entry->blocked.load() &&
          idle_ms > timeout_s * 1000) {
        entry->kill();
      } else if (idle_ms > kQueryIdleMs &&
                 entry->query_buffer_free.load() > kQueryWasteBytes &&
                 entry->release_idle_buffer) {
        entry->release_idle_buffer();
      }
    }
    Sweep();
  });
}

void Server::Impl::EvictClients(
    const std::vector<std::shared_ptr<ClientEntry>>& clients) {
  const int64_t limit = limits_.clients_memory_limit.load();
  if (limit <= 0) return;
  size_t total = 0;
  std::vector<std::pair<size_t, ClientEntry*>> evictable;
  for (const auto& entry : clients) {
    if (entry->evicted.load()) continue;
    const size_t bytes = ClientMemory(*entry);
    total += bytes;
    if (!entry->replica.load() && !entry->no_evict.load()) {
      evictable.emplace_back(bytes, entry.get());
    }
  }
  std::sort(evictable.begin(), evictable.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [bytes, entry] : evictable) {
    if (total < static_cast<size_t>(limit)) break;
    spdlog::info("Evicting client: id={} addr={} ({} bytes of buffers)",
                 entry->id, entry->peer, bytes);
    entry->evicted.store(true);
    entry->kill();
    stats_.evicted_clients.fetch_add(1, std::memory_order_relaxed);
    total -= bytes;
  }
}

void Server::Impl::RequestStop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  stop_requested_ = true;
  stop_cv_.notify_all();
}

void Server::Impl::Wait() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  stop_cv_.wait(lock, [this] { return stop_requested_ || stopped_; });
}

void Server::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopped_) return;
    stop_requested_ = true;
  }
  if (started_) {
    {
      std::lock_guard<std::mutex> lock(listen_mu_);
      listeners_->CloseAll();
      port_ = 0;
    }
    asio::post(*contexts_[0], [this] { sweep_timer_->cancel(); });
    for (const auto& entry : registry_.Snapshot()) entry->kill();
    // Let in-flight replies drain, bounded.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (registry_.size() > 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    guards_.clear();
    for (auto& ctx : contexts_) ctx->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  std::lock_guard<std::mutex> lock(stop_mu_);
  stopped_ = true;
  stop_cv_.notify_all();
}

Server::Server(ServerOptions options, RequestHandler* handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}
Server::~Server() { Stop(); }
absl::Status Server::Start() { return impl_->Start(); }
absl::Status Server::Listen(const std::vector<std::string>& bind, int port) {
  return impl_->Listen(bind, port);
}
int Server::port() const { return impl_->port_; }
void Server::Stop() { impl_->Stop(); }
void Server::Wait() { impl_->Wait(); }
void Server::RequestStop() { impl_->RequestStop(); }
ServerLimits& Server::limits() { return impl_->limits_; }
ServerStats& Server::stats() { return impl_->stats_; }
ClientRegistry& Server::clients() { return impl_->registry_; }
int Server::thread_count() const {
  return static_cast<int>(impl_->contexts_.size());
}

}  // namespace reborn::net
