#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reborn {

// MULTI/WATCH state, defined by the server that implements transactions.
struct TransactionState;
// Pub/Sub subscriptions, defined by the server that implements Pub/Sub.
struct PubSubState;
class DeferredReply;
class PushChannel;
namespace server {
class AclUser;
}

// Per-connection state that command handlers may read and change. Owned by
// the connection; touched only on the connection's thread.
struct Session {
  uint64_t id = 0;
  int db = 0;        // SELECTed database, 0..15
  int protocol = 2;  // RESP version, switched by HELLO
  bool authenticated = true;
  // ACL: the user this connection is authenticated as, and the snapshot of
  // it commands are checked against, refreshed when the ACL generation
  // moves past `acl_generation` (server/acl.h).
  std::string user = "default";
  std::shared_ptr<const server::AclUser> acl_user;
  uint64_t acl_generation = 0;
  // The session a script's commands run on (Redis' Lua client): logs show
  // it as Redis does, with no address ("?:0") and no name.
  bool script = false;
  // INFO errorstats: error replies this connection's commands produced
  // (Run counts them; what is refused before running is counted by Handle),
  // and a script error already counted with the call that raised it.
  uint64_t error_replies = 0;
  bool error_counted = false;
  int auth_failures = 0;  // failed AUTHs in a row on this connection
  std::string name;       // CLIENT SETNAME
  std::string peer;       // "ip:port"
  std::string local;      // "ip:port"
  int64_t created_ms = 0;
  int64_t last_active_ms = 0;
  // Name of the last command run (a spec table literal), for CLIENT LIST.
  const char* last_command = "NULL";
  // Set by a handler (QUIT, a protocol error) to close the connection after
  // its reply is written.
  bool close_after_reply = false;
  // CLIENT REPLY: OFF drops every reply, SKIP the next command's; the
  // connection sets reply_skip while it runs the command to be skipped.
  bool reply_off = false;
  bool reply_skip_next = false;
  bool reply_skip = false;
  // Set by a command whose output is pushes only ((un)subscribe
  // confirmations): CLIENT REPLY OFF/SKIP does not drop it, as in Redis.
  bool reply_is_push = false;
  // Set by a blocking command that has to wait (see deferred_reply.h); the
  // connection takes it over.
  std::shared_ptr<DeferredReply> deferred;
  // Set by a command that turns the connection into a stream other threads
  // write to (PSYNC); the connection attaches it after the command.
  std::shared_ptr<PushChannel> push;
  // Pub/Sub: the subscriptions (null until the first SUBSCRIBE), their
  // counts (subscribed mode, CLIENT LIST, the pubsub output-limit class) and
  // the channel other threads push messages onto; the connection attaches
  // it after the command and keeps reading the client's commands.
  std::shared_ptr<PubSubState> pubsub;
  int sub_channels = 0;
  int sub_patterns = 0;
  int sub_shard_channels = 0;
  std::shared_ptr<PushChannel> messages;
  // CLIENT TRACKING is on (server/tracking.h holds its options); the
  // invalidation messages come through `messages`.
  bool tracking = false;
  bool subscribed() const {
    return sub_channels + sub_patterns + sub_shard_channels > 0;
  }
  // Set by a write whose effect is not its own arguments (XREADGROUP and
  // XCLAIM propagate XCLAIM/XGROUP commands, as Redis' alsoPropagate with
  // preventCommandPropagation): what replicas get instead, maybe nothing.
  // The server takes it after the command.
  std::optional<std::vector<std::vector<std::string>>> effects;
  // Set by a write that counts its own changes the way Redis counts
  // server.dirty (SETBIT/BITFIELD count a bit or field that changed, ZADD
  // its added and updated members): the server takes it after the command
  // for INFO's rdb_changes_since_last_save, and 0 means nothing changed
  // (not propagated). Unset: counted from the command's arguments and
  // reply (server/write_effect.h).
  std::optional<int64_t> changes;
  // Runs the ready I/O handlers of the connection's thread (set by the
  // network layer; empty for internal sessions). A script running past
  // busy-reply-threshold calls it so that the other clients of that thread
  // get -BUSY instead of waiting.
  std::function<void()> poll_io;
  // MULTI/EXEC/WATCH state; null until the client uses them.
  std::shared_ptr<TransactionState> txn;
};

}  // namespace reborn
