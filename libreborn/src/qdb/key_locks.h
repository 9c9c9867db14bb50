#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "absl/hash/hash.h"

namespace reborn::qdb {

// Striped per-key locks for read-modify-write commands. A key maps to one of
// kStripes mutexes by hash; unrelated keys may share a stripe, which costs
// only concurrency, never correctness. Guards lock their stripes in index
// order so multi-key commands cannot deadlock. The stripes are std::mutex,
// not absl::Mutex: absl's deadlock detector would track every multi-key
// acquisition, which the ordering already makes safe.
class KeyLocks {
 public:
  static constexpr size_t kStripes = 1024;

  class Guard {
   public:
    Guard() = default;
    Guard(Guard&&) = default;
    Guard& operator=(Guard&&) = default;
    ~Guard() {
      for (auto it = held_.rbegin(); it != held_.rend(); ++it) (*it)->unlock();
    }

   private:
    friend class KeyLocks;
    std::vector<std::mutex*> held_;
  };

  KeyLocks() : stripes_(std::make_unique<std::array<std::mutex, kStripes>>()) {}

  [[nodiscard]] Guard Lock(uint8_t db, std::string_view key) {
    Guard g;
    std::mutex* m = &(*stripes_)[Stripe(db, key)];
    m->lock();
    g.held_.push_back(m);
    return g;
  }

  // Locks the stripes of every (db, key) pair, each stripe once.
  [[nodiscard]] Guard LockMany(
      const std::vector<std::pair<uint8_t, std::string_view>>& keys) {
    std::vector<size_t> idx;
    idx.reserve(keys.size());
    for (const auto& [db, key] : keys) idx.push_back(Stripe(db, key));
    std::sort(idx.begin(), idx.end());
    idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
    Guard g;
    for (size_t i : idx) {
      std::mutex* m = &(*stripes_)[i];
      m->lock();
      g.held_.push_back(m);
    }
    return g;
  }

 private:
  static size_t Stripe(uint8_t db, std::string_view key) {
    return absl::HashOf(db, absl::string_view(key.data(), key.size())) %
           kStripes;
  }

  std::unique_ptr<std::array<std::mutex, kStripes>> stripes_;
};

}  // namespace reborn::qdb
