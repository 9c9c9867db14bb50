#include "proxy/session.h"

#include <unistd.h>

#include <algorithm>
#include <unordered_map>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "command/command_table.h"
#include "net/sync_client.h"
#include "proxy/block_timeout.h"
#include "reborn/version.h"
#include "routing/merge.h"
#include "spdlog/spdlog.h"

namespace reborn::proxy {
namespace {

constexpr size_t kMaxPending = 4096;  // replies owed before reads pause
constexpr std::string_view kUnknownName = "unknown";

int64_t NowNs() { return absl::GetCurrentTimeNanos(); }

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

bool IsError(std::string_view reply) {
  return !reply.empty() && reply[0] == '-';
}

// The argument count of the multibulk header at the front of `input`
// ("*<n>\r\n"); 0 when it is not one.
int64_t MultibulkCount(std::string_view input) {
  size_t end = input.find('\r');
  int64_t n = 0;
  if (input.empty() || input[0] != '*' || end == std::string_view::npos ||
      !absl::SimpleAtoi(std::string(input.substr(1, end - 1)), &n)) {
    return 0;
  }
  return n;
}

}  // namespace

Session::Session(Worker* worker, asio::ip::tcp::socket socket)
    : worker_(worker), proxy_(worker->proxy()), socket_(std::move(socket)) {}

Session::~Session() = default;

void Session::Start(std::shared_ptr<net::ClientEntry> entry) {
  entry_ = std::move(entry);
  id_ = entry_->id;
  authed_ = proxy_->options().requirepass.empty();
  proxy_->counters().clients.fetch_add(1, std::memory_order_relaxed);
  proxy_->counters().total_clients.fetch_add(1, std::memory_order_relaxed);
  ReadMore();
}

void Session::RejectMaxClients() {
  out_ = "-ERR max number of clients reached\r\n";
  close_after_reply_ = true;
  Flush();
}

void Session::Shutdown() {
  close_after_reply_ = true;
  if (!write_in_flight_ && out_.empty()) Close();
}

// ---------------------------------------------------------------- I/O

void Session::ReadMore() {
  if (read_in_flight_ || closed_ || close_after_reply_) return;
  if (pending_.size() >= kMaxPending || OutputOverPauseMark()) {
    read_paused_ = true;
    if (OutputOverPauseMark()) WatchSoftLimit();
    return;
  }
  read_paused_ = false;
  read_in_flight_ = true;
  socket_.async_read_some(
      asio::buffer(read_buf_),
      [self = shared_from_this()](const asio::error_code& ec, size_t n) {
        self->read_in_flight_ = false;
        self->OnRead(ec, n);
      });
}

void Session::OnRead(const asio::error_code& ec, size_t n) {
  if (ec) {
    Close();
    return;
  }
  if (closed_) return;
  query_.append(read_buf_.data(), n);
  entry_->last_active_ms.store(NowNs() / 1000000, std::memory_order_relaxed);
  ProcessInput();
}

void Session::ProcessInput() {
  if (closed_ || processing_) return;
  processing_ = true;
  read_ns_ = NowNs();  // the arrival time of the commands parsed below
  size_t pos = 0;
  // Parsing stops while the client owes reading too much: what it sent
  // stays in query_ (and in the socket) until it reads.
  while (pos < query_.size() && !close_after_reply_ && !OutputOverPauseMark() &&
         !auth_waiting_) {
    if (parser_.limits().unauthenticated != !authed_) {  // AUTH ran
      resp::ParserLimits limits = parser_.limits();
      limits.unauthenticated = !authed_;
      parser_.set_limits(limits);
    }
    size_t consumed = 0;
    bool whole = !parser_.in_command() && query_[pos] == '*';
    auto result =
        parser_.Parse(std::string_view(query_).substr(pos), &consumed, &args_);
    if (result == resp::RequestParser::Result::kNeedMore) {
      if (parser_.in_command()) {
        if (whole) {
          partial_args_ = MultibulkCount(std::string_view(query_).substr(pos));
          partial_bytes_ = 0;
        }
        partial_bytes_ += consumed;
      }
      pos += consumed;
      break;
    }
    partial_args_ = 0;
    partial_bytes_ = 0;
    if (result == resp::RequestParser::Result::kError) {
      ReplyError(parser_.error());
      close_after_reply_ = true;
      break;
    }
    // A multibulk command parsed from one buffer is forwarded as it came.
    raw_request_ = whole ? std::string_view(query_).substr(pos, consumed)
                         : std::string_view();
    pos += consumed;
    if (args_.empty()) continue;
    Dispatch(args_);
    raw_request_ = {};
    if (closed_) {
      processing_ = false;
      return;
    }
  }
  read_ns_ = 0;
  query_.erase(0, pos);
  processing_ = false;
  if (CheckQueryLimit()) return;
  Drain();
  ReadMore();
}

void Session::ResumeInput() {
  if (resume_posted_ || closed_) return;
  resume_posted_ = true;
  asio::post(worker_->io(), [self = shared_from_this()] {
    self->resume_posted_ = false;
    self->ProcessInput();
  });
}

// A paused client gets no more replies, so no reply appended would find
// it over the soft limit for too long: a timer does.
void Session::WatchSoftLimit() {
  const ProxyOptions::OutputLimit& limit = OutputLimitClass();
  if (limit.soft == 0 || output_bytes_ <= limit.soft) return;
  if (!limit_timer_) {
    limit_timer_ = std::make_unique<asio::steady_timer>(worker_->io());
  }
  if (soft_limit_since_ns_ == 0) soft_limit_since_ns_ = NowNs();
  const int64_t due_ns = soft_limit_since_ns_ +
                         absl::ToInt64Nanoseconds(limit.soft_time) + 1000000;
  limit_timer_->expires_after(
      std::chrono::nanoseconds(std::max<int64_t>(due_ns - NowNs(), 0)));
  limit_timer_->async_wait(
      [weak = weak_from_this()](const asio::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || self->closed_) return;
        if (!self->CheckOutputLimit() && self->read_paused_) {
          self->WatchSoftLimit();
        }
      });
}

const ProxyOptions::OutputLimit& Session::OutputLimitClass() const {
  return in_pubsub_ ? proxy_->options().output_limit_pubsub
                    : proxy_->options().output_limit_normal;
}

bool Session::OutputOverPauseMark() const {
  const ProxyOptions::OutputLimit& limit = OutputLimitClass();
  uint64_t mark = limit.soft > 0 ? limit.soft : limit.hard / 2;
  return mark > 0 && output_bytes_ > mark;
}

bool Session::CheckOutputLimit() {
  if (closed_) return true;
  const ProxyOptions::OutputLimit& limit = OutputLimitClass();
  bool over = limit.hard > 0 && output_bytes_ > limit.hard;
  if (!over && limit.soft > 0 && output_bytes_ > limit.soft) {
    const int64_t now = NowNs();
    if (soft_limit_since_ns_ == 0) {
      soft_limit_since_ns_ = now;
    } else {
      over = now - soft_limit_since_ns_ >
             absl::ToInt64Nanoseconds(limit.soft_time);
    }
  } else if (!over) {
    soft_limit_since_ns_ = 0;
  }
  if (!over) return false;
  spdlog::warn(
      "client id={} addr={} closed for overcoming of output buffer limits "
      "({} bytes owed; {} class: hard {} soft {} for {} s)",
      id_, entry_ ? entry_->peer : std::string(), output_bytes_,
      in_pubsub_ ? "pubsub" : "normal", limit.hard, limit.soft,
      absl::ToInt64Seconds(limit.soft_time));
  Close();
  return true;
}

bool Session::CheckQueryLimit() {
  // What the client made the proxy hold: its unparsed bytes, and the
  // command being received — its bytes and, per argument, a string in a
  // vector that may be twice the size it uses. Arguments are at least 6
  // bytes ("$0\r\n\r\n"), so that bounds how many the parser holds.
  constexpr uint64_t kArgOverhead = 2 * sizeof(std::string);
  const uint64_t args = std::min<uint64_t>(
      static_cast<uint64_t>(std::max<int64_t>(partial_args_, 0)),
      partial_bytes_ / 6 + 1);
  const uint64_t held = query_.size() + partial_bytes_ + args * kArgOverhead;
  const uint64_t limit = proxy_->options().query_buffer_limit;
  if (limit == 0 || held <= limit) return false;
  spdlog::warn(
      "client id={} addr={} closed for overcoming of the query buffer limit "
      "({} bytes held, {} arguments pending, limit {})",
      id_, entry_ ? entry_->peer : std::string(), held, partial_args_, limit);
  Close();
  return true;
}

void Session::Drain() {
  if (closed_) return;
  int64_t now = 0;
  while (!pending_.empty() && pending_.front()->done) {
    Pending& p = *pending_.front();
    out_.append(p.data);
    if (now == 0) now = NowNs();
    samples_.push_back({p.command, IsError(p.data), (now - p.start_ns) / 1000});
    pending_.pop_front();
  }
  if (!samples_.empty()) {
    worker_->metrics().Record(samples_);
    samples_.clear();
  }
  Flush();
  if (read_paused_ && pending_.size() < kMaxPending / 2 &&
      !OutputOverPauseMark()) {
    ResumeInput();
  }
}

void Session::Flush() {
  if (closed_ || write_in_flight_) return;
  if (out_.empty()) {
    if (close_after_reply_ && pending_.empty()) Close();
    return;
  }
  writing_.swap(out_);
  out_.clear();
  write_in_flight_ = true;
  asio::async_write(
      socket_, asio::buffer(writing_),
      [self = shared_from_this()](const asio::error_code& ec, size_t) {
        self->OnWritten(ec);
      });
}

void Session::OnWritten(const asio::error_code& ec) {
  write_in_flight_ = false;
  output_bytes_ -= std::min<uint64_t>(output_bytes_, writing_.size());
  writing_.clear();
  if (writing_.capacity() > 1024 * 1024) std::string().swap(writing_);
  if (ec) {
    Close();
    return;
  }
  if (read_paused_ && pending_.size() < kMaxPending / 2 &&
      !OutputOverPauseMark()) {
    ResumeInput();
  }
  Flush();
}

void Session::Close() {
  if (closed_) return;
  closed_ = true;
  if (limit_timer_) limit_timer_->cancel();
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (entry_ == nullptr) return;
  proxy_->clients().Remove(id_);
  proxy_->counters().clients.fetch_sub(1, std::memory_order_relaxed);
  DropSubscriptions();
  for (auto* conn : {&tx_conn_, &block_conn_}) {
    if (*conn) {
      (*conn)->SetPushHandler(nullptr);
      (*conn)->Close();
      conn->reset();
    }
  }
}

// ---------------------------------------------------------------- queue

Session::PendingPtr Session::NewPending() {
  auto p = std::make_shared<Pending>();
  p->start_ns = read_ns_ != 0 ? read_ns_ : NowNs();
  p->command = kUnknownName;
  p->resp3 = resp3_;
  p->kind = dispatch_kind_;
  pending_.push_back(p);
  return p;
}

void Session::Finish(const PendingPtr& p, std::string_view reply) {
  if (p->resp3) {
    p->data = ToResp3(reply, p->kind, p->exec_kinds.get());
    reply = p->data;
  } else {
    p->data.assign(reply.data(), reply.size());
  }
  p->done = true;
  output_bytes_ += reply.size();
  if (CheckOutputLimit()) return;
  if (pending_.empty() || pending_.front() != p) return;  // not yet its turn
  // The last reply owed goes out at once (a client waiting for one reply
  // must not wait for the rest of the backend read). With more owed, they
  // most likely come in the same backend read: drain once after it, so they
  // leave in one write, not one per reply.
  if (pending_.back()->done) {
    Drain();
    return;
  }
  if (drain_posted_) return;
  drain_posted_ = true;
  asio::post(worker_->io(), [self = shared_from_this()] {
    self->drain_posted_ = false;
    self->Drain();
  });
}

void Session::Reply(std::string_view raw) {
  auto p = NewPending();
  Finish(p, raw);
}

void Session::ReplyError(std::string_view text) {
  Reply(routing::ErrorReply(text));
}

Session::Callback Session::PartCallback(
    const PendingPtr& p, size_t index,
    std::function<std::string(Pending&)> merge) {
  return [self = shared_from_this(), p, index,
          merge = std::move(merge)](std::string_view reply) {
    p->parts[index].assign(reply.data(), reply.size());
    if (--p->outstanding == 0) self->Finish(p, merge(*p));
  };
}

// ---------------------------------------------------------------- dispatch

void Session::Dispatch(std::vector<std::string>& args) {
  proxy_->counters().commands.fetch_add(1, std::memory_order_relaxed);
  std::string cmd = ToLower(args[0]);
  const CommandSpec* spec = FindCommandSpec(cmd);
  dispatch_kind_ =
      resp3_ || cmd == "hello" ? Resp3KindOf(args) : Resp3Kind::kPlain;
  if (spec != nullptr) {  // CLIENT LIST cmd= (the table's names end in NUL)
    entry_->last_command.store(spec->name.data(), std::memory_order_relaxed);
  }
  if (!worker_->online()) {
    ReplyError("ERR proxy is offline");
    close_after_reply_ = true;
    return;
  }
  if (cmd == "reset" && args.size() == 1) {  // any state, even unauthenticated
    Reset();
    return;
  }
  if (!authed_ && cmd != "auth" && cmd != "hello" && cmd != "quit") {
    ReplyError("NOAUTH Authentication required.");
    return;
  }
  if (in_pubsub_ && !resp3_) {  // RESP3 clients may run any command
    if (cmd == "subscribe" || cmd == "psubscribe" || cmd == "ssubscribe" ||
        cmd == "unsubscribe" || cmd == "punsubscribe" ||
        cmd == "sunsubscribe" || cmd == "ping") {
      PubSub(cmd, args);
    } else if (cmd == "quit") {
      HandleLocal(cmd, args);
    } else {
      ReplyError(absl::StrCat(
          "ERR Can't execute '", cmd,
          "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
          "are allowed in this context"));
    }
    return;
  }
  if (in_multi_ && cmd != "exec" && cmd != "discard" && cmd != "multi" &&
      cmd != "watch" && cmd != "quit") {
    QueueInMulti(spec, args);
    return;
  }
  if (HandleLocal(cmd, args)) return;
  if (absl::Status admit = Router::Admit(args, RouterFace::kProxy);
      !admit.ok()) {
    ReplyError(Msg(admit));
    return;
  }
  Forward(*spec, args);
}

void Session::Forward(const CommandSpec& spec, std::vector<std::string>& args) {
  absl::StatusOr<int> slot = KeysSlot(spec, args);
  if (!slot.ok()) {
    ReplyError(Msg(slot.status()));
    return;
  }
  if (spec.has(kCmdBlocking) && BlockTimeoutIndex(args) != 0) {
    Blocking(*slot, args);
    return;
  }
  if (spec.has(kCmdPubSub) && spec.first_key == 0) {
    *slot = -1;  // PUBLISH, PUBSUB: the designated group (SPUBLISH: its slot)
  }
  if ((spec.name.starts_with("eval") || spec.name.starts_with("fcall")) &&
      ForwardScript(spec, *slot, args)) {
    return;
  }
  // Shard channels live on their slots' groups: every group is asked.
  if (spec.name == "pubsub" && args.size() >= 2) {
    if (EqualsIgnoreCase(args[1], "shardchannels") && args.size() <= 3) {
      FanOut(args,
             [](Pending& p) { return routing::MergeDistinctArrays(p.parts); });
      return;
    }
    if (EqualsIgnoreCase(args[1], "shardnumsub")) {
      FanOut(args, [](Pending& p) { return routing::MergeNumsubMax(p.parts); });
      return;
    }
  }
  auto p = NewPending();
  p->command = spec.name;
  bool readonly = spec.has(kCmdReadOnly);
  SendSlot(
      *slot, args, readonly,
      [self = shared_from_this(), p](std::string_view reply) {
        self->Finish(p, reply);
      },
      raw_request_);
}

void Session::SendSlot(int slot, const std::vector<std::string>& args,
                       bool readonly, Callback cb, std::string_view encoded) {
  absl::StatusOr<Route> route = CurrentRoute(slot, readonly);
  if (route.ok() && Router::NextStep(*route, /*has_keys=*/true) ==
                        RouteStep::kSend) {  // the common case, kept direct
    BackendConnection& conn = worker_->Pooled(route->addr, id_);
    if (encoded.empty()) {
      conn.Send(net::EncodeCommand(args), std::move(cb));
    } else {
      conn.Send(encoded, std::move(cb));
    }
    return;
  }
  WithRoute(slot, readonly, Router::MoveKeys(args),
            [self = shared_from_this(), encoded = net::EncodeCommand(args),
             cb = std::move(cb)](absl::StatusOr<Route> ready) mutable {
              if (!ready.ok()) {
                cb(routing::ErrorReply(Msg(ready.status())));
                return;
              }
              self->worker_->Pooled(ready->addr, self->id_)
                  .Send(encoded, std::move(cb));
            });
}

absl::StatusOr<Route> Session::CurrentRoute(int slot, bool readonly) const {
  const auto& table = worker_->table();
  if (table == nullptr) {
    return absl::UnavailableError(Router::kNoTopologyError);
  }
  return Router::RouteSlot(
      *table, slot, readonly && proxy_->options().read_from_replicas, id_);
}

void Session::WithRoute(int slot, bool readonly, std::vector<std::string> keys,
                        RouteCallback then) {
  absl::StatusOr<Route> route = CurrentRoute(slot, readonly);
  if (!route.ok()) {
    then(std::move(route));
    return;
  }
  const RouteStep step = Router::NextStep(*route, !keys.empty());
  if (step == RouteStep::kHold) {
    // Hold until the topology change completes, then route again.
    proxy_->counters().held_requests.fetch_add(1, std::memory_order_relaxed);
    worker_->Hold([self = shared_from_this(), slot, readonly,
                   keys = std::move(keys),
                   then = std::move(then)](bool expired) mutable {
      if (expired) {
        then(absl::UnavailableError(Router::kHoldTimeoutError));
        return;
      }
      self->WithRoute(slot, readonly, std::move(keys), std::move(then));
    });
    return;
  }
  if (step == RouteStep::kSend) {
    then(std::move(route));
    return;
  }
  PreMove(*std::move(route), keys, std::move(then));
}

void Session::PreMove(Route route, const std::vector<std::string>& keys,
                      RouteCallback then) {
  BackendConnection& from = worker_->Pooled(route.migrate_from_addr, id_);
  // The moves are pipelined on one connection, so the last reply is the
  // last to arrive; the first failure (any key) fails the command.
  auto failure = std::make_shared<std::string>();
  auto note = [failure](std::string_view reply) {
    if (failure->empty() && IsError(reply)) {
      reply.remove_prefix(1);
      if (reply.ends_with("\r\n")) reply.remove_suffix(2);
      failure->assign(reply.empty() ? Router::kKeyMoveFailedError : reply);
    }
  };
  // The server may take its own 3000 ms for a move: the proxy's timeout
  // comes on top.
  std::chrono::milliseconds timeout{0};
  if (proxy_->options().backend_timeout > absl::ZeroDuration()) {
    timeout = absl::ToChronoMilliseconds(proxy_->options().backend_timeout) +
              std::chrono::seconds(3);
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    std::string mig =
        net::EncodeCommand(Router::PreMoveCommand(route, keys[i]));
    if (i + 1 < keys.size()) {
      from.Send(mig, note, timeout);
      continue;
    }
    from.Send(
        mig,
        [note, failure, route = std::move(route),
         then = std::move(then)](std::string_view reply) mutable {
          note(reply);
          if (failure->empty()) {
            then(std::move(route));
          } else {
            then(absl::UnavailableError(*failure));
          }
        },
        timeout);
  }
}

bool Session::HandleLocal(const std::string& cmd,
                          std::vector<std::string>& args) {
  // Most commands are forwarded as they are: one set lookup spares them the
  // chain of comparisons below (it was ~20% of the proxy's instructions).
  static const auto* const kLocal = new absl::flat_hash_set<std::string>{
      "asking",      "cluster",   "readonly", "readwrite",  "auth",
      "config",      "client",    "command",  "dbsize",     "del",
      "discard",     "echo",      "exec",     "exists",     "flushall",
      "flushdb",     "hello",     "info",     "keys",       "mget",
      "mset",        "multi",     "ping",     "psubscribe", "punsubscribe",
      "quit",        "randomkey", "role",     "scan",       "select",
      "subscribe",   "script",    "function", "touch",      "unlink",
      "unsubscribe", "unwatch",   "watch",    "ssubscribe", "sunsubscribe"};
  if (!kLocal->contains(cmd)) return false;
  size_t n = args.size();
  if (cmd == "ping") {
    if (n > 2) return false;  // arity error from the table
    Reply(n == 1 ? std::string("+PONG\r\n") : routing::BulkReply(args[1]));
  } else if (cmd == "echo") {
    if (n != 2) return false;
    Reply(routing::BulkReply(args[1]));
  } else if (cmd == "quit") {
    Reply("+OK\r\n");
    close_after_reply_ = true;
  } else if (cmd == "auth") {
    Auth(args);
  } else if (cmd == "hello") {
    Hello(args);
  } else if (cmd == "select") {
    if (n != 2) return false;
    if (args[1] == "0") {
      Reply("+OK\r\n");
    } else {
      int64_t db = 0;
      ReplyError(absl::SimpleAtoi(args[1], &db)
                     ? "ERR DB index is out of range"
                     : "ERR value is not an integer or out of range");
    }
  } else if (cmd == "command") {
    CommandCmd(args);
  } else if (cmd == "client") {
    ClientCmd(args);
  } else if (cmd == "cluster") {
    ClusterCmd(args);
  } else if (cmd == "config") {
    ConfigCmd(args);
  } else if (cmd == "role" && n == 1) {
    Reply("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");  // a master to clients
  } else if (cmd == "readonly" || cmd == "readwrite" || cmd == "asking") {
    // Cluster clients' connection modes: every proxy serves every key
    // (reads go to replicas only with --read-from-replicas).
    if (n != 1) {
      ReplyError(WrongArityError(cmd));
    } else {
      Reply("+OK\r\n");
    }
  } else if (cmd == "info") {
    Info(args);
  } else if (Router::SplitMergeOf(cmd) != SplitMerge::kNone) {
    Split(args);
  } else if (cmd == "dbsize" && n == 1) {
    FanOut(args, [](Pending& p) { return routing::MergeSum(p.parts); });
  } else if (cmd == "keys" && n == 2) {
    FanOut(args, [](Pending& p) { return routing::MergeArrays(p.parts); });
  } else if ((cmd == "flushdb" || cmd == "flushall") && n <= 2) {
    FanOut(args, [](Pending& p) { return routing::MergeOk(p.parts); });
  } else if (cmd == "script" && n >= 2 &&
             (EqualsIgnoreCase(args[1], "load") ||
              EqualsIgnoreCase(args[1], "flush"))) {
    // Scripts are per server: every group must have them for EVALSHA on
    // any key. The proxy remembers them for groups that come later.
    if (n == 3 && EqualsIgnoreCase(args[1], "load")) {
      proxy_->scripts().Remember(args[2]);
    } else if (EqualsIgnoreCase(args[1], "flush")) {
      proxy_->scripts().Clear();
    }
    FanOut(args, [](Pending& p) { return routing::MergeSame(p.parts); });
  } else if (cmd == "script" && n >= 3 && EqualsIgnoreCase(args[1], "exists")) {
    FanOut(args, [](Pending& p) { return routing::MergeMinIntegers(p.parts); });
  } else if (cmd == "function" && n >= 2 &&
             (EqualsIgnoreCase(args[1], "load") ||
              EqualsIgnoreCase(args[1], "delete") ||
              EqualsIgnoreCase(args[1], "flush") ||
              EqualsIgnoreCase(args[1], "restore"))) {
    FunctionFanOut(args);
  } else if (cmd == "randomkey" && n == 1) {
    RandomKey();
  } else if (cmd == "scan" && n >= 2) {
    Scan(args);
  } else if (cmd == "multi" && n == 1) {
    if (in_multi_) {
      ReplyError("ERR MULTI calls can not be nested");
    } else {
      in_multi_ = true;
      multi_dirty_ = false;
      multi_queue_.clear();
      multi_kinds_.clear();
      Reply("+OK\r\n");
    }
  } else if (cmd == "exec" && n == 1) {
    Exec();
  } else if (cmd == "discard" && n == 1) {
    Discard();
  } else if (cmd == "watch" && n >= 2) {
    Watch(args);
  } else if (cmd == "unwatch" && n == 1) {
    Unwatch();
    if (!in_multi_) tx_slots_.clear();
    Reply("+OK\r\n");
  } else if (cmd == "subscribe" || cmd == "psubscribe" || cmd == "ssubscribe" ||
             cmd == "unsubscribe" || cmd == "punsubscribe" ||
             cmd == "sunsubscribe") {
    PubSub(cmd, args);
  } else {
    return false;
  }
  return true;
}

void Session::Auth(std::vector<std::string>& args) {
  const std::string& pass = proxy_->options().requirepass;
  if (args.size() < 2 || args.size() > 3) {
    ReplyError(WrongArityError("auth"));
    return;
  }
  if (pass.empty()) {
    ReplyError(
        "ERR AUTH <password> called without any password configured for the "
        "default user. Are you sure your configuration is correct?");
    return;
  }
  bool user_ok = args.size() == 2 || args[1] == "default";
  if (user_ok && net::PasswordMatches(args.back(), pass)) {
    authed_ = true;
    auth_failures_ = 0;
    Reply("+OK\r\n");
  } else {
    FailAuth();
  }
}

void Session::FailAuth() {
  const int64_t delay_ms = proxy_->auth_failures().Record(
      entry_ ? entry_->peer : std::string(), ++auth_failures_);
  if (delay_ms == 0) {
    ReplyError(net::kWrongPassError);
    return;
  }
  PendingPtr p = NewPending();
  auth_waiting_ = true;
  if (!auth_timer_) {
    auth_timer_ = std::make_unique<asio::steady_timer>(worker_->io());
  }
  auth_timer_->expires_after(std::chrono::milliseconds(delay_ms));
  auth_timer_->async_wait(
      [self = shared_from_this(), p](const asio::error_code& ec) {
        if (self->closed_) return;
        self->auth_waiting_ = false;
        self->Finish(p, routing::ErrorReply(net::kWrongPassError));
        self->ResumeInput();
      });
}

void Session::Hello(std::vector<std::string>& args) {
  size_t i = 1;
  int new_proto = resp3_ ? 3 : 2;
  if (args.size() > 1) {
    int64_t proto = 0;
    if (!absl::SimpleAtoi(args[1], &proto)) {
      ReplyError("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (proto != 2 && proto != 3) {
      ReplyError("NOPROTO unsupported protocol version");
      return;
    }
    new_proto = static_cast<int>(proto);
    i = 2;
  }
  std::string setname;
  for (; i < args.size(); ++i) {
    std::string opt = ToLower(args[i]);
    if (opt == "auth" && i + 2 < args.size()) {
      const std::string& pass = proxy_->options().requirepass;
      if (pass.empty() || args[i + 1] != "default" ||
          !net::PasswordMatches(args[i + 2], pass)) {
        FailAuth();
        return;
      }
      authed_ = true;
      auth_failures_ = 0;
      i += 2;
    } else if (opt == "setname" && i + 1 < args.size()) {
      setname = args[++i];
    } else {
      ReplyError(
          absl::StrCat("ERR Syntax error in HELLO option '", args[i], "'"));
      return;
    }
  }
  if (!authed_) {
    ReplyError(
        "NOAUTH HELLO must be called with the client already authenticated, "
        "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
        "authenticate the client and select the RESP protocol version at the "
        "same time");
    return;
  }
  if (!setname.empty()) {
    name_ = setname;
    entry_->set_name(setname);
  }
  // Replies are RESP3 from this one on (converted from the backends' RESP2,
  // resp3.h); the map is made a map by that conversion.
  resp3_ = new_proto == 3;
  entry_->protocol.store(new_proto, std::memory_order_relaxed);
  Reply(absl::StrCat(
      "*14\r\n", routing::BulkReply("server"), routing::BulkReply("redis"),
      routing::BulkReply("version"),
      routing::BulkReply(kRedisCompatibleVersion), routing::BulkReply("proto"),
      ":", new_proto, "\r\n", routing::BulkReply("id"), ":", id_, "\r\n",
      routing::BulkReply("mode"), routing::BulkReply("standalone"),
      routing::BulkReply("role"), routing::BulkReply("master"),
      routing::BulkReply("modules"), "*0\r\n"));
}

void Session::CommandCmd(std::vector<std::string>& args) {
  auto info = [](const CommandSpec& s) {
    std::string out =
        absl::StrCat("*6\r\n", routing::BulkReply(std::string(s.name)), ":",
                     s.arity, "\r\n");
    auto flags = FlagNames(s.flags);
    absl::StrAppend(&out, "*", flags.size(), "\r\n");
    for (auto f : flags) absl::StrAppend(&out, "+", std::string(f), "\r\n");
    absl::StrAppend(&out, ":", s.first_key, "\r\n:", s.last_key,
                    "\r\n:", s.key_step, "\r\n");
    return out;
  };
  auto specs = AllCommandSpecs();
  std::string sub = args.size() > 1 ? ToLower(args[1]) : "";
  if (sub.empty() || (sub == "info" && args.size() == 2)) {
    std::string out = absl::StrCat("*", specs.size(), "\r\n");
    for (const auto& s : specs) out += info(s);
    Reply(out);
  } else if (sub == "count") {
    if (args.size() != 2) {
      ReplyError(WrongArityError("command|count"));
      return;
    }
    Reply(absl::StrCat(":", specs.size(), "\r\n"));
  } else if (sub == "list") {
    std::string out = absl::StrCat("*", specs.size(), "\r\n");
    for (const auto& s : specs) out += routing::BulkReply(std::string(s.name));
    Reply(out);
  } else if (sub == "info") {
    std::string out = absl::StrCat("*", args.size() - 2, "\r\n");
    for (size_t i = 2; i < args.size(); ++i) {
      const CommandSpec* s = FindCommandSpec(args[i]);
      out += s ? info(*s) : std::string("$-1\r\n");
    }
    Reply(out);
  } else if (sub == "docs") {
    Reply("*0\r\n");
  } else if (sub == "getkeys" && args.size() >= 3) {
    std::vector<std::string> cmd(args.begin() + 2, args.end());
    const CommandSpec* s = FindCommandSpec(cmd[0]);
    if (s == nullptr) {
      ReplyError("ERR Invalid command specified");
      return;
    }
    auto keys = Router::Keys(cmd);
    if (keys.empty()) {
      ReplyError("ERR The command has no key arguments");
      return;
    }
    std::string out = absl::StrCat("*", keys.size(), "\r\n");
    for (const auto& k : keys) out += routing::BulkReply(k);
    Reply(out);
  } else {
    ReplyError(UnknownSubcommandError("command", args[1]));
  }
}

}  // namespace reborn::proxy
