#include "storage/memory_store.h"

#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace reborn::storage {
namespace {

// Multi-version ordered map. Every Write() gets a new sequence number; an
// entry keeps the versions that a live snapshot may still see, so readers at
// a snapshot see exactly the writes committed before it.
//
// Synchronisation: one absl::Mutex guards the maps, the sequence counter and
// the set of live snapshots; reads hold it shared, writes exclusively.
// Iterators never hold the lock between calls: each step re-seeks from the last
// key under the lock, reading at the iterator's own snapshot, so concurrent
// writes cannot invalidate them.
class MemoryStore final : public KvStore {
 public:
  MemoryStore() = default;

  absl::Status Get(const ReadOptions& options, Column column,
                   std::string_view key, std::string* value) override;
  absl::Status Write(const WriteBatch& batch) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options,
                                        Column column) override;
  std::shared_ptr<const Snapshot> GetSnapshot() override;
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::StatusOr<uint64_t> CollectGarbage() override;
  absl::Status SetBlockCacheCapacity(size_t) override {
    return absl::UnimplementedError("the memory engine has no block cache");
  }
  void SetSyncWrites(bool) override {}
  uint64_t ApproximateDiskBytes() override { return 0; }
  uint64_t ApproximateMemoryBytes() override {
    return bytes_.load(std::memory_order_relaxed);
  }
  void AppendStats(std::string* out) override;
  Engine engine() const override { return Engine::kMemory; }

  void set_garbage_filter(GarbageFilter filter) {
    garbage_filter_ = std::move(filter);
  }

 private:
  friend class MemoryIterator;
  friend class MemorySnapshot;

  struct Version {
    uint64_t seq;
    std::optional<std::string> value;  // nullopt = deleted
  };
  using Versions = std::vector<Version>;  // ascending seq
  using Map = std::map<std::string, Versions, std::less<>>;

  uint64_t AcquireSnapshot() ABSL_LOCKS_EXCLUDED(mu_);
  void ReleaseSnapshot(uint64_t seq) ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t LatestSeq() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return seq_;
  }
  void AddVersion(Map& map, const std::string& key,
                  std::optional<std::string> value, uint64_t seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops versions no snapshot can see; returns true if the entry is gone.
  bool Prune(Map& map, Map::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PruneAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t MinLiveSnapshot() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return live_snapshots_.empty() ? std::numeric_limits<uint64_t>::max()
                                   : *live_snapshots_.begin();
  }
  // The value visible at `seq`, or nullptr.
  static const std::string* Visible(const Versions& versions, uint64_t seq) {
    for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
      if (it->seq <= seq) return it->value ? &*it->value : nullptr;
    }
    return nullptr;
  }

  mutable absl::Mutex mu_;
  Map maps_[kNumColumns] ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::multiset<uint64_t> live_snapshots_ ABSL_GUARDED_BY(mu_);
  // Versions kept only because a snapshot was live when they were replaced.
  uint64_t stale_versions_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> bytes_{0};
  GarbageFilter garbage_filter_;  // set once before use
};

class MemorySnapshot final : public Snapshot {
 public:
  MemorySnapshot(MemoryStore* store, uint64_t seq) : store_(store), seq_(seq) {}
  ~MemorySnapshot() override { store_->ReleaseSnapshot(seq_); }
  uint64_t seq() const { return seq_; }

 private:
  MemoryStore* store_;
  uint64_t seq_;
};

uint64_t SnapshotSeq(const ReadOptions& options, uint64_t latest) {
  if (options.snapshot == nullptr) return latest;
  return static_cast<const MemorySnapshot*>(options.snapshot)->seq();
}

class MemoryIterator final : public Iterator {
 public:
  MemoryIterator(MemoryStore* store, const ReadOptions& options, Column column)
      : store_(store),
        column_(column),
        lower_(options.lower_bound),
        upper_(options.upper_bound) {
    if (options.snapshot == nullptr) {
      own_snapshot_ = store->GetSnapshot();
      seq_ = static_cast<const MemorySnapshot*>(own_snapshot_.get())->seq();
    } else {
      seq_ = static_cast<const MemorySnapshot*>(options.snapshot)->seq();
    }
  }

  bool Valid() const override { return valid_; }
  void SeekToFirst() override { Seek(lower_); }
  void SeekToLast() override {
    absl::ReaderMutexLock lock(&store_->mu_);
    const auto& map = store_->maps_[static_cast<int>(column_)];
    auto it = upper_.empty() ? map.end() : map.lower_bound(upper_);
    Backward(map, it);
  }
  void Seek(std::string_view target) override {
    absl::ReaderMutexLock lock(&store_->mu_);
    const auto& map = store_->maps_[static_cast<int>(column_)];
    std::string_view from = target < std::string_view(lower_) ? lower_ : target;
    Forward(map, map.lower_bound(from));
  }
  void Next() override {
    absl::ReaderMutexLock lock(&store_->mu_);
    const auto& map = store_->maps_[static_cast<int>(column_)];
    Forward(map, map.upper_bound(key_));
  }
  void Prev() override {
    absl::ReaderMutexLock lock(&store_->mu_);
    const auto& map = store_->maps_[static_cast<int>(column_)];
    Backward(map, map.lower_bound(key_));
  }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  using Map = MemoryStore::Map;

  void Forward(const Map& map, Map::const_iterator it)
      ABSL_SHARED_LOCKS_REQUIRED(store_->mu_) {
    for (; it != map.end(); ++it) {
      if (!upper_.empty() && it->first >= upper_) break;
      if (const std::string* v = MemoryStore::Visible(it->second, seq_)) {
        Set(it->first, *v);
        return;
      }
    }
    valid_ = false;
  }
  // Positions on the last visible entry before `it`.
  void Backward(const Map& map, Map::const_iterator it)
      ABSL_SHARED_LOCKS_REQUIRED(store_->mu_) {
    while (it != map.begin()) {
      --it;
      if (it->first < lower_) break;
      if (const std::string* v = MemoryStore::Visible(it->second, seq_)) {
        Set(it->first, *v);
        return;
      }
    }
    valid_ = false;
  }
  void Set(const std::string& key, const std::string& value) {
    key_ = key;
    value_ = value;
    valid_ = true;
  }

  MemoryStore* store_;
  Column column_;
  std::string lower_;
  std::string upper_;
  std::shared_ptr<const Snapshot> own_snapshot_;
  uint64_t seq_ = 0;
  bool valid_ = false;
  std::string key_;
  std::string value_;
};

absl::Status MemoryStore::Get(const ReadOptions& options, Column column,
                              std::string_view key, std::string* value) {
  absl::ReaderMutexLock lock(&mu_);
  const Map& map = maps_[static_cast<int>(column)];
  auto it = map.find(key);
  if (it == map.end()) return absl::NotFoundError("");
  const std::string* v = Visible(it->second, SnapshotSeq(options, seq_));
  if (v == nullptr) return absl::NotFoundError("");
  value->assign(*v);
  return absl::OkStatus();
}

absl::Status MemoryStore::Write(const WriteBatch& batch) {
  absl::MutexLock lock(&mu_);
  const uint64_t seq = ++seq_;
  for (const WriteBatch::Entry& e : batch.entries()) {
    Map& map = maps_[static_cast<int>(e.column)];
    switch (e.op) {
      case WriteBatch::Op::kPut:
        AddVersion(map, e.key, e.value, seq);
        break;
      case WriteBatch::Op::kDelete:
        AddVersion(map, e.key, std::nullopt, seq);
        break;
      case WriteBatch::Op::kDeleteRange: {
        std::vector<std::string> keys;
        for (auto it = map.lower_bound(e.key);
             it != map.end() && it->first < e.value; ++it) {
          keys.push_back(it->first);
        }
        for (const std::string& k : keys) AddVersion(map, k, std::nullopt, seq);
        break;
      }
    }
  }
  return absl::OkStatus();
}

void MemoryStore::AddVersion(Map& map, const std::string& key,
                             std::optional<std::string> value, uint64_t seq) {
  auto it = map.find(key);
  if (it == map.end()) {
    if (!value) return;  // deleting an absent key
    bytes_.fetch_add(key.size() + value->size() + 64,
                     std::memory_order_relaxed);
    it = map.emplace(key, Versions{}).first;
  } else {
    bytes_.fetch_add(value ? value->size() : 0, std::memory_order_relaxed);
  }
  Versions& versions = it->second;
  if (!versions.empty() && versions.back().seq == seq) {
    bytes_.fetch_sub(versions.back().value ? versions.back().value->size() : 0,
                     std::memory_order_relaxed);
    versions.back().value = std::move(value);
  } else {
    versions.push_back({seq, std::move(value)});
  }
  Prune(map, it);
}

bool MemoryStore::Prune(Map& map, Map::iterator it) {
  Versions& versions = it->second;
  const uint64_t min_live = MinLiveSnapshot();
  // The newest version at or below the oldest snapshot is the oldest one any
  // reader can see; everything before it is garbage.
  size_t keep_from = 0;
  for (size_t i = versions.size(); i-- > 0;) {
    if (versions[i].seq <= min_live) {
      keep_from = i;
      break;
    }
  }
  for (size_t i = 0; i < keep_from; ++i) {
    bytes_.fetch_sub(versions[i].value ? versions[i].value->size() : 0,
                     std::memory_order_relaxed);
  }
  if (keep_from > 0)
    versions.erase(versions.begin(), versions.begin() + keep_from);
  if (versions.size() > 1) ++stale_versions_;
  if (versions.size() == 1 && !versions[0].value &&
      versions[0].seq <= min_live) {
    bytes_.fetch_sub(it->first.size() + 64, std::memory_order_relaxed);
    map.erase(it);
    return true;
  }
  return false;
}

void MemoryStore::PruneAll() {
  for (Map& map : maps_) {
    for (auto it = map.begin(); it != map.end();) {
      auto next = std::next(it);
      Prune(map, it);
      it = next;
    }
  }
  stale_versions_ = 0;
}

uint64_t MemoryStore::AcquireSnapshot() {
  absl::MutexLock lock(&mu_);
  live_snapshots_.insert(seq_);
  return seq_;
}

void MemoryStore::ReleaseSnapshot(uint64_t seq) {
  absl::MutexLock lock(&mu_);
  live_snapshots_.erase(live_snapshots_.find(seq));
  // Versions kept for snapshots are pruned when their key is written again;
  // when many piled up, prune everything once no snapshot is left.
  if (live_snapshots_.empty() && stale_versions_ > 4096) PruneAll();
}

std::shared_ptr<const Snapshot> MemoryStore::GetSnapshot() {
  return std::make_shared<MemorySnapshot>(this, AcquireSnapshot());
}

std::unique_ptr<Iterator> MemoryStore::NewIterator(const ReadOptions& options,
                                                   Column column) {
  return std::make_unique<MemoryIterator>(this, options, column);
}

absl::StatusOr<uint64_t> MemoryStore::CollectGarbage() {
  {
    absl::MutexLock lock(&mu_);
    PruneAll();
  }
  return SweepGarbage(*this, garbage_filter_);
}

void MemoryStore::AppendStats(std::string* out) {
  absl::ReaderMutexLock lock(&mu_);
  out->append("engine:memory\r\n");
  for (int c = 0; c < kNumColumns; ++c) {
    out->append("column_" + std::to_string(c) +
                "_entries:" + std::to_string(maps_[c].size()) + "\r\n");
  }
  out->append("live_snapshots:" + std::to_string(live_snapshots_.size()) +
              "\r\n");
}

}  // namespace

absl::StatusOr<std::unique_ptr<KvStore>> OpenMemoryStore(
    const Options& options) {
  auto store = std::make_unique<MemoryStore>();
  store->set_garbage_filter(options.garbage_filter);
  return store;
}

}  // namespace reborn::storage
