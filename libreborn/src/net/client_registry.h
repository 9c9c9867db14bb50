#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "command/push_channel.h"

namespace reborn::net {

// What other connections may know about a client (CLIENT LIST, CLIENT KILL,
// idle timeouts). Hot fields are atomics written by the owning connection's
// thread with relaxed stores, so the data path takes no lock; the name (set
// rarely) is guarded by a mutex.
struct ClientEntry {
  uint64_t id = 0;
  std::string peer;
  std::string local;
  int64_t created_ms = 0;
  std::atomic<int64_t> last_active_ms{0};
  std::atomic<int> db{0};
  std::atomic<int> protocol{2};
  std::atomic<const char*> last_command{"NULL"};
  std::atomic<size_t> query_buffer{0};       // unparsed input (qbuf)
  std::atomic<size_t> query_buffer_free{0};  // its spare room (qbuf-free)
  std::atomic<size_t> output_buffer{0};
  // Pub/Sub subscriptions (CLIENT LIST sub= psub= ssub=, flags=P).
  std::atomic<int> sub{0};
  std::atomic<int> psub{0};
  std::atomic<int> ssub{0};
  // A replica fed by this server (CLIENT LIST flags=S, CLIENT KILL TYPE).
  std::atomic<bool> replica{false};
  // Parked in a blocking command: waiting, not idle (no idle timeout).
  std::atomic<bool> blocked{false};
  // Client-side caching (CLIENT LIST flags t=1 R=2 B=4, redir=) and CLIENT
  // NO-EVICT (flags e), written by the server's tracking code.
  std::atomic<uint32_t> tracking{0};
  std::atomic<int64_t> redirect{-1};
  std::atomic<bool> no_evict{false};
  // Closed by client eviction, maybe not gone yet: not counted again.
  std::atomic<bool> evicted{false};
  // Messages other clients' commands send this one (Pub/Sub, invalidations):
  // made with the entry, attached by the connection when it starts.
  std::shared_ptr<PushChannel> messages;

  // Closes the connection from any thread (posted to its own thread).
  std::function<void()> kill;
  // Ends the blocking command the client is parked in (CLIENT UNBLOCK),
  // with its timeout reply or the UNBLOCKED error. From any thread.
  std::function<void(bool error)> unblock;
  // Frees the query buffer of a client idle for a while (Redis'
  // clientsCronResizeQueryBuffer). From any thread.
  std::function<void()> release_idle_buffer;

  void set_name(std::string name) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    name_ = std::move(name);
  }
  std::string name() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return name_;
  }
  // The ACL user it is authenticated as (CLIENT LIST user=, ACL DELUSER).
  void set_user(std::string user) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    user_ = std::move(user);
  }
  std::string user() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return user_;
  }

 private:
  mutable absl::Mutex mu_;
  std::string name_ ABSL_GUARDED_BY(mu_);
  std::string user_ ABSL_GUARDED_BY(mu_) = "default";
};

// All live client connections of a server. Thread-safe: one mutex guards the
// map; entries are shared_ptrs so a snapshot can be read without the lock.
class ClientRegistry {
 public:
  // Allocates the next client id (1, 2, ...).
  uint64_t NextId() { return next_id_.fetch_add(1) + 1; }

  // Adds `entry` unless `max_clients` would be exceeded (0 = no limit).
  bool Add(std::shared_ptr<ClientEntry> entry, size_t max_clients)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Remove(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<ClientEntry> Find(uint64_t id) const ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::shared_ptr<ClientEntry>> Snapshot() const
      ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t total_connections() const { return total_connections_.load(); }
  uint64_t rejected_connections() const { return rejected_.load(); }
  // A connection refused after it was accepted (protected mode).
  void CountRejected() { rejected_.fetch_add(1); }

 private:
  std::atomic<uint64_t> next_id_{0};
  std::atomic<uint64_t> total_connections_{0};
  std::atomic<uint64_t> rejected_{0};
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<ClientEntry>> clients_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace reborn::net
