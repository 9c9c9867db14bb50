#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "command/session.h"

namespace reborn {

// A client's MULTI/WATCH state (Session::txn). Touched only on the
// connection's thread, except `dirty`, which writers on any thread set.
struct TransactionState {
  struct Watched {
    int db = 0;
    std::string key;
    bool had_ttl = false;  // a key that expires before EXEC counts as changed
  };

  bool in_multi = false;
  bool aborted = false;    // a command failed to queue: EXEC answers EXECABORT
  bool executing = false;  // inside EXEC: blocking commands do not block
  std::vector<std::vector<std::string>> queued;
  // Keys the queued writes filled: blocked clients are served after EXEC,
  // so that they never see the transaction half done.
  std::vector<std::pair<int, std::string>> to_signal;
  std::vector<Watched> watched;
  std::shared_ptr<std::atomic<bool>> dirty =
      std::make_shared<std::atomic<bool>>(false);
};

namespace server {

// Which clients WATCH which keys. Write commands Touch() their keys, which
// marks every watcher dirty so that its EXEC fails.
//
// Thread-safe: one mutex guards the map; `watchers_` lets the write path skip
// the lock entirely while nobody watches anything.
class WatchRegistry {
 public:
  using Flag = std::shared_ptr<std::atomic<bool>>;

  void Watch(int db, const std::string& key, const Flag& flag)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Drops every watch of `txn` and clears its watched list.
  void UnwatchAll(TransactionState& txn) ABSL_LOCKS_EXCLUDED(mu_);
  void Touch(int db, const std::string& key) ABSL_LOCKS_EXCLUDED(mu_);
  // FLUSHDB / SWAPDB (db >= 0) and FLUSHALL (db < 0).
  void TouchDb(int db) ABSL_LOCKS_EXCLUDED(mu_);
  // The (db, key) pairs watched in `db` (every db when < 0).
  std::vector<std::pair<int, std::string>> WatchedKeys(int db)
      ABSL_LOCKS_EXCLUDED(mu_);
  bool empty() const { return watchers_.load(std::memory_order_relaxed) == 0; }

 private:
  using Key = std::pair<int, std::string>;
  absl::Mutex mu_;
  absl::flat_hash_map<Key, std::vector<Flag>> watched_ ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> watchers_{0};
};

}  // namespace server
}  // namespace reborn
