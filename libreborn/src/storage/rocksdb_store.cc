#include "storage/rocksdb_store.h"

#include <atomic>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/options_util.h"
#include "rocksdb/write_batch.h"
#include "spdlog/spdlog.h"

namespace reborn::storage {
namespace {

constexpr const char* kColumnNames[kNumColumns] = {"default", "members",
                                                   "score_index"};

// The one place a rocksdb::Status becomes an absl::Status.
absl::Status ToStatus(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = s.ToString();
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsIOError()) return absl::UnavailableError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsBusy() || s.IsTryAgain()) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

class RocksDbStore;

// Runs Options::garbage_filter on member records during compaction. The
// filter may read the meta column (through the store) to compare versions.
// RocksDB applies compaction filters regardless of snapshots, and the filter
// judges a member by the *current* metadata: a member of an overwritten
// version is garbage now but still part of any older snapshot (an RDB export
// or full sync in progress). So nothing is dropped while a snapshot is live;
// a later compaction drops it.
//
// `store` is the factory's: a closing store clears it before it waits for
// running compactions, so from then on they keep every record instead of
// reading a store that is going away.
class GarbageCompactionFilter final : public rocksdb::CompactionFilter {
 public:
  GarbageCompactionFilter(const std::atomic<KvStore*>* store,
                          const GarbageFilter* filter, Column column,
                          const std::atomic<int>* snapshots)
      : store_(store),
        filter_(filter),
        column_(column),
        snapshots_(snapshots) {}
  bool Filter(int /*level*/, const rocksdb::Slice& key,
              const rocksdb::Slice& value, std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    if (snapshots_->load(std::memory_order_acquire) > 0) return false;
    KvStore* store = store_->load(std::memory_order_acquire);
    if (store == nullptr) return false;
    return (*filter_)(*store, column_, std::string_view(key.data(), key.size()),
                      std::string_view(value.data(), value.size()));
  }
  const char* Name() const override { return "reborn.GarbageFilter"; }

 private:
  const std::atomic<KvStore*>* store_;
  const GarbageFilter* filter_;
  Column column_;
  const std::atomic<int>* snapshots_;
};

class GarbageFilterFactory final : public rocksdb::CompactionFilterFactory {
 public:
  GarbageFilterFactory(const GarbageFilter* filter, Column column,
                       const std::atomic<int>* snapshots)
      : filter_(filter), column_(column), snapshots_(snapshots) {}
  // Filtering starts once the store is fully open.
  void set_store(KvStore* store) { store_.store(store); }
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context&) override {
    if (store_.load() == nullptr || !*filter_) return nullptr;
    return std::make_unique<GarbageCompactionFilter>(&store_, filter_, column_,
                                                     snapshots_);
  }
  const char* Name() const override { return "reborn.GarbageFilterFactory"; }

 private:
  const GarbageFilter* filter_;
  Column column_;
  const std::atomic<int>* snapshots_;
  std::atomic<KvStore*> store_{nullptr};
};

class RocksDbSnapshot final : public Snapshot {
 public:
  // `live` counts the store's open snapshots (see GarbageCompactionFilter).
  RocksDbSnapshot(rocksdb::DB* db, std::atomic<int>* live)
      : db_(db), live_(live), snapshot_(db->GetSnapshot()) {
    live_->fetch_add(1, std::memory_order_acq_rel);
  }
  ~RocksDbSnapshot() override {
    db_->ReleaseSnapshot(snapshot_);
    live_->fetch_sub(1, std::memory_order_acq_rel);
  }
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  std::atomic<int>* live_;
  const rocksdb::Snapshot* snapshot_;
};

class RocksDbIterator final : public Iterator {
 public:
  RocksDbIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                  const ReadOptions& options)
      : lower_(options.lower_bound), upper_(options.upper_bound) {
    rocksdb::ReadOptions ro;
    ro.fill_cache = options.fill_cache;
    if (options.snapshot != nullptr) {
      ro.snapshot =
          static_cast<const RocksDbSnapshot*>(options.snapshot)->get();
    }
    if (!lower_.empty()) {
      lower_slice_ = lower_;
      ro.iterate_lower_bound = &lower_slice_;
    }
    if (!upper_.empty()) {
      upper_slice_ = upper_;
      ro.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(ro, cf));
  }
  bool Valid() const override { return it_->Valid(); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  void Seek(std::string_view target) override { it_->Seek(ToSlice(target)); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override {
    rocksdb::Slice k = it_->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    rocksdb::Slice v = it_->value();
    return {v.data(), v.size()};
  }
  absl::Status status() const override { return ToStatus(it_->status()); }

 private:
  std::string lower_;
  std::string upper_;
  rocksdb::Slice lower_slice_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// Thread safety: rocksdb::DB is thread-safe; this class adds no mutable
// state after Open() except the atomic store pointer in the filter factories.
class RocksDbStore final : public KvStore {
 public:
  explicit RocksDbStore(const Options& options) : options_(options) {}
  ~RocksDbStore() override;

  absl::Status Open();
  absl::Status Get(const ReadOptions& options, Column column,
                   std::string_view key, std::string* value) override;
  std::vector<absl::Status> MultiGet(const ReadOptions& options, Column column,
                                     const std::vector<std::string>& keys,
                                     std::vector<std::string>* values) override;
  absl::Status Write(const WriteBatch& batch) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options,
                                        Column column) override {
    return std::make_unique<RocksDbIterator>(db_.get(), cf(column), options);
  }
  std::shared_ptr<const Snapshot> GetSnapshot() override {
    return std::make_shared<RocksDbSnapshot>(db_.get(), &live_snapshots_);
  }
  absl::Status Flush() override;
  absl::StatusOr<uint64_t> CollectGarbage() override;
  absl::Status SetBlockCacheCapacity(size_t bytes) override {
    block_cache_->SetCapacity(bytes);
    return absl::OkStatus();
  }
  void SetSyncWrites(bool sync) override { sync_writes_.store(sync); }
  bool HasUnflushedWrites() const override {
    return written_.load(std::memory_order_acquire) !=
           flushed_.load(std::memory_order_acquire);
  }
  absl::Status FlushWrites() override;
  uint64_t ApproximateDiskBytes() override {
    return Property("rocksdb.total-sst-files-size") +
           Property("rocksdb.size-all-mem-tables");
  }
  uint64_t ApproximateMemoryBytes() override {
    return block_cache_->GetUsage() +
           (row_cache_ ? row_cache_->GetUsage() : 0) +
           Property("rocksdb.cur-size-all-mem-tables") +
           Property("rocksdb.estimate-table-readers-mem");
  }
  void AppendStats(std::string* out) override;
  Engine engine() const override { return Engine::kRocksDb; }

 private:
  rocksdb::ColumnFamilyHandle* cf(Column c) const {
    return handles_[static_cast<int>(c)];
  }
  uint64_t Property(const std::string& name) {
    uint64_t v = 0;
    db_->GetAggregatedIntProperty(name, &v);
    return v;
  }

  Options options_;
  // Open snapshots; declared before db_ so it outlives compactions.
  std::atomic<int> live_snapshots_{0};
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::shared_ptr<rocksdb::Cache> row_cache_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  std::shared_ptr<GarbageFilterFactory> filter_factories_[kNumColumns];
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;
  std::atomic<bool> sync_writes_{false};
  // Options::manual_log_flush: writes returned, and how many of them the
  // last completed FlushWrites() covered.
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> flushed_{0};
};

RocksDbStore::~RocksDbStore() {
  if (!db_) return;
  if (absl::Status s = FlushWrites(); !s.ok()) {
    spdlog::error("rocksdb log flush at close: {}", s.ToString());
  }
  for (auto& f : filter_factories_) {
    if (f) f->set_store(nullptr);
  }
  // A compaction may be inside the garbage filter, reading through the
  // column family handles: it finishes before they go.
  rocksdb::CancelAllBackgroundWork(db_.get(), /*wait=*/true);
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  if (rocksdb::Status s = db_->Close(); !s.ok()) {
    spdlog::error("rocksdb close: {}", s.ToString());
  }
}

absl::Status RocksDbStore::Open() {
  if (options_.dir.empty()) {
    return absl::InvalidArgumentError("rocksdb needs a directory");
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", options_.dir, ": ", ec.message()));
  }
  block_cache_ = rocksdb::NewLRUCache(options_.block_cache_mb << 20);
  if (options_.row_cache_mb > 0) {
    row_cache_ = rocksdb::NewLRUCache(options_.row_cache_mb << 20);
  }
  statistics_ = rocksdb::CreateDBStatistics();
  // Tickers only (cache hit ratio): histograms cost on every operation.
  statistics_->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  db_options.statistics = statistics_;
  db_options.row_cache = row_cache_;
  db_options.max_open_files = -1;
  db_options.keep_log_file_num = 4;
  db_options.enable_pipelined_write = true;
  db_options.manual_wal_flush = options_.manual_log_flush;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = block_cache_;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.format_version = 5;
  if (options_.bloom_bits > 0) {
    table.filter_policy.reset(
        rocksdb::NewBloomFilterPolicy(options_.bloom_bits, false));
    table.whole_key_filtering = true;
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int c = 0; c < kNumColumns; ++c) {
    rocksdb::ColumnFamilyOptions cf_options;
    cf_options.write_buffer_size = options_.write_buffer_mb << 20;
    cf_options.max_write_buffer_number = 3;
    cf_options.level_compaction_dynamic_level_bytes = true;
    // A bloom filter per memtable: a key that is not in a memtable (most
    // point reads) skips its skiplist search.
    cf_options.memtable_whole_key_filtering = options_.bloom_bits > 0;
    cf_options.memtable_prefix_bloom_size_ratio =
        options_.bloom_bits > 0 ? 0.05 : 0;
    // Inserts start from the place the last insert into the same slot
    // found (every key starts `db slot`): a memtable insert is a skiplist
    // walk that misses the CPU cache at every level, and the hint skips the
    // top levels.
    cf_options.memtable_insert_with_hint_prefix_extractor.reset(
        rocksdb::NewFixedPrefixTransform(3));
    cf_options.compression = rocksdb::kLZ4Compression;
    cf_options.bottommost_compression = rocksdb::kZSTD;
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    if (c != static_cast<int>(Column::kMeta)) {
      // Members of deleted, overwritten or expired keys are dropped here.
      filter_factories_[c] = std::make_shared<GarbageFilterFactory>(
          &options_.garbage_filter, static_cast<Column>(c), &live_snapshots_);
      cf_options.compaction_filter_factory = filter_factories_[c];
    }
    descriptors.emplace_back(kColumnNames[c], cf_options);
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options_.dir, descriptors, &handles_, &raw);
  if (!s.ok() && s.IsInvalidArgument()) {
    // Compression libraries may be missing in the RocksDB build: fall back.
    for (auto& d : descriptors) {
      d.options.compression = rocksdb::kNoCompression;
      d.options.bottommost_compression = rocksdb::kDisableCompressionOption;
    }
    s = rocksdb::DB::Open(db_options, options_.dir, descriptors, &handles_,
                          &raw);
  }
  if (!s.ok()) return ToStatus(s);
  db_.reset(raw);
  sync_writes_.store(options_.sync_writes);
  for (auto& f : filter_factories_) {
    if (f) f->set_store(this);
  }
  return absl::OkStatus();
}

absl::Status RocksDbStore::Get(const ReadOptions& options, Column column,
                               std::string_view key, std::string* value) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = options.fill_cache;
  if (options.snapshot != nullptr) {
    ro.snapshot = static_cast<const RocksDbSnapshot*>(options.snapshot)->get();
  }
  rocksdb::PinnableSlice pinned;
  rocksdb::Status s = db_->Get(ro, cf(column), ToSlice(key), &pinned);
  if (!s.ok()) return ToStatus(s);
  value->assign(pinned.data(), pinned.size());
  return absl::OkStatus();
}

std::vector<absl::Status> RocksDbStore::MultiGet(
    const ReadOptions& options, Column column,
    const std::vector<std::string>& keys, std::vector<std::string>* values) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = options.fill_cache;
  if (options.snapshot != nullptr) {
    ro.snapshot = static_cast<const RocksDbSnapshot*>(options.snapshot)->get();
  }
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const std::string& k : keys) slices.emplace_back(k);
  std::vector<rocksdb::PinnableSlice> pinned(keys.size());
  std::vector<rocksdb::Status> raw(keys.size());
  db_->MultiGet(ro, cf(column), keys.size(), slices.data(), pinned.data(),
                raw.data());
  std::vector<absl::Status> out;
  out.reserve(keys.size());
  values->assign(keys.size(), std::string());
  for (size_t i = 0; i < keys.size(); ++i) {
    out.push_back(ToStatus(raw[i]));
    if (raw[i].ok()) (*values)[i].assign(pinned[i].data(), pinned[i].size());
  }
  return out;
}

absl::Status RocksDbStore::Write(const WriteBatch& batch) {
  rocksdb::WriteBatch wb;
  for (const WriteBatch::Entry& e : batch.entries()) {
    rocksdb::Status s;
    switch (e.op) {
      case WriteBatch::Op::kPut:
        s = wb.Put(cf(e.column), e.key, e.value);
        break;
      case WriteBatch::Op::kDelete:
        s = wb.Delete(cf(e.column), e.key);
        break;
      case WriteBatch::Op::kDeleteRange:
        s = wb.DeleteRange(cf(e.column), e.key, e.value);
        break;
    }
    if (!s.ok()) return ToStatus(s);
  }
  rocksdb::WriteOptions wo = write_options_;
  wo.sync = sync_writes_.load(std::memory_order_relaxed);
  rocksdb::Status s = db_->Write(wo, &wb);
  if (!s.ok()) {
    spdlog::error("rocksdb write failed: {}", s.ToString());
  } else if (options_.manual_log_flush && !wo.sync) {
    written_.fetch_add(1, std::memory_order_acq_rel);
  }
  return ToStatus(s);
}

absl::Status RocksDbStore::FlushWrites() {
  if (!options_.manual_log_flush) return absl::OkStatus();
  const uint64_t target = written_.load(std::memory_order_acquire);
  if (flushed_.load(std::memory_order_acquire) >= target) {
    return absl::OkStatus();
  }
  rocksdb::Status s = db_->FlushWAL(/*sync=*/false);
  if (!s.ok()) {
    spdlog::error("rocksdb log flush failed: {}", s.ToString());
    return ToStatus(s);
  }
  uint64_t seen = flushed_.load(std::memory_order_acquire);
  while (seen < target && !flushed_.compare_exchange_weak(
                              seen, target, std::memory_order_acq_rel)) {
  }
  return absl::OkStatus();
}

absl::Status RocksDbStore::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo, handles_);
  if (s.ok()) s = db_->FlushWAL(true);
  return ToStatus(s);
}

absl::StatusOr<uint64_t> RocksDbStore::CollectGarbage() {
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (Column c : {Column::kMeta, Column::kMembers, Column::kScoreIndex}) {
    rocksdb::Status s = db_->CompactRange(co, cf(c), nullptr, nullptr);
    if (!s.ok()) return ToStatus(s);
  }
  return statistics_->getTickerCount(rocksdb::COMPACTION_KEY_DROP_USER);
}

void RocksDbStore::AppendStats(std::string* out) {
  const uint64_t hits = statistics_->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
  const uint64_t misses =
      statistics_->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
  const double ratio =
      hits + misses == 0 ? 0.0 : static_cast<double>(hits) / (hits + misses);
  absl::StrAppend(out, "engine:rocksdb\r\n",
                  "block_cache_capacity:", block_cache_->GetCapacity(), "\r\n",
                  "block_cache_usage:", block_cache_->GetUsage(), "\r\n",
                  "block_cache_pinned_usage:", block_cache_->GetPinnedUsage(),
                  "\r\n", "block_cache_hits:", hits, "\r\n",
                  "block_cache_misses:", misses, "\r\n");
  char buf[32];
  snprintf(buf, sizeof(buf), "%.4f", ratio);
  absl::StrAppend(out, "block_cache_hit_ratio:", buf, "\r\n");
  absl::StrAppend(
      out, "row_cache_usage:", row_cache_ ? row_cache_->GetUsage() : 0, "\r\n",
      "bloom_filter_useful:",
      statistics_->getTickerCount(rocksdb::BLOOM_FILTER_USEFUL), "\r\n",
      "memtables_bytes:", Property("rocksdb.cur-size-all-mem-tables"), "\r\n",
      "immutable_memtables:", Property("rocksdb.num-immutable-mem-table"),
      "\r\n",
      "table_readers_bytes:", Property("rocksdb.estimate-table-readers-mem"),
      "\r\n", "sst_files_bytes:", Property("rocksdb.total-sst-files-size"),
      "\r\n", "live_sst_files_bytes:", Property("rocksdb.live-sst-files-size"),
      "\r\n", "pending_compaction_bytes:",
      Property("rocksdb.estimate-pending-compaction-bytes"), "\r\n",
      "running_compactions:", Property("rocksdb.num-running-compactions"),
      "\r\n", "running_flushes:", Property("rocksdb.num-running-flushes"),
      "\r\n", "estimate_keys:", Property("rocksdb.estimate-num-keys"), "\r\n",
      "compaction_dropped_records:",
      statistics_->getTickerCount(rocksdb::COMPACTION_KEY_DROP_USER), "\r\n",
      "sync_writes:", sync_writes_.load() ? 1 : 0, "\r\n");
}

}  // namespace

absl::StatusOr<std::unique_ptr<KvStore>> OpenRocksDbStore(
    const Options& options) {
  auto store = std::make_unique<RocksDbStore>(options);
  if (absl::Status s = store->Open(); !s.ok()) return s;
  return store;
}

}  // namespace reborn::storage
