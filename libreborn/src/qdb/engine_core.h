#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "command/command_table.h"
#include "qdb/keyspace.h"
#include "qdb/slots/key_move.h"
#include "qdb/types/hashes.h"
#include "qdb/types/hyperloglog.h"
#include "qdb/types/keys.h"
#include "qdb/types/lists.h"
#include "qdb/types/sets.h"
#include "qdb/types/streams.h"
#include "qdb/types/strings.h"
#include "qdb/types/zsets.h"
#include "reborn/qdb_engine.h"

namespace reborn::qdb {

// Owns what a QdbEngine is made of: the keyspace over its store, the data
// types, the engine's own command table (for QdbEngine::Execute) and the
// background expiry thread.
//
// Synchronisation: the data members are set in Open() and then only read,
// except `stop_` (guarded by mu_, which the background thread waits on) and
// the atomic counters. The data types synchronise themselves (see Keyspace).
class EngineCore {
 public:
  static absl::StatusOr<std::unique_ptr<EngineCore>> Open(
      const QdbOptions& options);
  // Like Open(), with the store passed through `wrap` first (tests inject
  // faults this way).
  using StoreWrapper = std::function<std::unique_ptr<storage::KvStore>(
      std::unique_ptr<storage::KvStore>)>;
  static absl::StatusOr<std::unique_ptr<EngineCore>> OpenForTest(
      const QdbOptions& options, const StoreWrapper& wrap);
  ~EngineCore();

  Keyspace& keyspace() { return *keyspace_; }
  Strings& strings() { return *strings_; }
  KeyOps& keys() { return *keys_; }
  Hashes& hashes() { return *hashes_; }
  Sets& sets() { return *sets_; }
  Lists& lists() { return *lists_; }
  ZSets& zsets() { return *zsets_; }
  HyperLogLogs& hyperloglogs() { return *hyperloglogs_; }
  Streams& streams() { return *streams_; }
  Slots& slots() { return *slots_; }
  CommandTable& table() { return table_; }
  const QdbOptions& options() const { return options_; }
  int64_t start_time_ms() const { return start_time_ms_; }
  uint64_t expiry_cycles() const { return expiry_cycles_.load(); }

  // The one-RDB-load-at-a-time flag: StartRdbLoad() is false while a load
  // is open; EndRdbLoad() releases it.
  bool StartRdbLoad() {
    bool expected = false;
    return rdb_load_open_.compare_exchange_strong(expected, true);
  }
  void EndRdbLoad() { rdb_load_open_.store(false); }

  // COMPACT: asks the background thread for a full compaction, which drops
  // the members of deleted and overwritten keys and gives their disk space
  // back. False when one is already pending or running.
  bool RequestCompaction() {
    if (compacting_.load()) return false;
    return !compact_requested_.exchange(true);
  }
  bool compacting() const {
    return compact_requested_.load() || compacting_.load();
  }
  uint64_t compactions() const { return compactions_.load(); }

  // Stops the background thread and flushes the store. Idempotent.
  absl::Status Shutdown();
  absl::Status SetBlockCacheMb(size_t mb);
  absl::Status SetHotCacheMb(size_t mb);

  EncodingLimits encoding_limits() {
    absl::MutexLock lock(&limits_mu_);
    return encoding_limits_;
  }
  void set_encoding_limits(const EncodingLimits& limits) {
    absl::MutexLock lock(&limits_mu_);
    encoding_limits_ = limits;
    if (sets_) sets_->set_max_intset_entries(limits.set_max_intset_entries);
  }

 private:
  explicit EngineCore(const QdbOptions& options);
  void BackgroundLoop();

  QdbOptions options_;
  int64_t start_time_ms_ = 0;
  std::unique_ptr<Keyspace> keyspace_;
  std::unique_ptr<Strings> strings_;
  std::unique_ptr<KeyOps> keys_;
  std::unique_ptr<Hashes> hashes_;
  std::unique_ptr<Sets> sets_;
  std::unique_ptr<Lists> lists_;
  std::unique_ptr<ZSets> zsets_;
  std::unique_ptr<HyperLogLogs> hyperloglogs_;
  std::unique_ptr<Streams> streams_;
  std::unique_ptr<Slots> slots_;
  CommandTable table_;
  std::atomic<uint64_t> expiry_cycles_{0};
  std::atomic<bool> rdb_load_open_{false};
  std::atomic<bool> compact_requested_{false};
  std::atomic<bool> compacting_{false};
  std::atomic<uint64_t> compactions_{0};

  absl::Mutex limits_mu_;
  EncodingLimits encoding_limits_ ABSL_GUARDED_BY(limits_mu_);

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::thread background_;
};

}  // namespace reborn::qdb
