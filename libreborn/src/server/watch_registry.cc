#include <algorithm>

#include "server/transactions.h"

namespace reborn::server {

void WatchRegistry::Watch(int db, const std::string& key, const Flag& flag) {
  absl::MutexLock lock(&mu_);
  auto& flags = watched_[Key{db, key}];
  if (std::find(flags.begin(), flags.end(), flag) != flags.end()) return;
  flags.push_back(flag);
  watchers_.fetch_add(1, std::memory_order_relaxed);
}

void WatchRegistry::UnwatchAll(TransactionState& txn) {
  absl::MutexLock lock(&mu_);
  for (const auto& w : txn.watched) {
    auto it = watched_.find(Key{w.db, w.key});
    if (it == watched_.end()) continue;
    auto& flags = it->second;
    auto pos = std::find(flags.begin(), flags.end(), txn.dirty);
    if (pos == flags.end()) continue;
    flags.erase(pos);
    watchers_.fetch_sub(1, std::memory_order_relaxed);
    if (flags.empty()) watched_.erase(it);
  }
  txn.watched.clear();
}

void WatchRegistry::Touch(int db, const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = watched_.find(Key{db, key});
  if (it == watched_.end()) return;
  for (const auto& flag : it->second) flag->store(true);
}

void WatchRegistry::TouchDb(int db) {
  absl::MutexLock lock(&mu_);
  for (auto& [key, flags] : watched_) {
    if (db >= 0 && key.first != db) continue;
    for (const auto& flag : flags) flag->store(true);
  }
}

std::vector<std::pair<int, std::string>> WatchRegistry::WatchedKeys(int db) {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<int, std::string>> keys;
  for (const auto& [key, flags] : watched_) {
    if (db < 0 || key.first == db) keys.push_back(key);
  }
  return keys;
}

}  // namespace reborn::server
