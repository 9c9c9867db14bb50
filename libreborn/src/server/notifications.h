#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "command/command_spec.h"
#include "server/keyspace_events.h"
#include "server/pubsub.h"

namespace reborn::server {

// Keyspace notifications (docs/pubsub.md): after a write succeeded, the
// events redis-server emits for it, in its order, published on
// __keyspace@<db>__:<key> (message: the event) and __keyevent@<db>__:<event>
// (message: the key). Events are derived from the command, its arguments
// and its reply; where that is not enough (which keys DEL removed, whether a
// pop emptied its list) the state is read with `run` (an internal command
// runner) before or after the command.
//
// Thread-safe: the flags are an atomic; publishing goes through PubSub.
class Notifications {
 public:
  using Runner =
      std::function<std::string(int db, std::vector<std::string> args)>;

  explicit Notifications(PubSub& pubsub) : pubsub_(pubsub) {}

  void set_flags(int flags) { flags_.store(flags); }
  int flags() const { return flags_.load(std::memory_order_relaxed); }
  // Whether any event could be published.
  bool enabled() const {
    const int f = flags();
    return (f & (kNotifyKeyspace | kNotifyKeyevent)) != 0 &&
           (f & ~(kNotifyKeyspace | kNotifyKeyevent)) != 0;
  }

  // What the events of a write need to know of the state before it.
  struct Before {
    std::vector<bool> existed;  // per probed key
    bool had_ttl = false;
    std::string positions;  // GEOADD: ZMSCORE of its members before
    // Streams: XADD's length before (to tell a trim), and per key whether
    // the consumer XREADGROUP/XCLAIM/XAUTOCLAIM/XGROUP DELCONSUMER names
    // was in its group.
    int64_t stream_length = 0;
    std::vector<bool> had_consumer;
    // With the `n` class: the keys the write may create (Redis' dbAdd)
    // that did not exist before it; SETBIT's string length before it.
    std::vector<std::string> absent;
    int64_t string_length = 0;
  };
  Before Probe(int db, const CommandSpec& spec,
               const std::vector<std::string>& args, const Runner& run) const;
  // Publishes the events of a write that succeeded with `reply`.
  void AfterWrite(int db, const CommandSpec& spec,
                  const std::vector<std::string>& args, std::string_view reply,
                  const Before& before, const Runner& run);
  // A write that counted no change of its own (BITFIELD whose INCRBY failed
  // on OVERFLOW FAIL) publishes no event of its own, but a key it created
  // is still "new" (Redis' dbAdd runs before the command looks at bits).
  void AfterUnchangedWrite(int db, const Before& before, const Runner& run);
  // The engine expired a key (active or lazy expiry).
  void OnExpired(int db, std::string_view key) {
    Notify(kNotifyExpired, "expired", key, db);
  }

  // Redis' notifyKeyspaceEvent.
  void Notify(int type, std::string_view event, std::string_view key, int db);

 private:
  PubSub& pubsub_;
  std::atomic<int> flags_{0};
};

}  // namespace reborn::server
