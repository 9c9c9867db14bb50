#include "storage/kv_store.h"

#include "storage/cached_store.h"
#if REBORN_WITH_LEVELDB
#include "storage/leveldb_store.h"
#endif
#include "storage/memory_store.h"
#include "storage/rocksdb_store.h"

namespace reborn::storage {

std::vector<absl::Status> KvStore::MultiGet(
    const ReadOptions& options, Column column,
    const std::vector<std::string>& keys, std::vector<std::string>* values) {
  std::vector<absl::Status> statuses;
  statuses.reserve(keys.size());
  values->assign(keys.size(), std::string());
  for (size_t i = 0; i < keys.size(); ++i) {
    statuses.push_back(Get(options, column, keys[i], &(*values)[i]));
  }
  return statuses;
}

absl::StatusOr<std::unique_ptr<KvStore>> OpenKvStore(const Options& options) {
  absl::StatusOr<std::unique_ptr<KvStore>> store;
  switch (options.engine) {
    case Engine::kRocksDb:
      store = OpenRocksDbStore(options);
      break;
    case Engine::kLevelDb:
#if REBORN_WITH_LEVELDB
      store = OpenLevelDbStore(options);
      break;
#else
      return absl::FailedPreconditionError(kNoLevelDb);
#endif
    case Engine::kMemory:
      return OpenMemoryStore(options);
    default:
      return absl::InvalidArgumentError("unknown storage engine");
  }
  if (!store.ok()) return store;
  return std::make_unique<CachedStore>(std::move(*store), Column::kMeta,
                                       options.hot_cache_mb << 20);
}

absl::StatusOr<uint64_t> SweepGarbage(KvStore& store,
                                      const GarbageFilter& filter) {
  if (!filter) return 0;
  constexpr size_t kBatchSize = 1000;
  uint64_t dropped = 0;
  // The meta column is never garbage-collected by key version; only members
  // and the score index are.
  for (Column column : {Column::kMembers, Column::kScoreIndex}) {
    std::unique_ptr<Iterator> it = store.NewIterator(ReadOptions{}, column);
    WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (filter(store, column, it->key(), it->value())) {
        batch.Delete(column, it->key());
        ++dropped;
        if (batch.size() >= kBatchSize) {
          if (absl::Status s = store.Write(batch); !s.ok()) return s;
          batch.Clear();
        }
      }
    }
    if (absl::Status s = it->status(); !s.ok()) return s;
    if (!batch.empty()) {
      if (absl::Status s = store.Write(batch); !s.ok()) return s;
    }
  }
  return dropped;
}

}  // namespace reborn::storage
