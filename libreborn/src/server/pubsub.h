#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "command/command_table.h"
#include "command/push_channel.h"
#include "command/session.h"

namespace reborn {

// One subscribed client as publishers see it: where its messages go and in
// which RESP version they are encoded.
struct Subscriber {
  uint64_t id = 0;
  std::shared_ptr<PushChannel> out;
  std::atomic<int> protocol{2};
};

// A session's subscriptions (Session::pubsub), in subscription order;
// touched only on the connection's thread.
struct PubSubState {
  std::shared_ptr<Subscriber> subscriber;
  std::vector<std::string> names[3];  // by PubSub::Kind
};

}  // namespace reborn

namespace reborn::server {

// Pub/Sub (docs/pubsub.md): global channels, patterns and shard channels
// (SSUBSCRIBE/SPUBLISH; on a single server they differ from global channels
// only in that patterns never match them and in their reply names).
//
// A subscriber's connection gets a PushChannel (Session::messages); PUBLISH,
// from any I/O thread or the replication link, encodes the message once per
// RESP version and pushes it onto every receiver's channel; the owning
// connection appends it to its output on its own thread and holds it to the
// pubsub class of client-output-buffer-limit.
//
// Thread safety: the registry maps are guarded by mu_ (shared for PUBLISH and
// the PUBSUB introspection, exclusive for (un)subscribing). A session's own
// subscription lists (Session::pubsub) are touched only on its connection's
// thread.
class PubSub {
 public:
  enum Kind { kChannel = 0, kPattern = 1, kShard = 2 };

  // SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE
  // PUBLISH SPUBLISH PUBSUB.
  void Subscribe(CommandContext& ctx, Kind kind);
  void Unsubscribe(CommandContext& ctx, Kind kind);
  void PublishCommand(CommandContext& ctx, bool sharded);
  void Introspect(CommandContext& ctx);

  // Delivers `message`; returns the number of receivers (channel
  // subscribers plus matching patterns for global channels).
  int64_t Publish(std::string_view channel, std::string_view message,
                  bool sharded) ABSL_LOCKS_EXCLUDED(mu_);

  // Drops every subscription of the session, without replies (RESET,
  // disconnect).
  void UnsubscribeAll(Session& session) ABSL_LOCKS_EXCLUDED(mu_);
  // Called after each command of a subscribed session: follows HELLO's
  // protocol switch.
  static void AfterCommand(Session& session);

  // RESP2 subscribed mode: whether `name` (lower case) may run.
  static bool AllowedInSubscribedMode(std::string_view name);

  // INFO stats: pubsub_channels, pubsub_patterns (and shard channels).
  size_t channel_count() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t pattern_count() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t shard_channel_count() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Subscribers =
      absl::flat_hash_map<uint64_t, std::shared_ptr<Subscriber>>;
  using Registry = absl::flat_hash_map<std::string, Subscribers>;

  void WriteConfirmation(CommandContext& ctx, std::string_view verb,
                         const std::string* name, int64_t count);
  bool RemoveLocked(Kind kind, const std::string& name, uint64_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Registry& registry(Kind kind) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return registries_[kind];
  }

  mutable absl::Mutex mu_;
  Registry registries_[3] ABSL_GUARDED_BY(mu_);
  // The patterns in the order they were first subscribed: PUBLISH tries
  // them in this order.
  std::vector<std::string> pattern_order_ ABSL_GUARDED_BY(mu_);
};

// Registers the Pub/Sub commands on `table`.
absl::Status RegisterPubSubCommands(PubSub& pubsub, CommandTable& table);

}  // namespace reborn::server
