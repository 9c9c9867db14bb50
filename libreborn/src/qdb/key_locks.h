#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"

namespace reborn::qdb {

// Striped per-key locks for read-modify-write commands. A key maps to one of
// kStripes mutexes by hash; unrelated keys may share a stripe, which costs
// only concurrency, never correctness. Guards lock their stripes in index
// order so multi-key commands cannot deadlock. The stripes are std::mutex,
// not absl::Mutex: absl's deadlock detector would track every multi-key
// acquisition, which the ordering already makes safe.
//
// Moving marks: a big key that migrates in chunks (docs/slots.md) is marked
// for the whole transfer instead of holding its stripe. Lock()/LockMany() of
// a marked key release their stripes and wait until the mark is cleared, so
// writers of that key wait for the move while the stripe (and every other
// key on it) stays free. The mover itself takes the stripe with
// LockIgnoringMarks(). marks_mu_ guards the mark set; marks_cv_ signals
// Unmark(); `marked_` lets the common case (no marks) skip the set.
class KeyLocks {
 public:
  static constexpr size_t kStripes = 1024;

  class Guard {
   public:
    Guard() = default;
    Guard(Guard&&) = default;
    Guard& operator=(Guard&&) = default;
    ~Guard() { Release(); }
    void Release() {
      for (auto it = held_.rbegin(); it != held_.rend(); ++it) (*it)->unlock();
      held_.clear();
    }

   private:
    friend class KeyLocks;
    std::vector<std::mutex*> held_;
  };

  KeyLocks() : stripes_(std::make_unique<std::array<std::mutex, kStripes>>()) {}

  [[nodiscard]] Guard Lock(uint8_t db, std::string_view key) {
    return LockMany({{db, key}});
  }

  // Locks the stripes of every (db, key) pair, each stripe once, waiting
  // first until none of the keys is marked as moving.
  [[nodiscard]] Guard LockMany(
      const std::vector<std::pair<uint8_t, std::string_view>>& keys) {
    while (true) {
      Guard g = LockStripes(keys);
      std::optional<std::pair<uint8_t, std::string>> marked = FirstMarked(keys);
      if (!marked) return g;
      g.Release();
      WaitUnmarked(marked->first, marked->second);
    }
  }

  // Lock() that gives up on a marked key instead of waiting (the background
  // expiry cycle skips a key that is moving).
  [[nodiscard]] std::optional<Guard> LockUnlessMarked(uint8_t db,
                                                      std::string_view key) {
    Guard g = LockStripes({{db, key}});
    if (FirstMarked({{db, key}})) return std::nullopt;
    return g;
  }

  // The stripe of a key, marked or not: for the mover of a marked key.
  [[nodiscard]] Guard LockIgnoringMarks(uint8_t db, std::string_view key) {
    return LockStripes({{db, key}});
  }

  // Marks (db, key) as moving. The caller holds the key's stripe (from
  // Lock(), so the key was not marked). Returns false if it already was.
  bool Mark(uint8_t db, std::string_view key) {
    std::lock_guard<std::mutex> lock(marks_mu_);
    if (!marks_.emplace(db, std::string(key)).second) return false;
    marked_.fetch_add(1);
    return true;
  }
  // Clears the mark and wakes the writers waiting for it.
  void Unmark(uint8_t db, std::string_view key) {
    {
      std::lock_guard<std::mutex> lock(marks_mu_);
      if (marks_.erase(std::make_pair(db, std::string(key))) == 0) return;
      marked_.fetch_sub(1);
    }
    marks_cv_.notify_all();
  }
  bool IsMarked(uint8_t db, std::string_view key) {
    return FirstMarked({{db, key}}).has_value();
  }

 private:
  static size_t Stripe(uint8_t db, std::string_view key) {
    return absl::HashOf(db, absl::string_view(key.data(), key.size())) %
           kStripes;
  }

  Guard LockStripes(
      const std::vector<std::pair<uint8_t, std::string_view>>& keys) {
    std::vector<size_t> idx;
    idx.reserve(keys.size());
    for (const auto& [db, key] : keys) idx.push_back(Stripe(db, key));
    std::sort(idx.begin(), idx.end());
    idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
    Guard g;
    g.held_.reserve(idx.size());
    for (size_t i : idx) {
      std::mutex* m = &(*stripes_)[i];
      m->lock();
      g.held_.push_back(m);
    }
    return g;
  }

  std::optional<std::pair<uint8_t, std::string>> FirstMarked(
      const std::vector<std::pair<uint8_t, std::string_view>>& keys) {
    if (marked_.load() == 0) return std::nullopt;
    std::lock_guard<std::mutex> lock(marks_mu_);
    for (const auto& [db, key] : keys) {
      std::pair<uint8_t, std::string> k(db, std::string(key));
      if (marks_.contains(k)) return k;
    }
    return std::nullopt;
  }

  void WaitUnmarked(uint8_t db, const std::string& key) {
    std::unique_lock<std::mutex> lock(marks_mu_);
    marks_cv_.wait(lock, [&] { return !marks_.contains({db, key}); });
  }

  std::unique_ptr<std::array<std::mutex, kStripes>> stripes_;
  std::mutex marks_mu_;
  std::condition_variable marks_cv_;
  absl::flat_hash_set<std::pair<uint8_t, std::string>> marks_;
  std::atomic<int> marked_{0};
};

}  // namespace reborn::qdb
