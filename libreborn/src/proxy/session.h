#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "asio.hpp"
#include "command/command_spec.h"
#include "net/client_registry.h"
#include "proxy/backend_conn.h"
#include "proxy/proxy_impl.h"
#include "proxy/pubsub_links.h"
#include "proxy/resp3.h"
#include "reborn/router.h"
#include "resp/request_parser.h"
#include "routing/cluster_scan.h"
#include "routing/merge.h"

namespace reborn::proxy {

// One client connection of the proxy, pinned to one Worker thread: every
// member is touched only from that thread, so nothing is locked. Commands
// are parsed as they arrive and dispatched at once (to backends, or answered
// here); each gets a Pending entry in arrival order, completed whenever its
// reply (or all the parts of a split command) comes back, and the completed
// prefix of the queue is written to the client — so replies leave in order
// while backends work in parallel.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Worker* worker, asio::ip::tcp::socket socket);
  ~Session();

  void Start(std::shared_ptr<net::ClientEntry> entry);
  void RejectMaxClients();
  // Stops reading and closes once pending replies are written.
  void Shutdown();

 private:
  struct Pending {
    std::string data;
    bool done = false;
    std::string_view command;  // static name for metrics
    int64_t start_ns = 0;
    int outstanding = 0;
    std::vector<std::string> parts;
    // RESP3 sessions: the reply is converted (resp3.h) on Finish.
    bool resp3 = false;
    Resp3Kind kind = Resp3Kind::kPlain;
    std::shared_ptr<const std::vector<Resp3Kind>> exec_kinds;
  };
  using PendingPtr = std::shared_ptr<Pending>;
  using Callback = BackendConnection::Callback;

  // I/O.
  void ReadMore();
  void OnRead(const asio::error_code& ec, size_t n);
  // Parses and dispatches what query_ holds, while the output allows.
  void ProcessInput();
  // Output fell below the soft limit: go on with what query_ holds (posted,
  // as the caller may be inside ProcessInput's dispatch).
  void ResumeInput();
  void Drain();
  void Flush();
  void OnWritten(const asio::error_code& ec);
  void Close();

  // Limits (see ProxyOptions). Both log and close the client when it is
  // over; true then.
  bool CheckOutputLimit();
  bool CheckQueryLimit();
  // Replies owed are above the soft limit: requests are not read.
  bool OutputOverPauseMark() const;
  void WatchSoftLimit();
  const ProxyOptions::OutputLimit& OutputLimitClass() const;

  // Queue.
  PendingPtr NewPending();
  void Finish(const PendingPtr& p, std::string_view reply);
  void Reply(std::string_view raw);
  void ReplyError(std::string_view text);
  // A callback completing part `index` of `p`; when every part is in,
  // `merge` builds the reply.
  Callback PartCallback(const PendingPtr& p, size_t index,
                        std::function<std::string(Pending&)> merge);

  // Dispatch.
  void Dispatch(std::vector<std::string>& args);
  // Blocking commands (see Parked).
  void SendBlocking(int slot, std::vector<std::string> args,
                    const PendingPtr& p,
                    std::chrono::steady_clock::time_point deadline);
  void OnBlockingReply(uint64_t generation, std::string_view reply);
  void MoveParked();
  void SendUnblock(uint64_t generation, int attempts_left);
  void RetryUnblockLater(uint64_t generation, int attempts_left);
  bool HandleLocal(const std::string& cmd, std::vector<std::string>& args);
  void Forward(const CommandSpec& spec, std::vector<std::string>& args);
  // Routes `args` (all keys in `slot`, -1 = keyless) on the current table
  // and sends them, handling slots in pre_migrate (held) and migrate (the
  // keys are moved to the target first). `cb` gets the reply. `encoded`,
  // when given, is `args` in RESP as the client sent it.
  void SendSlot(int slot, const std::vector<std::string>& args, bool readonly,
                Callback cb, std::string_view encoded = {});
  using RouteCallback = std::function<void(absl::StatusOr<Route>)>;
  absl::StatusOr<Route> CurrentRoute(int slot, bool readonly) const;
  // Calls `then` with the route of `slot` once it can take the command:
  // after the hold of a slot in pre_migrate, and for a migrating slot after
  // `keys` (with their tag groups) moved from the source to the target.
  void WithRoute(int slot, bool readonly, std::vector<std::string> keys,
                 RouteCallback then);
  void PreMove(Route route, const std::vector<std::string>& keys,
               RouteCallback then);

  // Multi-key split (MGET MSET DEL UNLINK EXISTS TOUCH) and fan-out.
  void Split(std::vector<std::string>& args);
  void FanOut(std::vector<std::string> args,
              std::function<std::string(Pending&)> merge);
  // SCAN (routing::ClusterScan): at most kMaxScanSteps backend calls per
  // client call, enough to pass every slot's source and target once.
  void Scan(std::vector<std::string>& args);
  static constexpr int kMaxScanSteps = routing::ClusterScan::kMaxSteps;
  void ScanStep(const PendingPtr& p,
                std::shared_ptr<routing::ClusterScan> scan);
  void RandomKey();
  void RandomKeyStep(const PendingPtr& p,
                     std::shared_ptr<std::vector<int>> groups, size_t next);
  void Info(std::vector<std::string>& args);

  // Local commands.
  void Hello(std::vector<std::string>& args);
  void Auth(std::vector<std::string>& args);
  // A wrong password: counted and logged, and after a few on this
  // connection its reply waits (net::AuthFailures) while nothing more of
  // the client is parsed, so pipelined guesses wait in turn.
  void FailAuth();
  void CommandCmd(std::vector<std::string>& args);

  // The Redis Cluster face (session_cluster.cc, cluster_face.h).
  void ClusterCmd(std::vector<std::string>& args);
  struct SlotScan {
    int slot = 0;
    int64_t max_keys = -1;  // -1: count only
    size_t group_index = 0;
    uint64_t cursor = 0;
    int64_t count = 0;
    std::vector<std::string> keys;
  };
  void SlotScanStep(const PendingPtr& p, std::shared_ptr<SlotScan> scan);
  // This proxy's client address as other clients reach it.
  std::string SelfAddr() const;
  // A reply already encoded for the client's protocol.
  void ReplyEncoded(std::string_view reply);
  void ClientCmd(std::vector<std::string>& args);
  // CONFIG GET of the proxy's own settings (session_config.cc).
  void ConfigCmd(std::vector<std::string>& args);

  // Transactions: WATCH/MULTI/EXEC pinned to the slot of their keys.
  void Watch(std::vector<std::string>& args);
  void QueueInMulti(const CommandSpec* spec, std::vector<std::string>& args);
  void Exec();
  // Whether `slot` may join the transaction: its group (after any
  // migration) is the one of the slots it has; CROSSSLOT's text if not.
  std::string TxSlotError(int slot) const;
  void AddTxSlot(int slot);
  // Adds a command's slot, or its keys' slots, to the transaction; the
  // error to reply when they cannot join it.
  std::string JoinTx(const absl::StatusOr<int>& slot,
                     const std::vector<std::string>& keys);
  // Routes the transaction's slots one by one (held while a slot is in
  // pre_migrate, keys moved while one migrates); all must end on one server.
  void RouteTxSlots(std::shared_ptr<std::vector<int>> slots, size_t next,
                    std::shared_ptr<std::vector<std::string>> keys,
                    std::string addr, RouteCallback then);
  void Discard();
  void Unwatch();
  void ResetTransaction();
  // Points tx_conn_ at `addr`; watches on another server are lost by that.
  void UseTxConnection(const std::string& addr);
  // RESET: the connection's state as new (transaction, subscriptions, auth,
  // name).
  void Reset();

  // Pub/Sub (session_pubsub.cc): the subscriptions live in pubsub_, the
  // proxy answers (un)subscribe itself once the backends confirmed.
  void PubSub(const std::string& cmd, std::vector<std::string>& args);
  void Push(std::string_view reply);
  void UpdatePubSubState();
  void DropSubscriptions();

  // EVAL/EVAL_RO bodies are remembered; EVALSHA/EVALSHA_RO that meet
  // NOSCRIPT load the script there and run again (session_scripts.cc).
  // True when it sent the command.
  bool ForwardScript(const CommandSpec& spec, int slot,
                     std::vector<std::string>& args);
  // FUNCTION LOAD/DELETE/FLUSH/RESTORE to every group; the libraries loaded
  // are remembered for FCALL on a group that lacks them.
  void FunctionFanOut(std::vector<std::string>& args);
  // FCALL/FCALL_RO: "Function not found" loads the remembered libraries the
  // group lacks and calls again.
  void ForwardFcall(const CommandSpec& spec, int slot,
                    std::vector<std::string>& args);

  // Blocking commands on a dedicated connection.
  void Blocking(int slot, std::vector<std::string>& args);

  Worker* worker_;
  ProxyImpl* proxy_;
  asio::ip::tcp::socket socket_;
  std::shared_ptr<net::ClientEntry> entry_;
  resp::RequestParser parser_;
  std::vector<std::string> args_;
  // The command being dispatched as the client sent it (a view into
  // query_), when it came whole in multibulk form; empty otherwise.
  std::string_view raw_request_;
  std::array<char, 16 * 1024> read_buf_;
  std::string query_;
  // The multibulk command the parser is in the middle of: its argument
  // count and the bytes it consumed so far (the parser holds them).
  int64_t partial_args_ = 0;
  uint64_t partial_bytes_ = 0;
  // Reply bytes held for the client: completed replies waiting for their
  // turn, out_ and writing_ (what client-output-buffer-limit limits).
  uint64_t output_bytes_ = 0;
  int64_t soft_limit_since_ns_ = 0;  // 0: not above the soft limit
  std::unique_ptr<asio::steady_timer> limit_timer_;
  std::string out_;
  std::string writing_;
  std::deque<PendingPtr> pending_;
  int64_t read_ns_ = 0;  // while OnRead dispatches: when the bytes arrived
  std::vector<WorkerMetrics::Sample> samples_;  // Drain's scratch
  bool read_in_flight_ = false;
  bool write_in_flight_ = false;
  bool drain_posted_ = false;
  bool read_paused_ = false;
  bool processing_ = false;  // inside ProcessInput
  bool resume_posted_ = false;
  bool close_after_reply_ = false;
  int auth_failures_ = 0;      // failed AUTHs in a row
  bool auth_waiting_ = false;  // a failed AUTH's reply is being held back
  std::unique_ptr<asio::steady_timer> auth_timer_;
  bool closed_ = false;
  bool authed_ = false;
  bool resp3_ = false;  // HELLO 3
  // A backend had no SLOTSSCAN: new SCAN iterations go by group.
  bool scan_by_group_ = false;
  // The RESP3 kind of the command being dispatched (when resp3_).
  Resp3Kind dispatch_kind_ = Resp3Kind::kPlain;
  uint64_t id_ = 0;
  std::string name_;

  // Transaction state.
  bool in_multi_ = false;
  bool multi_dirty_ = false;
  bool watching_ = false;
  // The transaction's slots (WATCH and queued commands), first one first:
  // they may differ while they live on one group (TxSlotFits).
  std::vector<int> tx_slots_;
  std::vector<std::string> multi_queue_;  // encoded commands
  std::vector<std::string> multi_keys_;   // their keys, for a migrating slot
  std::vector<Resp3Kind> multi_kinds_;    // their reply kinds (RESP3)
  bool tx_watched_ = false;               // tx_conn_ holds WATCHes
  bool watch_broken_ = false;  // watched keys' server changed: EXEC fails
  std::shared_ptr<BackendConnection> tx_conn_;
  std::shared_ptr<BackendConnection> block_conn_;
  int64_t block_conn_id_ = -1;  // its CLIENT ID at the server
  // The blocking command parked at a server. When a topology change takes
  // its slot away from that server (a migration starts), MoveParked()
  // unblocks it there with CLIENT UNBLOCK ... ERROR and sends it again
  // where the slot goes, with what is left of its timeout: a push to the
  // new owner then wakes it. An element the old server popped first is
  // delivered as usual (the UNBLOCK finds nothing to end).
  struct Parked {
    uint64_t generation = 0;  // 0: nothing parked
    int slot = -1;
    std::vector<std::string> args;
    PendingPtr p;
    std::string addr;
    std::chrono::steady_clock::time_point deadline;  // max(): none
    bool unblocking = false;
  };
  Parked parked_;
  uint64_t parked_generation_ = 0;
  bool watching_table_ = false;
  std::unique_ptr<asio::steady_timer> unblock_retry_;
  std::shared_ptr<PubSubLinks> pubsub_;
  bool watching_pubsub_table_ = false;
  bool in_pubsub_ = false;
};

}  // namespace reborn::proxy
