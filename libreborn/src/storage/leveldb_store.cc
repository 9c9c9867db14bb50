#include "storage/leveldb_store.h"

#include <atomic>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "leveldb/cache.h"
#include "leveldb/db.h"
#include "leveldb/filter_policy.h"
#include "leveldb/write_batch.h"
#include "spdlog/spdlog.h"

namespace reborn::storage {
namespace {

// The one place a leveldb::Status becomes an absl::Status.
absl::Status ToStatus(const leveldb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = s.ToString();
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsIOError()) return absl::UnavailableError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  return absl::InternalError(msg);
}

// Columns are emulated by a one-byte prefix.
std::string Prefixed(Column c, std::string_view key) {
  std::string out;
  out.reserve(key.size() + 1);
  out.push_back(static_cast<char>(c));
  out.append(key);
  return out;
}
// The end of column c's range when `upper` is empty.
std::string ColumnEnd(Column c) {
  return std::string(1, static_cast<char>(static_cast<int>(c) + 1));
}

class LevelDbSnapshot final : public Snapshot {
 public:
  explicit LevelDbSnapshot(leveldb::DB* db)
      : db_(db), snapshot_(db->GetSnapshot()) {}
  ~LevelDbSnapshot() override { db_->ReleaseSnapshot(snapshot_); }
  const leveldb::Snapshot* get() const { return snapshot_; }

 private:
  leveldb::DB* db_;
  const leveldb::Snapshot* snapshot_;
};

leveldb::ReadOptions ToLevelDb(const ReadOptions& options) {
  leveldb::ReadOptions ro;
  ro.fill_cache = options.fill_cache;
  if (options.snapshot != nullptr) {
    ro.snapshot = static_cast<const LevelDbSnapshot*>(options.snapshot)->get();
  }
  return ro;
}

// Enforces the column prefix and the bounds on top of a leveldb iterator.
class LevelDbIterator final : public Iterator {
 public:
  LevelDbIterator(leveldb::DB* db, const ReadOptions& options, Column column)
      : lower_(Prefixed(column, options.lower_bound)),
        upper_(options.upper_bound.empty()
                   ? ColumnEnd(column)
                   : Prefixed(column, options.upper_bound)),
        column_(column),
        it_(db->NewIterator(ToLevelDb(options))) {}

  bool Valid() const override {
    if (!it_->Valid()) return false;
    leveldb::Slice k = it_->key();
    std::string_view key(k.data(), k.size());
    return key >= std::string_view(lower_) && key < std::string_view(upper_);
  }
  void SeekToFirst() override { it_->Seek(lower_); }
  void SeekToLast() override {
    it_->Seek(upper_);
    if (it_->Valid()) {
      it_->Prev();
    } else {
      it_->SeekToLast();
    }
  }
  void Seek(std::string_view target) override {
    std::string t = Prefixed(column_, target);
    it_->Seek(t < lower_ ? lower_ : t);
  }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override {
    leveldb::Slice k = it_->key();
    return {k.data() + 1, k.size() - 1};
  }
  std::string_view value() const override {
    leveldb::Slice v = it_->value();
    return {v.data(), v.size()};
  }
  absl::Status status() const override { return ToStatus(it_->status()); }

 private:
  std::string lower_;
  std::string upper_;
  Column column_;
  std::unique_ptr<leveldb::Iterator> it_;
};

// Thread safety: leveldb::DB is thread-safe and this class has no mutable
// state of its own after Open(). A DeleteRange is expanded into point
// deletes when the batch is written; callers serialise writers of the range
// (QDB holds its keyspace lock exclusively for FLUSHDB).
class LevelDbStore final : public KvStore {
 public:
  explicit LevelDbStore(const Options& options) : options_(options) {}
  ~LevelDbStore() override = default;

  absl::Status Open() {
    if (options_.dir.empty()) {
      return absl::InvalidArgumentError("leveldb needs a directory");
    }
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot create ", options_.dir, ": ", ec.message()));
    }
    cache_.reset(leveldb::NewLRUCache(options_.block_cache_mb << 20));
    if (options_.bloom_bits > 0) {
      filter_.reset(leveldb::NewBloomFilterPolicy(options_.bloom_bits));
    }
    leveldb::Options o;
    o.create_if_missing = true;
    o.block_cache = cache_.get();
    o.filter_policy = filter_.get();
    o.write_buffer_size = options_.write_buffer_mb << 20;
    o.max_open_files = 10000;
    leveldb::DB* raw = nullptr;
    leveldb::Status s = leveldb::DB::Open(o, options_.dir, &raw);
    if (!s.ok()) return ToStatus(s);
    db_.reset(raw);
    sync_writes_.store(options_.sync_writes);
    return absl::OkStatus();
  }

  absl::Status Get(const ReadOptions& options, Column column,
                   std::string_view key, std::string* value) override {
    return ToStatus(db_->Get(ToLevelDb(options), Prefixed(column, key), value));
  }
  absl::Status Write(const WriteBatch& batch) override {
    leveldb::WriteBatch wb;
    for (const WriteBatch::Entry& e : batch.entries()) {
      switch (e.op) {
        case WriteBatch::Op::kPut:
          wb.Put(Prefixed(e.column, e.key), e.value);
          break;
        case WriteBatch::Op::kDelete:
          wb.Delete(Prefixed(e.column, e.key));
          break;
        case WriteBatch::Op::kDeleteRange: {
          ReadOptions ro;
          ro.lower_bound = e.key;
          ro.upper_bound = e.value;
          ro.fill_cache = false;
          LevelDbIterator it(db_.get(), ro, e.column);
          for (it.SeekToFirst(); it.Valid(); it.Next()) {
            wb.Delete(Prefixed(e.column, it.key()));
          }
          if (absl::Status s = it.status(); !s.ok()) return s;
          break;
        }
      }
    }
    leveldb::WriteOptions wo = write_options_;
    wo.sync = sync_writes_.load(std::memory_order_relaxed);
    leveldb::Status s = db_->Write(wo, &wb);
    if (!s.ok()) spdlog::error("leveldb write failed: {}", s.ToString());
    return ToStatus(s);
  }
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options,
                                        Column column) override {
    return std::make_unique<LevelDbIterator>(db_.get(), options, column);
  }
  std::shared_ptr<const Snapshot> GetSnapshot() override {
    return std::make_shared<LevelDbSnapshot>(db_.get());
  }
  absl::Status Flush() override {
    // LevelDB has no explicit flush; a synced empty write persists the log.
    leveldb::WriteOptions wo;
    wo.sync = true;
    leveldb::WriteBatch empty;
    return ToStatus(db_->Write(wo, &empty));
  }
  absl::StatusOr<uint64_t> CollectGarbage() override {
    absl::StatusOr<uint64_t> dropped =
        SweepGarbage(*this, options_.garbage_filter);
    db_->CompactRange(nullptr, nullptr);
    return dropped;
  }
  void SetSyncWrites(bool sync) override { sync_writes_.store(sync); }
  absl::Status SetBlockCacheCapacity(size_t) override {
    return absl::UnimplementedError(
        "leveldb cannot resize its block cache at runtime");
  }
  uint64_t ApproximateDiskBytes() override {
    leveldb::Range r("", "\xff");
    uint64_t size = 0;
    db_->GetApproximateSizes(&r, 1, &size);
    return size;
  }
  uint64_t ApproximateMemoryBytes() override {
    std::string v;
    if (!db_->GetProperty("leveldb.approximate-memory-usage", &v)) return 0;
    return std::strtoull(v.c_str(), nullptr, 10);
  }
  void AppendStats(std::string* out) override {
    absl::StrAppend(out, "engine:leveldb\r\n",
                    "block_cache_capacity:", options_.block_cache_mb << 20,
                    "\r\n", "block_cache_usage:", cache_->TotalCharge(), "\r\n",
                    "approximate_memory_bytes:", ApproximateMemoryBytes(),
                    "\r\n", "sst_files_bytes:", ApproximateDiskBytes(), "\r\n",
                    "sync_writes:", sync_writes_.load() ? 1 : 0, "\r\n");
  }
  Engine engine() const override { return Engine::kLevelDb; }

 private:
  Options options_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;  // destroyed before cache_ and filter_
  leveldb::WriteOptions write_options_;
  std::atomic<bool> sync_writes_{false};
};

}  // namespace

absl::StatusOr<std::unique_ptr<KvStore>> OpenLevelDbStore(
    const Options& options) {
  auto store = std::make_unique<LevelDbStore>(options);
  if (absl::Status s = store->Open(); !s.ok()) return s;
  return store;
}

}  // namespace reborn::storage
