#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "asio.hpp"
#include "proxy/backend_conn.h"
#include "reborn/slot_table.h"

namespace reborn::proxy {

class Worker;

// The Pub/Sub subscriptions of one proxy client, and the backend
// connections ("links") that hold them. The client's subscriptions are kept
// here (the logical state the proxy answers from); where each one is held
// follows the topology (docs/proxy.md, "Pub/Sub"):
//
// * channels and patterns: the designated group's master (the serving group
//   with the lowest id), where every proxy sends PUBLISH, so PUBLISH counts
//   each subscriber once;
// * keyspace notification names (`__keyspace@...`, `__keyevent@...`, and
//   patterns that can match them): also every other serving group's master,
//   whose events are local to it (no PUBLISH goes there, so nothing comes
//   twice);
// * shard channels: the master of the channel's slot, and while the slot
//   migrates also the source's master, until the slot is online at the
//   target (SPUBLISH goes to exactly one of them).
//
// There is one link per backend address. When the placement changes (a new
// table, or a link that failed), Resync() subscribes where the names must
// now be held first and unsubscribes where they no longer belong only once
// those subscriptions are confirmed (make before break). Lives on its
// worker's thread.
class PubSubLinks : public std::enable_shared_from_this<PubSubLinks> {
 public:
  enum Kind { kChannel = 0, kPattern = 1, kShard = 2 };
  static constexpr int kKinds = 3;

  // `deliver` gets each message (message, pmessage, smessage) for a name
  // the client holds, as the backend sent it.
  using Deliver = std::function<void(std::string_view message)>;
  PubSubLinks(Worker* worker, Deliver deliver);
  ~PubSubLinks();

  // The logical state. Add/Remove return whether it changed.
  bool Add(Kind kind, const std::string& name);
  bool Remove(Kind kind, const std::string& name);
  size_t count(Kind kind) const { return names_[kind].size(); }
  bool empty() const;
  std::vector<std::string> Names(Kind kind) const;

  // Subscribes `names` (already added) where the current table puts them;
  // `done` runs once the backends confirmed (or failed: the names are then
  // placed again by the retry).
  void Place(Kind kind, const std::vector<std::string>& names,
             std::function<void()> done);
  // Unsubscribes `names` (already removed) on every link holding them;
  // `done` once the backends confirmed, so a PUBLISH after it no longer
  // counts the client.
  void Unplace(Kind kind, const std::vector<std::string>& names,
               std::function<void()> done);
  // Places everything where the current table says (make before break).
  void Resync();
  // Drops every subscription and link.
  void Clear();

  // Whether a glob pattern can match a name starting with `prefix` (Redis'
  // glob syntax: * ? [...] and \ escapes).
  static bool PatternMayMatchPrefix(std::string_view pattern,
                                    std::string_view prefix);
  // Keyspace notification channels (or patterns that may match one) are
  // held on every serving group.
  static bool IsKeyspaceName(Kind kind, std::string_view name);

 private:
  struct Waiter {
    size_t replies = 0;  // confirmations still due
    std::function<void()> done;
  };
  struct Link {
    std::shared_ptr<BackendConnection> conn;
    std::array<std::set<std::string>, kKinds> held;
    std::deque<Waiter> waiters;
  };
  // Barrier: `done` after `Arrive` was called `count` times.
  struct Barrier {
    size_t count = 1;  // one for the caller, released by Release()
    std::function<void()> done;
  };

  // Where `name` belongs on `table` (backend addresses).
  std::vector<std::string> Targets(const SlotTable& table, Kind kind,
                                   const std::string& name) const;
  Link& LinkTo(const std::string& addr);
  // Sends one (un)subscribe command for `names` on `link`; `done` runs when
  // its confirmations are in.
  void Send(const std::string& addr, Link& link, Kind kind, bool subscribe,
            const std::vector<std::string>& names, std::function<void()> done);
  void OnReply(const std::string& addr, std::string_view reply, bool closed);
  void Failed(const std::string& addr);
  // Closes a link; its pending requests complete.
  void CloseLink(const std::string& addr);
  // Unsubscribes, on every link, what the current table no longer puts
  // there; closes links left with nothing.
  void Prune();
  void RetryLater();

  Worker* worker_;
  Deliver deliver_;
  std::array<std::set<std::string>, kKinds> names_;
  std::map<std::string, Link> links_;
  std::unique_ptr<asio::steady_timer> retry_timer_;
  bool retry_armed_ = false;
  // Bumped by every Resync and Clear: a Prune whose resync was overtaken by
  // a newer one is left to that one.
  uint64_t resync_generation_ = 0;
};

}  // namespace reborn::proxy
