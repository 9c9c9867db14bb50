#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "qdb/access_clock.h"
#include "qdb/encoding.h"
#include "qdb/key_locks.h"
#include "storage/kv_store.h"

namespace reborn::qdb {

class Keyspace;

// One command's writes: an atomic write batch plus the bookkeeping (key
// counts, expiry index, stats) that is applied only once the batch commits.
// Used by one thread; the caller holds the key locks of every key it writes.
class Txn {
 public:
  explicit Txn(Keyspace* keyspace) : keyspace_(keyspace) {}
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  storage::WriteBatch& batch() { return batch_; }
  // Stores `meta` for (db, key). `old` is the live metadata LookupForWrite()
  // returned (nullptr when the key did not exist).
  void PutMeta(uint8_t db, std::string_view key, const Metadata* old,
               const Metadata& meta);
  // Deletes a live key (its members become garbage through the version).
  void DeleteKey(uint8_t db, std::string_view key, const Metadata& old);
  // Writes the batch; on success applies the bookkeeping.
  [[nodiscard]] absl::Status Commit();

 private:
  friend class Keyspace;
  struct IndexOp {
    uint8_t db;
    int64_t old_expire;  // 0 = none
    int64_t new_expire;  // 0 = none
    std::string key;
  };
  void Track(uint8_t db, std::string_view key, const Metadata* old,
             const Metadata* now);

  Keyspace* keyspace_;
  storage::WriteBatch batch_;
  std::vector<IndexOp> index_ops_;
  int64_t key_deltas_[kNumPhysicalDbs] = {};
  // (physical db * kSlotCount + slot, change of the slot's stored keys).
  std::vector<std::pair<uint32_t, int>> slot_deltas_;
  uint64_t expired_ = 0;
  // Expired records deleted in this batch, for the expiry listener.
  std::vector<std::pair<uint8_t, std::string>> expired_names_;
  uint64_t garbage_ = 0;
};

// The databases of one QDB store over a KvStore: metadata lookups with lazy
// expiry, key counts, the expiry index, SCAN/KEYS/RANDOMKEY, FLUSHDB and the
// SWAPDB map. Data-type code (types/strings.cc, hashes.cc, ...) builds
// on Lookup/LookupForWrite and Txn.
//
// Synchronisation:
//  - layout_mu() guards the logical-to-physical database map. Every command
//    holds it shared for its whole run; FLUSHDB, FLUSHALL and SWAPDB hold it
//    exclusively, so they never overlap another command.
//  - locks() are striped key locks; a command that reads and then writes a
//    key holds that key's stripe from LookupForWrite() to Commit(). Plain
//    reads take no key lock: a metadata record is read atomically.
//  - expire_mu_ guards the expiry index; key counts and stats are atomics.
//    Both are changed only by Txn::Commit (and FLUSHDB), after the batch is
//    durable, by the thread holding the affected keys' locks.
//  - cursor_mu_ guards the SCAN cursor table.
//  - listener_mu_ guards the expiry listener; active_expiry_ is atomic.
//
// RDB loads are staged in the physical databases no logical database maps
// to (UnmappedDbs), written with plain Txns (so their key counts and expiry
// index build up as they load) and switched in by RemapAll.
class Keyspace {
 public:
  static absl::StatusOr<std::unique_ptr<Keyspace>> Open(
      std::unique_ptr<storage::KvStore> store);
  ~Keyspace();

  // The garbage filter to install in storage::Options: members of keys that
  // are gone, expired, or of another version.
  static bool IsGarbage(storage::KvStore& store, storage::Column column,
                        std::string_view key, std::string_view value);

  storage::KvStore& store() { return *store_; }
  KeyLocks& locks() { return locks_; }
  AccessClock& clock() { return clock_; }
  absl::Mutex& layout_mu() ABSL_LOCK_RETURNED(layout_mu_) { return layout_mu_; }
  // Physical database of logical database `db` (0..15).
  uint8_t Physical(int db) const ABSL_SHARED_LOCKS_REQUIRED(layout_mu_) {
    return db_map_[db];
  }

  static int64_t NowMs();
  // A new key version, greater than any handed out before (also across
  // restarts, as it follows the clock in microseconds).
  uint64_t NextVersion();

  // Live metadata of (db, key), or nullopt when absent or expired.
  // `access` makes it an access as redis-server's lookupKey counts one: a
  // keyspace hit or miss and a touch of the access clock. TYPE, EXISTS, TTL
  // and OBJECT look without it (Redis' LOOKUP_NOTOUCH).
  absl::StatusOr<std::optional<Metadata>> Lookup(uint8_t db,
                                                 std::string_view key,
                                                 bool access = true);
  // Lookup() of several keys with one multi-get; they always count as hits
  // or misses, and are touched when `touch`.
  absl::StatusOr<std::vector<std::optional<Metadata>>> MultiLookup(
      uint8_t db, const std::vector<std::string>& keys, bool touch = true);
  // For writers holding the key's lock: like Lookup(), and an expired record
  // found on the way is deleted in `txn`. Writes touch the key.
  absl::StatusOr<std::optional<Metadata>> LookupForWrite(Txn& txn, uint8_t db,
                                                         std::string_view key);
  // Lookup() / LookupForWrite() of a key that must hold `type`: a key of
  // another type is WRONGTYPE, an absent one nullopt.
  absl::StatusOr<std::optional<Metadata>> LookupOfType(uint8_t db,
                                                       std::string_view key,
                                                       DataType type);
  absl::StatusOr<std::optional<Metadata>> LookupOfTypeForWrite(
      Txn& txn, uint8_t db, std::string_view key, DataType type);
  // LookupForWrite for several distinct keys, with one multi-get.
  absl::StatusOr<std::vector<std::optional<Metadata>>> LookupManyForWrite(
      Txn& txn, uint8_t db, const std::vector<std::string_view>& keys);
  // Writes a copy of the value `src` of (src_db, src_key) under (dst_db,
  // dst_key) into `txn` (members under a new version) and returns the new
  // metadata, which the caller stores with Txn::PutMeta.
  absl::StatusOr<Metadata> CloneValue(Txn& txn, uint8_t src_db,
                                      std::string_view src_key,
                                      const Metadata& src, uint8_t dst_db,
                                      std::string_view dst_key);

  // Exact counts of live keys and of live keys with a TTL.
  uint64_t DbSize(uint8_t db);
  uint64_t ExpiresCount(uint8_t db);
  // Stored key records of one slot, O(1): the live keys plus those expired
  // but not yet removed (the slot-move replies count these).
  uint64_t SlotRecords(uint8_t db, uint16_t slot) const;
  // Average remaining TTL (ms) of up to `sample` keys with a TTL.
  int64_t AvgTtl(uint8_t db, size_t sample = 64);

  struct ScanResult {
    uint64_t cursor = 0;
    std::vector<std::string> keys;
  };
  // Examines about `count` keys after `cursor` (0 = start). Keys matching
  // `pattern` (empty = all) and `type` (if set) are returned.
  absl::StatusOr<ScanResult> Scan(uint8_t db, uint64_t cursor,
                                  std::string_view pattern, size_t count,
                                  std::optional<DataType> type);
  absl::Status Keys(uint8_t db, std::string_view pattern,
                    std::vector<std::string>* out);
  absl::StatusOr<std::optional<std::string>> RandomKey(uint8_t db);

  // Logical database of physical database `pdb`, or -1 if unmapped.
  int Logical(uint8_t pdb) const ABSL_SHARED_LOCKS_REQUIRED(layout_mu_);
  // The physical databases no logical database maps to (kNumPhysicalDbs -
  // kNumDbs of them, ascending). SWAPDB permutes the mapped ones only, so
  // the set changes only through RemapAll.
  std::vector<uint8_t> UnmappedDbs() const
      ABSL_SHARED_LOCKS_REQUIRED(layout_mu_);
  // Deletes every record of the given (unmapped) physical databases and
  // resets their key counts and expiry index.
  absl::Status ClearDbs(const std::vector<uint8_t>& pdbs);
  // Maps logical database i to `map[i]` for every i, persisted in one write.
  absl::Status RemapAll(const uint8_t (&map)[kNumDbs])
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(layout_mu_);

  // Deletes a key that a slot migration moved to another server, reported
  // to the expiry listener like an expiry (replicas get a DEL).
  void MovedAway(Txn& txn, uint8_t db, std::string_view key,
                 const Metadata& meta);
  // Called after a commit that deleted keys because they expired (lazily or
  // by the active cycle) or moved to another server (MovedAway), with the
  // key's lock held. nullptr clears it.
  using ExpiryListener = std::function<void(int db, std::string_view key)>;
  void SetExpiryListener(ExpiryListener listener);
  // Off: expired records stay stored until a command writes over them
  // (ExpireCycle does nothing, lazy deletions are not committed alone).
  void SetActiveExpiry(bool on) { active_expiry_.store(on); }
  bool active_expiry() const { return active_expiry_.load(); }

  // Hold layout_mu() exclusively for these.
  absl::Status FlushDb(uint8_t db) ABSL_EXCLUSIVE_LOCKS_REQUIRED(layout_mu_);
  absl::Status FlushAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(layout_mu_);
  absl::Status SwapDb(int a, int b) ABSL_EXCLUSIVE_LOCKS_REQUIRED(layout_mu_);

  // Active expiry: deletes keys whose TTL passed, oldest first, until
  // `budget` elapses. Returns how many keys it expired.
  absl::StatusOr<uint64_t> ExpireCycle(absl::Duration budget);
  // Runs the backend's garbage collection when deleted keys left enough
  // members behind (backends without a compaction filter), or when forced.
  absl::StatusOr<uint64_t> MaybeCollectGarbage(bool force);

  uint64_t expired_keys() const { return expired_keys_.load(); }
  uint64_t keyspace_hits() const { return hits_.load(); }
  uint64_t keyspace_misses() const { return misses_.load(); }
  void ResetStats();

 private:
  friend class Txn;
  explicit Keyspace(std::unique_ptr<storage::KvStore> store);
  absl::Status Load();
  void Apply(const Txn& txn);
  void NotifyExpired(const Txn& txn);
  // Records `meta` of (db, key) found expired by a writer: deleted in `txn`.
  void ExpiredOnWrite(Txn& txn, uint8_t db, std::string_view key,
                      const Metadata& meta);
  // Due (expired but not yet deleted) entries of `db`'s expiry index.
  uint64_t DueCount(uint8_t db) ABSL_EXCLUSIVE_LOCKS_REQUIRED(expire_mu_);
  uint64_t RememberCursor(uint8_t db, std::string meta_key);

  std::unique_ptr<storage::KvStore> store_;
  KeyLocks locks_;
  AccessClock clock_;
  mutable absl::Mutex layout_mu_;
  uint8_t db_map_[kNumDbs] ABSL_GUARDED_BY(layout_mu_);

  std::atomic<int64_t> key_counts_[kNumPhysicalDbs] = {};
  // Per (physical db, slot): stored key records, kept like key_counts_.
  std::unique_ptr<std::atomic<int64_t>[]> slot_counts_;
  absl::Mutex expire_mu_;
  // Per physical db: (expire_ms, key) of every stored key with a TTL.
  std::set<std::pair<int64_t, std::string>>
      expire_index_[kNumPhysicalDbs] ABSL_GUARDED_BY(expire_mu_);
  std::atomic<bool> active_expiry_{true};
  absl::Mutex listener_mu_;
  std::shared_ptr<const ExpiryListener> listener_ ABSL_GUARDED_BY(listener_mu_);

  std::atomic<uint64_t> last_version_{0};
  std::atomic<uint64_t> expired_keys_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> garbage_pending_{0};

  absl::Mutex cursor_mu_;
  uint64_t next_cursor_ ABSL_GUARDED_BY(cursor_mu_) = 1;
  absl::flat_hash_map<uint64_t, std::pair<uint8_t, std::string>> cursors_
      ABSL_GUARDED_BY(cursor_mu_);
  std::deque<uint64_t> cursor_order_ ABSL_GUARDED_BY(cursor_mu_);
};

}  // namespace reborn::qdb
