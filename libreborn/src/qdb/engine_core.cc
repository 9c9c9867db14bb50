#include "qdb/engine_core.h"

#include "qdb/commands/cmd_streams.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/commands/sort.h"
#include "qdb/engine_commands.h"
#include "spdlog/spdlog.h"
#include "storage/kv_store.h"

namespace reborn::qdb {

EngineCore::EngineCore(const QdbOptions& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<EngineCore>> EngineCore::Open(
    const QdbOptions& options) {
  return OpenForTest(options, nullptr);
}

absl::StatusOr<std::unique_ptr<EngineCore>> EngineCore::OpenForTest(
    const QdbOptions& options, const StoreWrapper& wrap) {
  // An enum value outside the build (leveldb without REBORN_WITH_LEVELDB)
  // gets the same refusal as its name would.
  absl::StatusOr<StorageEngine> kind =
      ParseStorageEngine(StorageEngineName(options.engine));
  if (!kind.ok()) return kind.status();
  if (options.proto_max_bulk_len < 1) {
    return absl::InvalidArgumentError("proto_max_bulk_len must be positive");
  }
  storage::Options so;
  so.engine = *kind;
  so.dir = options.dir;
  so.block_cache_mb = options.block_cache_mb;
  so.row_cache_mb = options.row_cache_mb;
  so.write_buffer_mb = options.write_buffer_mb;
  so.hot_cache_mb = options.hot_cache_mb;
  so.sync_writes = options.sync_writes;
  so.manual_log_flush = options.group_commit;
  so.bloom_bits = options.bloom_bits;
  so.garbage_filter = &Keyspace::IsGarbage;
  absl::StatusOr<std::unique_ptr<storage::KvStore>> store =
      storage::OpenKvStore(so);
  if (!store.ok()) return store.status();
  if (wrap) *store = wrap(std::move(*store));

  std::unique_ptr<EngineCore> core(new EngineCore(options));
  core->start_time_ms_ = Keyspace::NowMs();
  absl::StatusOr<std::unique_ptr<Keyspace>> ks =
      Keyspace::Open(std::move(*store));
  if (!ks.ok()) return ks.status();
  core->keyspace_ = std::move(*ks);
  core->strings_ =
      std::make_unique<Strings>(*core->keyspace_, options.proto_max_bulk_len);
  core->keys_ = std::make_unique<KeyOps>(*core->keyspace_);
  core->hashes_ = std::make_unique<Hashes>(*core->keyspace_);
  core->sets_ = std::make_unique<Sets>(*core->keyspace_);
  core->lists_ = std::make_unique<Lists>(*core->keyspace_);
  core->zsets_ = std::make_unique<ZSets>(*core->keyspace_);
  core->hyperloglogs_ = std::make_unique<HyperLogLogs>(
      *core->keyspace_, options.hll_sparse_max_bytes);
  core->streams_ = std::make_unique<Streams>(*core->keyspace_);
  core->slots_ = std::make_unique<Slots>(
      *core, options.migrate_target_password,
      ChunkLimits{options.migrate_chunk_members, options.migrate_chunk_bytes});
  // No chunked transfer survives a restart: drop what was staged.
  absl::StatusOr<uint64_t> dropped = core->slots_->staging().DropAll();
  if (!dropped.ok()) return dropped.status();
  if (*dropped > 0) {
    spdlog::info("dropped {} unfinished chunked key transfers", *dropped);
  }

  absl::Status status;
  RegisterAllCommands(*core, core->table_, &status);
  if (!status.ok()) return status;
  if (options.expiry_hz > 0) {
    core->background_ = std::thread([c = core.get()] { c->BackgroundLoop(); });
  }
  return core;
}

void RegisterAllCommands(EngineCore& core, CommandTable& table,
                         absl::Status* status) {
  RegisterStringCommands(core, table, status);
  RegisterKeyCommands(core, table, status);
  RegisterHashCommands(core, table, status);
  RegisterSetCommands(core, table, status);
  RegisterDumpCommands(core, table, status);
  RegisterMigrateCommand(core, table, status);
  RegisterListCommands(core, table, status);
  RegisterZSetCommands(core, table, status);
  RegisterHllCommands(core, table, status);
  RegisterGeoCommands(core, table, status);
  RegisterStreamCommands(core, table, status);
  RegisterStreamGroupCommands(core, table, status);
  RegisterSlotCommands(core, table, status);
  RegisterSortCommands(core, table, status);
}

EngineCore::~EngineCore() {
  if (absl::Status s = Shutdown(); !s.ok()) {
    spdlog::error("qdb shutdown: {}", s.ToString());
  }
}

absl::Status EngineCore::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
    stop_ = true;
  }
  if (background_.joinable()) background_.join();
  return keyspace_ ? keyspace_->store().Flush() : absl::OkStatus();
}

absl::Status EngineCore::SetBlockCacheMb(size_t mb) {
  absl::Status s = keyspace_->store().SetBlockCacheCapacity(mb << 20);
  if (s.ok()) options_.block_cache_mb = mb;
  return s;
}

absl::Status EngineCore::SetHotCacheMb(size_t mb) {
  absl::Status s = keyspace_->store().SetHotCacheCapacity(mb << 20);
  if (s.ok()) options_.hot_cache_mb = mb;
  return s;
}

void EngineCore::BackgroundLoop() {
  const absl::Duration period =
      absl::Milliseconds(1000 / std::max(1, options_.expiry_hz));
  const absl::Duration budget =
      std::max(absl::Milliseconds(1), options_.expiry_cycle_budget);
  absl::Time next_gc = absl::Now() + absl::Seconds(10);
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.AwaitWithTimeout(absl::Condition(&stop_), period);
    if (stop_) return;
    mu_.Unlock();
    absl::StatusOr<uint64_t> expired = keyspace_->ExpireCycle(budget);
    if (!expired.ok()) {
      spdlog::error("active expiry: {}", expired.status().ToString());
    }
    expiry_cycles_.fetch_add(1);
    if (compact_requested_.load()) {
      compacting_.store(true);
      compact_requested_.store(false);
      absl::Time begin = absl::Now();
      absl::StatusOr<uint64_t> dropped = keyspace_->MaybeCollectGarbage(true);
      if (dropped.ok()) {
        spdlog::info("COMPACT done in {} ms",
                     absl::ToInt64Milliseconds(absl::Now() - begin));
      } else {
        spdlog::error("COMPACT: {}", dropped.status().ToString());
      }
      compactions_.fetch_add(1);
      compacting_.store(false);
    }
    if (absl::Now() >= next_gc) {
      next_gc = absl::Now() + absl::Seconds(10);
      absl::StatusOr<uint64_t> gc = keyspace_->MaybeCollectGarbage(false);
      if (!gc.ok()) spdlog::error("garbage sweep: {}", gc.status().ToString());
    }
    mu_.Lock();
  }
}

}  // namespace reborn::qdb
