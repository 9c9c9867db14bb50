#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reborn/storage_engine.h"

namespace reborn::storage {

// The column families of the QDB key encoding (docs/encoding.md). Backends
// without column families (LevelDB, memory) keep one key range per column.
enum class Column : uint8_t {
  kMeta = 0,        // db slot key -> metadata (+ inline string value)
  kMembers = 1,     // db slot keylen key version member -> value
  kScoreIndex = 2,  // db slot keylen key version score member -> ""
};
inline constexpr int kNumColumns = 3;

using Engine = ::reborn::StorageEngine;

// A consistent read view. Release by dropping the last reference.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
};

// Backend-neutral batch of writes, applied atomically by KvStore::Write().
class WriteBatch {
 public:
  enum class Op : uint8_t { kPut, kDelete, kDeleteRange };
  struct Entry {
    Op op;
    Column column;
    std::string key;    // begin key for kDeleteRange
    std::string value;  // end key (exclusive) for kDeleteRange
  };

  void Put(Column c, std::string_view key, std::string_view value) {
    entries_.push_back({Op::kPut, c, std::string(key), std::string(value)});
  }
  void Delete(Column c, std::string_view key) {
    entries_.push_back({Op::kDelete, c, std::string(key), {}});
  }
  // Deletes every key in [begin, end).
  void DeleteRange(Column c, std::string_view begin, std::string_view end) {
    entries_.push_back(
        {Op::kDeleteRange, c, std::string(begin), std::string(end)});
  }
  void Clear() { entries_.clear(); }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

struct ReadOptions {
  const Snapshot* snapshot = nullptr;  // nullptr = latest
  // Iterators only: [lower_bound, upper_bound); empty = unbounded.
  std::string lower_bound;
  std::string upper_bound;
  bool fill_cache = true;
};

// A forward/backward iterator over one column within the bounds given at
// creation. Status() reports an I/O error that ended the iteration early.
class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual void Seek(std::string_view target) = 0;  // first key >= target
  virtual void Next() = 0;
  virtual void Prev() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual absl::Status status() const = 0;
};

class KvStore;

// Decides during compaction (RocksDB) or background sweeps (other backends)
// whether a record is garbage, for example a member of a key whose version
// changed. May read the store (latest view). Must be thread-safe.
using GarbageFilter =
    std::function<bool(KvStore& store, Column column, std::string_view key,
                       std::string_view value)>;

struct Options {
  Engine engine = Engine::kRocksDb;
  std::string dir;  // unused by kMemory
  size_t block_cache_mb = 256;
  size_t row_cache_mb = 0;  // 0 = off
  // Small on purpose: a memtable insert walks a skiplist that misses the
  // CPU cache at every level, and a memtable near the L2 size makes SET
  // 1.4x faster than a 64 MiB one (docs/qdb-engine.md).
  size_t write_buffer_mb = 8;
  // The hot metadata records in memory in front of the store (CachedStore),
  // resizable at runtime; 0 keeps nothing. Not for kMemory, which is all
  // memory already.
  size_t hot_cache_mb = 0;
  bool sync_writes = false;
  // Group commit: a write leaves its log record in the process until
  // FlushWrites(), which the caller runs before it acknowledges writes (one
  // log write for many commands). Off: every Write() is in the log file
  // (the OS page cache) when it returns. RocksDB only.
  bool manual_log_flush = false;
  int bloom_bits = 10;  // 0 = no bloom filters
  GarbageFilter garbage_filter;
};

// A small ordered key-value interface over RocksDB, LevelDB or memory.
//
// Thread safety: every method may be called concurrently from any thread.
// Reads see a consistent snapshot per call; Write() is atomic.
class KvStore {
 public:
  virtual ~KvStore() = default;

  // OK and *value set when found; NotFound when absent; other errors are I/O.
  virtual absl::Status Get(const ReadOptions& options, Column column,
                           std::string_view key, std::string* value) = 0;
  // One status per key, same meaning as Get().
  virtual std::vector<absl::Status> MultiGet(
      const ReadOptions& options, Column column,
      const std::vector<std::string>& keys, std::vector<std::string>* values);
  virtual absl::Status Write(const WriteBatch& batch) = 0;
  virtual std::unique_ptr<Iterator> NewIterator(const ReadOptions& options,
                                                Column column) = 0;
  virtual std::shared_ptr<const Snapshot> GetSnapshot() = 0;

  // Flushes memtables to disk (shutdown, SAVE). No-op in memory.
  virtual absl::Status Flush() = 0;
  // Runs the garbage filter over the data (compaction for RocksDB, a sweep
  // elsewhere). Returns the number of records dropped when known.
  virtual absl::StatusOr<uint64_t> CollectGarbage() = 0;
  // Resizes the shared block cache (CONFIG SET). Unimplemented if none.
  virtual absl::Status SetBlockCacheCapacity(size_t bytes) = 0;
  // Resizes the hot cache (Options::hot_cache_mb). OK and nothing to do for
  // a store opened without one.
  virtual absl::Status SetHotCacheCapacity(size_t /*bytes*/) {
    return absl::OkStatus();
  }
  // With Options::manual_log_flush: whether writes that returned are not yet
  // in the log file, and the flush that puts them there. A write that
  // returned before FlushWrites() began is covered when it returns.
  virtual bool HasUnflushedWrites() const { return false; }
  virtual absl::Status FlushWrites() { return absl::OkStatus(); }
  // fsync every write batch or not (CONFIG SET sync-writes), for the
  // writes that start after the call. A no-op without a disk.
  virtual void SetSyncWrites(bool sync) = 0;
  // Approximate bytes on disk and in memory (INFO memory / persistence).
  virtual uint64_t ApproximateDiskBytes() = 0;
  virtual uint64_t ApproximateMemoryBytes() = 0;
  // "name:value\r\n" lines for INFO's `rocksdb` section (backend specific).
  virtual void AppendStats(std::string* out) = 0;
  virtual Engine engine() const = 0;
};

// Opens (creating if needed) a store of the kind in options.engine.
absl::StatusOr<std::unique_ptr<KvStore>> OpenKvStore(const Options& options);

// Runs the garbage filter over every column of `store` through its iterator
// and deletes what it flags, in batches. For backends without compaction
// filters.
absl::StatusOr<uint64_t> SweepGarbage(KvStore& store,
                                      const GarbageFilter& filter);

}  // namespace reborn::storage
