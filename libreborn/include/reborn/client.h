#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/export.h"
#include "reborn/reply.h"
#include "reborn/set_options.h"
#include "reborn/slot_table.h"

namespace reborn {

struct REBORN_EXPORT ClientOptions {
  // Read-only commands go to a replica of the slot's group when it has one.
  bool read_from_replicas = false;
  std::string password;  // AUTH sent to every server
  absl::Duration timeout = absl::Seconds(5);
  // Idle connections kept per server.
  size_t max_idle_connections = 8;
  // How long a command for a slot in pre_migrate waits for the change.
  absl::Duration hold_timeout = absl::Seconds(5);
  // With a coordinator URI: take part in topology changes like a proxy
  // (docs/design.md §5) — register an ephemeral /reborn/P/proxies/<id> node
  // ({"kind":"client", no addr}) and ack every action once the table that
  // follows it is in use, so a slot migration waits for this Client before
  // moving keys. Without it a Client may write to a slot's old group after
  // the move started (a lost write). A coordinator that refuses the node
  // (read-only, e.g. file://) is used without it.
  bool ack_topology_changes = true;
  // The node's id; empty: "client-<host>-<pid>-<unix ns>".
  std::string participant_id;

  // ExecuteAsync: how many dispatcher threads send queued commands (started
  // on the first ExecuteAsync). Commands on one slot always go through the
  // same dispatcher, so two commands submitted one after the other on the
  // same key run in that order.
  size_t async_dispatchers = 2;
  // Commands a dispatcher pipelines in one round (grouped per server).
  size_t async_max_batch = 512;
  // Commands queued and not yet answered; beyond it ExecuteAsync completes
  // at once with ResourceExhausted instead of growing without bound.
  size_t async_max_pending = 100000;
  // Where completion callbacks run. Empty: on the dispatcher thread that
  // received the reply (callbacks must then be short and must not block;
  // they may submit more commands).
  std::function<void(std::function<void()>)> callback_executor;
};

// Status codes of the typed calls when the server answers an error:
//   WRONGTYPE                         FailedPrecondition
//   CROSSSLOT, syntax/argument errors InvalidArgument
//   TRYAGAIN, CLUSTERDOWN, LOADING,
//   MASTERDOWN, unavailable backends  Unavailable
//   NOPERM, NOAUTH                    PermissionDenied
//   OOM                               ResourceExhausted
//   anything else                     Unknown
// The message is the server's error text (e.g. "WRONGTYPE Operation ...").
REBORN_EXPORT absl::Status StatusFromErrorReply(const Reply& error);

// An in-process sharded client: the proxy's routing (the same Router and
// SlotTable, split/merge of MGET MSET DEL UNLINK EXISTS TOUCH, CROSSSLOT for
// the rest, migration handling) without the proxy hop — it talks RESP
// straight to the group masters (or replicas for reads when asked).
//
// Three ways to call it:
//  - Execute/ExecuteBatch: generic and blocking (a pooled connection per
//    call, so calls on different servers run in parallel);
//  - the typed calls (Get, Set, HSet, ZAdd, ...): blocking, with C++ types
//    in and out; an error reply becomes a Status (StatusFromErrorReply);
//  - ExecuteAsync/ExecuteFuture: for services that cannot park a thread per
//    request. Queued commands are pipelined by a few dispatcher threads
//    (ClientOptions::async_*), grouped per server.
//
// Thread-safe: any number of threads may use any of them at once. The
// destructor answers every queued async command before it returns.
class REBORN_EXPORT Client {
 public:
  virtual ~Client() = default;

  // Topology from a coordinator: "zk://...", "etcd://...", "memory://"
  // (product = the /reborn/<product> tree), or a static list of masters
  // "static://host:port,host:port" (slots split evenly; product ignored).
  static absl::StatusOr<std::unique_ptr<Client>> Open(
      const std::string& uri, const std::string& product,
      ClientOptions options = {});
  // Topology from any source (which must outlive the client).
  static absl::StatusOr<std::unique_ptr<Client>> Open(
      std::shared_ptr<SlotTableSource> source, ClientOptions options = {});

  // Runs one command. An error reply is a Reply of type kError (including
  // CROSSSLOT and unavailable groups); a failed status means bad input
  // (empty args).
  virtual absl::StatusOr<Reply> Execute(
      const std::vector<std::string>& args) = 0;

  // Runs several commands, pipelined per server; replies in order.
  virtual absl::StatusOr<std::vector<Reply>> ExecuteBatch(
      const std::vector<std::vector<std::string>>& commands) = 0;

  // Runs `commands` as one MULTI/EXEC transaction, atomically, on the group
  // their keys live on. The keys may span slots as long as those slots live
  // on one group (as through reborn-proxy); keys on two groups answer
  // CROSSSLOT and nothing runs. A migrating slot's keys are moved to the
  // target first. The reply is EXEC's: an array with one reply per command
  // (a command that fails at run time has its error there), or an EXECABORT
  // error when a command was refused while queued. WATCH is not offered
  // (the reads would need the connection between calls): use a Lua script
  // (EVAL) for read-modify-write. A failed status means bad input (no
  // commands, an empty one, or MULTI/EXEC/WATCH/DISCARD among them).
  virtual absl::StatusOr<Reply> ExecuteTransaction(
      const std::vector<std::vector<std::string>>& commands) = 0;

  using Callback = std::function<void(absl::StatusOr<Reply>)>;
  // Queues one command; `done` runs exactly once with its reply (an error
  // reply is a Reply of type kError, as for Execute), on
  // ClientOptions::callback_executor if set. Empty args complete with
  // InvalidArgument, a full queue with ResourceExhausted.
  virtual void ExecuteAsync(std::vector<std::string> args, Callback done) = 0;
  std::future<absl::StatusOr<Reply>> ExecuteFuture(
      std::vector<std::string> args);

  // --- Typed calls (client/typed_commands.cc). Keys and values are binary
  // safe. A missing key is std::nullopt where Redis answers nil.

  // Strings and keys.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key);
  // False when the NX/XX condition kept the value from being set.
  absl::StatusOr<bool> Set(std::string_view key, std::string_view value,
                           const SetOptions& options = {});
  absl::StatusOr<std::vector<std::optional<std::string>>> MGet(
      const std::vector<std::string>& keys);
  absl::Status MSet(
      const std::vector<std::pair<std::string, std::string>>& pairs);
  absl::StatusOr<int64_t> IncrBy(std::string_view key, int64_t by = 1);
  absl::StatusOr<int64_t> Del(const std::vector<std::string>& keys);
  absl::StatusOr<int64_t> Exists(const std::vector<std::string>& keys);
  // False when the key does not exist.
  absl::StatusOr<bool> Expire(std::string_view key, absl::Duration ttl);
  // The time left; std::nullopt for a key without expiry; NotFound when the
  // key does not exist.
  absl::StatusOr<std::optional<absl::Duration>> Ttl(std::string_view key);

  // Hashes.
  absl::StatusOr<int64_t> HSet(
      std::string_view key,
      const std::vector<std::pair<std::string, std::string>>& fields);
  absl::StatusOr<std::optional<std::string>> HGet(std::string_view key,
                                                  std::string_view field);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> HGetAll(
      std::string_view key);
  absl::StatusOr<int64_t> HDel(std::string_view key,
                               const std::vector<std::string>& fields);

  // Lists.
  absl::StatusOr<int64_t> LPush(std::string_view key,
                                const std::vector<std::string>& values);
  absl::StatusOr<int64_t> RPush(std::string_view key,
                                const std::vector<std::string>& values);
  absl::StatusOr<std::optional<std::string>> LPop(std::string_view key);
  absl::StatusOr<std::optional<std::string>> RPop(std::string_view key);
  absl::StatusOr<std::vector<std::string>> LRange(std::string_view key,
                                                  int64_t start, int64_t stop);

  // Sets.
  absl::StatusOr<int64_t> SAdd(std::string_view key,
                               const std::vector<std::string>& members);
  absl::StatusOr<int64_t> SRem(std::string_view key,
                               const std::vector<std::string>& members);
  absl::StatusOr<bool> SIsMember(std::string_view key, std::string_view member);
  absl::StatusOr<std::vector<std::string>> SMembers(std::string_view key);

  // Sorted sets: (member, score) pairs.
  absl::StatusOr<int64_t> ZAdd(
      std::string_view key,
      const std::vector<std::pair<std::string, double>>& members);
  absl::StatusOr<std::optional<double>> ZScore(std::string_view key,
                                               std::string_view member);
  absl::StatusOr<double> ZIncrBy(std::string_view key, double by,
                                 std::string_view member);
  absl::StatusOr<int64_t> ZRem(std::string_view key,
                               const std::vector<std::string>& members);
  absl::StatusOr<std::vector<std::pair<std::string, double>>> ZRangeWithScores(
      std::string_view key, int64_t start, int64_t stop);

  // Scripts: EVALSHA, falling back to EVAL (which loads it) on NOSCRIPT.
  absl::StatusOr<Reply> Eval(std::string_view script,
                             const std::vector<std::string>& keys,
                             const std::vector<std::string>& args);

 private:
  // Execute() with an error reply turned into a Status.
  absl::StatusOr<Reply> Call(std::vector<std::string> args);
};

}  // namespace reborn
