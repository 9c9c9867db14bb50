#include "qdb/slots/rdb_io.h"

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "qdb/engine_core.h"
#include "qdb/function_record.h"
#include "qdb/slots/dump_restore.h"
#include "rdb/rdb_reader.h"
#include "rdb/rdb_writer.h"
#include "spdlog/spdlog.h"

namespace reborn::qdb {
namespace {

// A staged write batch is committed once it holds about this much.
constexpr size_t kBatchBytes = 4 << 20;
constexpr size_t kBatchEntries = 20000;

size_t ApproxBytes(const rdb::Value& v) {
  size_t n = v.str.size();
  for (const std::string& s : v.items) n += s.size() + 32;
  for (const auto& [m, s] : v.scores) n += 2 * (m.size() + 40);
  for (const auto& [f, x] : v.fields) n += f.size() + x.size() + 32;
  return n;
}

// Loads into the staging databases with plain Txns: nobody else reads or
// writes unmapped physical databases, so no key locks are needed, and each
// Txn keeps the staged key counts and expiry index up to date.
//
// Not thread-safe (one caller at a time, as the interface says).
// Redis' debugDelay: a negative `us` sleeps 1 us with probability 1/-us
// (shorter sleeps than one system call allows, on average).
void DebugDelay(int us) {
  if (us < 0) {
    thread_local std::minstd_rand random(std::random_device{}());
    us = random() % static_cast<uint32_t>(-static_cast<int64_t>(us)) == 0 ? 1
                                                                          : 0;
  }
  if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
}

class RdbLoadImpl : public RdbLoad {
 public:
  RdbLoadImpl(EngineCore& core, const RdbLoadOptions& options,
              std::vector<uint8_t> staging)
      : core_(core),
        options_(options),
        staging_(std::move(staging)),
        txn_(&core.keyspace()),
        reader_(MakeCallbacks(), MakeLimits(core)) {}

  ~RdbLoadImpl() override {
    if (!committed_) {
      if (absl::Status s = core_.keyspace().ClearDbs(staging_); !s.ok()) {
        spdlog::error("RDB load: dropping staged data: {}", s.ToString());
      }
    }
    core_.EndRdbLoad();
  }

  absl::Status Feed(std::string_view bytes) override {
    if (!status_.ok()) return status_;
    if (committed_)
      return status_ =
                 absl::FailedPreconditionError("RDB load already committed");
    status_ = reader_.Feed(bytes);
    if (!status_.ok()) status_ = Annotate(status_);
    return status_;
  }

  absl::Status Commit() override {
    if (!status_.ok()) return status_;
    if (committed_) {
      return absl::FailedPreconditionError("RDB load already committed");
    }
    status_ = reader_.Finish();
    if (!status_.ok()) return status_ = Annotate(status_);
    if (options_.check_functions) {
      if (absl::Status s = options_.check_functions(functions_); !s.ok()) {
        return status_ = absl::InvalidArgumentError(absl::StrCat(
                   "RDB load failed: a function library does not load: ",
                   s.message()));
      }
    }
    // The file's function libraries replace the old ones with its data.
    PutFunctionsRecord(functions_, &txn_.batch());
    if (status_ = txn_.Commit(); !status_.ok()) return status_;
    Keyspace& ks = core_.keyspace();
    std::vector<uint8_t> old(kNumDbs);
    {
      absl::MutexLock lock(&ks.layout_mu());
      uint8_t map[kNumDbs];
      for (int db = 0; db < kNumDbs; ++db) {
        old[db] = ks.Physical(db);
        map[db] = staging_[db];
      }
      if (status_ = ks.RemapAll(map); !status_.ok()) return status_;
    }
    committed_ = true;
    // The old data is unmapped now and no command can reach it. A crash
    // before this completes leaves it to Keyspace::Open to drop.
    if (absl::Status s = ks.ClearDbs(old); !s.ok()) {
      spdlog::error("RDB load: dropping the replaced data: {}", s.ToString());
    }
    return absl::OkStatus();
  }

  uint64_t keys_loaded() const override { return keys_loaded_; }
  uint64_t bytes_consumed() const override { return reader_.bytes_consumed(); }

 private:
  rdb::RdbReader::Callbacks MakeCallbacks() {
    rdb::RdbReader::Callbacks cb;
    cb.on_entry = [this](rdb::RdbEntry&& e) { return OnEntry(std::move(e)); };
    cb.on_function = [this](std::string_view code) {
      functions_.emplace_back(code);
    };
    return cb;
  }

  static rdb::Limits MakeLimits(EngineCore& core) {
    rdb::Limits limits;
    limits.max_string_bytes =
        static_cast<uint64_t>(core.options().proto_max_bulk_len);
    return limits;
  }

  absl::Status Annotate(const absl::Status& s) const {
    return absl::Status(s.code(), absl::StrCat("RDB load failed after ",
                                               reader_.bytes_consumed(),
                                               " bytes: ", s.message()));
  }

  absl::Status OnEntry(rdb::RdbEntry&& e) {
    if (e.db >= static_cast<uint64_t>(kNumDbs)) {
      return absl::DataLossError(absl::StrCat(
          "database index ", e.db, " out of range (0..", kNumDbs - 1, ")"));
    }
    int64_t expire_ms = 0;  // Metadata: 0 = none
    if (e.expire_ms >= 0) {
      if (!options_.keep_expired && e.expire_ms <= Keyspace::NowMs()) {
        ++expired_skipped_;
        return absl::OkStatus();
      }
      expire_ms = e.expire_ms == 0 ? 1 : e.expire_ms;  // 0 means "none" here
    }
    const uint8_t pdb = staging_[e.db];
    bool duplicate = !batch_keys_.insert(EncodeMetaKey(pdb, e.key)).second;
    if (!duplicate) {
      std::string raw;
      absl::Status s = core_.keyspace().store().Get(
          storage::ReadOptions{}, storage::Column::kMeta,
          EncodeMetaKey(pdb, e.key), &raw);
      if (!s.ok() && !absl::IsNotFound(s)) return s;
      duplicate = s.ok();
    }
    if (duplicate) {
      return absl::DataLossError(
          absl::StrCat("duplicate key '", e.key, "' in database ", e.db));
    }
    absl::StatusOr<Metadata> meta =
        WriteValue(core_, txn_, pdb, e.key, e.value);
    if (!meta.ok()) return meta.status();
    meta->expire_ms = expire_ms;
    txn_.PutMeta(pdb, e.key, nullptr, *meta);
    ++keys_loaded_;
    if (options_.key_load_delay_us != 0) DebugDelay(options_.key_load_delay_us);
    batch_bytes_ += e.key.size() + ApproxBytes(e.value);
    if (batch_bytes_ >= kBatchBytes || txn_.batch().size() >= kBatchEntries) {
      batch_bytes_ = 0;
      batch_keys_.clear();
      return txn_.Commit();
    }
    return absl::OkStatus();
  }

  EngineCore& core_;
  const RdbLoadOptions options_;
  const std::vector<uint8_t> staging_;  // logical db i loads into staging_[i]
  Txn txn_;
  size_t batch_bytes_ = 0;
  absl::flat_hash_set<std::string> batch_keys_;  // meta keys in txn_
  uint64_t keys_loaded_ = 0;
  uint64_t expired_skipped_ = 0;
  std::vector<std::string> functions_;  // FUNCTION2 library codes
  bool committed_ = false;
  absl::Status status_;
  rdb::RdbReader reader_;
};

// Thread safety: Write may run on any thread; keys_written is atomic.
class RdbSnapshotImpl : public RdbSnapshot {
 public:
  RdbSnapshotImpl(EngineCore& core,
                  std::shared_ptr<const storage::Snapshot> snapshot,
                  const std::vector<uint8_t>& map)
      : core_(core), snapshot_(std::move(snapshot)), map_(map) {}

  absl::Status Write(
      const Sink& sink,
      const std::vector<std::pair<std::string, std::string>>& aux) override {
    rdb::RdbWriter::Options wo;
    wo.extra_aux = aux;
    rdb::RdbWriter writer(sink, wo);
    if (absl::Status s = writer.Begin(); !s.ok()) return s;
    absl::StatusOr<std::vector<std::string>> functions =
        ReadFunctionsRecord(core_.keyspace().store(), snapshot_.get());
    if (!functions.ok()) return functions.status();
    for (const std::string& code : *functions) {
      if (absl::Status s = writer.AddFunction(code); !s.ok()) return s;
    }
    const int64_t now = Keyspace::NowMs();
    for (int db = 0; db < kNumDbs; ++db) {
      const uint8_t pdb = map_[db];
      storage::ReadOptions ro;
      ro.snapshot = snapshot_.get();
      ro.lower_bound = DbBegin(pdb);
      ro.upper_bound = DbEnd(pdb);
      ro.fill_cache = false;
      std::unique_ptr<storage::Iterator> it =
          core_.keyspace().store().NewIterator(ro, storage::Column::kMeta);
      bool selected = false;
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        uint8_t kdb;
        uint16_t slot;
        std::string_view key;
        Metadata meta;
        if (!DecodeMetaKey(it->key(), &kdb, &slot, &key) ||
            !DecodeMetadata(it->value(), &meta).ok()) {
          return absl::DataLossError("corrupt metadata record");
        }
        if (meta.Expired(now)) continue;
        absl::StatusOr<rdb::Value> value =
            ReadValue(core_, pdb, key, meta, snapshot_.get());
        if (!value.ok()) return value.status();
        if (value->empty_collection()) continue;
        if (!selected) {
          selected = true;
          if (absl::Status s = writer.SelectDb(db); !s.ok()) return s;
        }
        absl::Status s =
            writer.Add(key, *value, meta.expire_ms != 0 ? meta.expire_ms : -1);
        if (!s.ok()) return s;
        keys_written_.fetch_add(1, std::memory_order_relaxed);
      }
      if (absl::Status s = it->status(); !s.ok()) return s;
    }
    return writer.Finish();
  }

  uint64_t keys_written() const override { return keys_written_.load(); }

 private:
  EngineCore& core_;
  const std::shared_ptr<const storage::Snapshot> snapshot_;
  const std::vector<uint8_t> map_;  // logical -> physical when taken
  std::atomic<uint64_t> keys_written_{0};
};

}  // namespace

absl::StatusOr<std::unique_ptr<RdbLoad>> BeginRdbLoad(
    EngineCore& core, const RdbLoadOptions& options) {
  if (!core.StartRdbLoad()) {
    return absl::FailedPreconditionError("an RDB load is already in progress");
  }
  Keyspace& ks = core.keyspace();
  std::vector<uint8_t> staging;
  {
    absl::ReaderMutexLock lock(&ks.layout_mu());
    staging = ks.UnmappedDbs();
  }
  // Leftovers of an earlier load that could not be dropped.
  absl::Status s = ks.ClearDbs(staging);
  if (!s.ok() || staging.size() < static_cast<size_t>(kNumDbs)) {
    core.EndRdbLoad();
    if (!s.ok()) return s;
    return absl::InternalError("no free physical databases to stage in");
  }
  staging.resize(kNumDbs);
  return std::unique_ptr<RdbLoad>(
      new RdbLoadImpl(core, options, std::move(staging)));
}

absl::StatusOr<std::unique_ptr<RdbSnapshot>> TakeRdbSnapshot(EngineCore& core) {
  Keyspace& ks = core.keyspace();
  // The map and the storage snapshot are taken under one shared hold of
  // layout_mu, so no SWAPDB, FLUSHALL or load commit falls between them.
  absl::ReaderMutexLock lock(&ks.layout_mu());
  std::vector<uint8_t> map(kNumDbs);
  for (int db = 0; db < kNumDbs; ++db) map[db] = ks.Physical(db);
  std::shared_ptr<const storage::Snapshot> snapshot = ks.store().GetSnapshot();
  if (!snapshot) return absl::InternalError("storage snapshot failed");
  return std::unique_ptr<RdbSnapshot>(
      new RdbSnapshotImpl(core, std::move(snapshot), map));
}

}  // namespace reborn::qdb
