#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "reborn/coordinator.h"

namespace reborn::coord {

// The event thread of one Coordinator: holds the registered watches and
// session listeners and runs their callbacks, one at a time, in post order.
// Backends post events (and their own maintenance tasks) from any thread.
//
// Synchronisation: one mutex guards the queue, the watch and listener tables
// and `running_`; callbacks run without it. Removing a watch from another
// thread waits until its callback is not running.
class EventDispatcher {
 public:
  struct WatchInfo {
    uint64_t id = 0;
    std::string path;
    WatchKind kind = WatchKind::kData;
  };

  EventDispatcher();
  ~EventDispatcher();  // Stop()s
  EventDispatcher(const EventDispatcher&) = delete;
  EventDispatcher& operator=(const EventDispatcher&) = delete;

  // Ends the thread after the queued work ran. Idempotent.
  void Stop();

  uint64_t AddWatch(std::string_view path, WatchKind kind, WatchCallback cb);
  // The returned Subscription removes watch `id` and then runs `on_remove`
  // (a backend hook, may be empty) when destroyed.
  std::unique_ptr<Subscription> WatchSubscription(
      uint64_t id, std::function<void(uint64_t)> on_remove);
  void RemoveWatch(uint64_t id);
  std::vector<WatchInfo> Watches() const;
  bool HasWatch(uint64_t id) const;

  std::unique_ptr<Subscription> AddListener(SessionCallback cb);

  // Delivers `event` to watch `id` (dropped if the watch is gone by then).
  void PostWatchEvent(uint64_t id, WatchEvent event);
  // Delivers a change of node `path` to every matching watch: data watches
  // on `path`, children watches on `path` (create/delete) and children
  // watches on its parent (as kChildren).
  void PostNodeEvent(std::string_view path, WatchEvent::Type type);
  // kResync to every watch.
  void PostResyncAll();
  void PostSession(SessionState state);
  // Runs `task` on the event thread.
  void Post(std::function<void()> task);

  bool OnEventThread() const;

 private:
  class WatchSub;
  class ListenerSub;
  struct Item {
    std::function<void()> task;  // backend task, or
    uint64_t watch_id = 0;       // a watch event
    WatchEvent event;
    bool session = false;  // a session event
    SessionState state = SessionState::kConnected;
  };

  void Run();
  void RemoveListener(uint64_t id);
  void PostNodeEventLocked(std::string_view path, WatchEvent::Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct WatchEntry {
    std::string path;
    WatchKind kind;
    std::shared_ptr<WatchCallback> cb;
  };

  mutable absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, WatchEntry> watches_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<SessionCallback>> listeners_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t running_ ABSL_GUARDED_BY(mu_) = 0;  // id of the running callback
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace reborn::coord
