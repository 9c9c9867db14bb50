#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "command/deferred_reply.h"

namespace reborn::server {

// Clients parked by blocking commands (BLPOP, BZPOPMIN, ...), FIFO per key.
// A write to a key Signal()s it: the registry offers the key to its waiters
// in arrival order, on the writer's thread; a waiter's `try_serve` runs the
// non-blocking form of its command and, when it got something, the reply
// goes to the waiting connection through its DeferredReply.
//
// Thread-safe: one mutex guards the waiter lists; try_serve runs under it,
// which serialises serving (and keeps FIFO order) across writers.
class BlockingRegistry {
 public:
  struct Waiter {
    int db = 0;
    std::vector<std::string> keys;
    std::shared_ptr<DeferredReply> reply;
    // Waiters that did not get what they wait for do not stop the key
    // being offered to the next ones (XREAD: each waits for its own id).
    bool serve_all = false;
    // Tries to serve the waiter; true with *reply filled when it did. On the
    // `first` try an error (WRONGTYPE) is a reply too; later ones skip it,
    // like redis-server. `*also_signal` may name a key that serving wrote to
    // (BLMOVE's destination), to be signalled next.
    std::function<bool(bool first, std::string* reply,
                       std::string* also_signal)>
        try_serve;
    // Runs after a parked waiter's reply was handed over (client tracking
    // sends the invalidations its own write caused after that reply).
    std::function<void()> after_serve;
  };

  // Serves the waiter at once if it can (true, *reply set) or parks it. One
  // step under the lock, so no Signal() can slip in between.
  bool ServeOrPark(std::shared_ptr<Waiter> waiter, bool may_park,
                   std::string* reply) ABSL_LOCKS_EXCLUDED(mu_);
  void Remove(const Waiter* waiter) ABSL_LOCKS_EXCLUDED(mu_);
  void Signal(int db, const std::string& key) ABSL_LOCKS_EXCLUDED(mu_);
  // Signals every key of `db` someone waits on: after SWAPDB, FLUSHDB's
  // opposite, any waited key of the db may have gained data.
  void SignalDb(int db) ABSL_LOCKS_EXCLUDED(mu_);
  bool empty() const { return waiters_.load(std::memory_order_relaxed) == 0; }

 private:
  using Key = std::pair<int, std::string>;
  void RemoveLocked(const Waiter* waiter) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  absl::flat_hash_map<Key, std::deque<std::shared_ptr<Waiter>>> by_key_
      ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> waiters_{0};
};

}  // namespace reborn::server
