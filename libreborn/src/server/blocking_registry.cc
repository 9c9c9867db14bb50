#include <algorithm>

#include "server/blocking.h"

namespace reborn::server {

bool BlockingRegistry::ServeOrPark(std::shared_ptr<Waiter> waiter,
                                   bool may_park, std::string* reply) {
  std::string also;
  bool served;
  {
    absl::MutexLock lock(&mu_);
    served = waiter->try_serve(/*first=*/true, reply, &also);
    if (!served && !may_park) return false;
    if (!served) {
      for (const auto& key : waiter->keys) {
        by_key_[Key{waiter->db, key}].push_back(waiter);
      }
      waiters_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  if (!also.empty()) Signal(waiter->db, also);
  return true;
}

void BlockingRegistry::Remove(const Waiter* waiter) {
  absl::MutexLock lock(&mu_);
  RemoveLocked(waiter);
}

void BlockingRegistry::RemoveLocked(const Waiter* waiter) {
  bool found = false;
  for (const auto& key : waiter->keys) {
    auto it = by_key_.find(Key{waiter->db, key});
    if (it == by_key_.end()) continue;
    auto& queue = it->second;
    auto pos =
        std::find_if(queue.begin(), queue.end(),
                     [waiter](const auto& w) { return w.get() == waiter; });
    if (pos != queue.end()) {
      queue.erase(pos);
      found = true;
    }
    if (queue.empty()) by_key_.erase(it);
  }
  if (found) waiters_.fetch_sub(1, std::memory_order_relaxed);
}

void BlockingRegistry::Signal(int db, const std::string& key) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> pending = {key};
  // Bounded: a chain of BLMOVEs can only hop once per waiter served.
  for (size_t round = 0; round < pending.size() && round < 1024; ++round) {
    auto it = by_key_.find(Key{db, pending[round]});
    if (it == by_key_.end()) continue;
    // Offer the key to its waiters in arrival order until one finds nothing.
    std::deque<std::shared_ptr<Waiter>> queue = it->second;
    for (const auto& waiter : queue) {
      if (waiter->reply->settled()) {
        RemoveLocked(waiter.get());
        continue;
      }
      std::string reply;
      std::string also;
      if (!waiter->try_serve(/*first=*/false, &reply, &also)) {
        if (waiter->serve_all) continue;
        break;
      }
      RemoveLocked(waiter.get());
      waiter->reply->Complete(std::move(reply));
      if (waiter->after_serve) waiter->after_serve();
      if (!also.empty()) pending.push_back(also);
    }
  }
}

void BlockingRegistry::SignalDb(int db) {
  std::vector<std::string> keys;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, waiters] : by_key_) {
      if (key.first == db) keys.push_back(key.second);
    }
  }
  for (const std::string& key : keys) Signal(db, key);
}

}  // namespace reborn::server
