#include "coord/event_dispatcher.h"

#include <utility>

namespace reborn::coord {

class EventDispatcher::WatchSub : public Subscription {
 public:
  WatchSub(EventDispatcher* d, uint64_t id,
           std::function<void(uint64_t)> on_remove)
      : d_(d), id_(id), on_remove_(std::move(on_remove)) {}
  ~WatchSub() override {
    d_->RemoveWatch(id_);
    if (on_remove_) on_remove_(id_);
  }

 private:
  EventDispatcher* d_;
  uint64_t id_;
  std::function<void(uint64_t)> on_remove_;
};

class EventDispatcher::ListenerSub : public Subscription {
 public:
  ListenerSub(EventDispatcher* d, uint64_t id) : d_(d), id_(id) {}
  ~ListenerSub() override { d_->RemoveListener(id_); }

 private:
  EventDispatcher* d_;
  uint64_t id_;
};

EventDispatcher::EventDispatcher() {
  thread_ = std::thread([this] { Run(); });
  thread_id_ = thread_.get_id();
}

EventDispatcher::~EventDispatcher() { Stop(); }

void EventDispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) {
    if (OnEventThread()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
}

bool EventDispatcher::OnEventThread() const {
  return std::this_thread::get_id() == thread_id_;
}

uint64_t EventDispatcher::AddWatch(std::string_view path, WatchKind kind,
                                   WatchCallback cb) {
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  watches_[id] = WatchEntry{std::string(path), kind,
                            std::make_shared<WatchCallback>(std::move(cb))};
  return id;
}

std::unique_ptr<Subscription> EventDispatcher::WatchSubscription(
    uint64_t id, std::function<void(uint64_t)> on_remove) {
  return std::make_unique<WatchSub>(this, id, std::move(on_remove));
}

void EventDispatcher::RemoveWatch(uint64_t id) {
  absl::MutexLock lock(&mu_);
  watches_.erase(id);
  if (OnEventThread()) return;
  auto not_running = [this, id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return running_ != id;
  };
  mu_.Await(absl::Condition(&not_running));
}

std::vector<EventDispatcher::WatchInfo> EventDispatcher::Watches() const {
  absl::MutexLock lock(&mu_);
  std::vector<WatchInfo> out;
  out.reserve(watches_.size());
  for (const auto& [id, w] : watches_) out.push_back({id, w.path, w.kind});
  return out;
}

bool EventDispatcher::HasWatch(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  return watches_.contains(id);
}

std::unique_ptr<Subscription> EventDispatcher::AddListener(SessionCallback cb) {
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  listeners_[id] = std::make_shared<SessionCallback>(std::move(cb));
  return std::make_unique<ListenerSub>(this, id);
}

void EventDispatcher::RemoveListener(uint64_t id) {
  absl::MutexLock lock(&mu_);
  listeners_.erase(id);
  if (OnEventThread()) return;
  auto not_running = [this, id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return running_ != id;
  };
  mu_.Await(absl::Condition(&not_running));
}

void EventDispatcher::PostWatchEvent(uint64_t id, WatchEvent event) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  Item item;
  item.watch_id = id;
  item.event = std::move(event);
  queue_.push_back(std::move(item));
}

void EventDispatcher::PostNodeEvent(std::string_view path,
                                    WatchEvent::Type type) {
  absl::MutexLock lock(&mu_);
  PostNodeEventLocked(path, type);
}

void EventDispatcher::PostNodeEventLocked(std::string_view path,
                                          WatchEvent::Type type) {
  if (stopping_) return;
  std::string parent = path == "/" ? std::string() : CoordParent(path);
  bool membership =
      type == WatchEvent::Type::kCreated || type == WatchEvent::Type::kDeleted;
  for (const auto& [id, w] : watches_) {
    Item item;
    item.watch_id = id;
    if (w.path == path && (w.kind == WatchKind::kData || membership)) {
      item.event = WatchEvent{type, std::string(path)};
    } else if (w.kind == WatchKind::kChildren && membership &&
               w.path == parent) {
      item.event = WatchEvent{WatchEvent::Type::kChildren, parent};
    } else {
      continue;
    }
    queue_.push_back(std::move(item));
  }
}

void EventDispatcher::PostResyncAll() {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  for (const auto& [id, w] : watches_) {
    Item item;
    item.watch_id = id;
    item.event = WatchEvent{WatchEvent::Type::kResync, w.path};
    queue_.push_back(std::move(item));
  }
}

void EventDispatcher::PostSession(SessionState state) {
  absl::MutexLock lock(&mu_);
  if (stopping_ && state != SessionState::kClosed) return;
  Item item;
  item.session = true;
  item.state = state;
  queue_.push_back(std::move(item));
}

void EventDispatcher::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  Item item;
  item.task = std::move(task);
  queue_.push_back(std::move(item));
}

void EventDispatcher::Run() {
  while (true) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping and drained
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    if (item.task) {
      item.task();
      continue;
    }
    if (item.session) {
      std::vector<std::pair<uint64_t, std::shared_ptr<SessionCallback>>> ls;
      {
        absl::MutexLock lock(&mu_);
        ls.assign(listeners_.begin(), listeners_.end());
      }
      for (auto& [id, cb] : ls) {
        {
          absl::MutexLock lock(&mu_);
          if (!listeners_.contains(id)) continue;
          running_ = id;
        }
        (*cb)(item.state);
        absl::MutexLock lock(&mu_);
        running_ = 0;
      }
      continue;
    }
    std::shared_ptr<WatchCallback> cb;
    {
      absl::MutexLock lock(&mu_);
      auto it = watches_.find(item.watch_id);
      if (it == watches_.end()) continue;
      cb = it->second.cb;
      running_ = item.watch_id;
    }
    (*cb)(item.event);
    absl::MutexLock lock(&mu_);
    running_ = 0;
  }
}

}  // namespace reborn::coord
