#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "storage/forwarding_store.h"

namespace reborn::storage {

// A store with the hot records of one column held in memory in front of it:
// QDB caches its metadata column, which every command reads first and which
// holds a string's value inline. A RocksDB point read walks the memtable
// skiplists and the block cache (a third of a GET's time, profiled); a hit
// here is one hash lookup.
//
// What is cached: the latest value of a key, or that the key is absent,
// filled by Get/MultiGet misses and kept up to date by Write. Reads through
// a snapshot, the other columns and iterators go straight to the store.
// Each of kShards shards keeps its own LRU list within capacity / kShards
// bytes; a record bigger than an eighth of a shard is never cached.
//
// Coherence: Write applies the batch to the store first and then to the
// cache (Put sets the entry, Delete marks a cached one absent; DeleteRange
// drops what falls in its range; a failed write drops every entry it
// touched). A miss takes a
// ticket (the shard's write count) before it reads the store and fills only
// if no write reached the shard meanwhile, so a fill can never put back a
// value older than a write it raced. Writers of one key must not run
// concurrently (QDB holds the key's lock across a read-modify-write), or
// the later store write could meet the earlier cache update.
class CachedStore final : public ForwardingKvStore {
 public:
  static constexpr size_t kShards = 64;

  CachedStore(std::unique_ptr<KvStore> base, Column column,
              size_t capacity_bytes);
  ~CachedStore() override;

  absl::Status Get(const ReadOptions& options, Column column,
                   std::string_view key, std::string* value) override;
  std::vector<absl::Status> MultiGet(const ReadOptions& options, Column column,
                                     const std::vector<std::string>& keys,
                                     std::vector<std::string>* values) override;
  absl::Status Write(const WriteBatch& batch) override;
  absl::Status SetHotCacheCapacity(size_t bytes) override;
  uint64_t ApproximateMemoryBytes() override;
  void AppendStats(std::string* out) override;

  uint64_t hits() const { return hits_.load(); }
  uint64_t misses() const { return misses_.load(); }
  uint64_t used_bytes();

 private:
  struct Node {
    std::string key;
    std::string value;
    bool absent;
  };
  struct Shard {
    std::mutex mu;
    std::list<Node> lru;  // most recent first
    absl::flat_hash_map<std::string_view, std::list<Node>::iterator> index;
    size_t bytes = 0;
    // Writes applied to this shard; a fill whose ticket is older is dropped.
    uint64_t writes = 0;
  };
  enum class Probe { kHit, kAbsent, kMiss };

  Shard& ShardOf(std::string_view key);
  bool Cached(const ReadOptions& options, Column column) const {
    return column == column_ && options.snapshot == nullptr;
  }
  // Looks `key` up; on a miss sets *ticket for Fill.
  Probe Lookup(Shard& shard, std::string_view key, std::string* value,
               uint64_t* ticket);
  // value == nullptr: the key is absent.
  void Fill(Shard& shard, std::string_view key, const std::string* value,
            uint64_t ticket);
  // Sets (value != nullptr or absent) or drops (drop) the entry of `key`
  // after a write. Holds shard.mu.
  void Update(Shard& shard, std::string_view key, const std::string* value,
              bool drop);
  void Insert(Shard& shard, std::string_view key, const std::string* value);
  void Erase(Shard& shard, std::list<Node>::iterator it);
  void Evict(Shard& shard);
  void DropRange(std::string_view begin, std::string_view end);
  size_t max_record() const { return shard_capacity_.load() / 8; }

  const Column column_;
  std::atomic<size_t> shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace reborn::storage
