#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "net/sync_client.h"
#include "qdb/keyspace.h"
#include "qdb/slots/staging.h"

// Codis' slot commands over QDB's slot-prefixed key encoding: every metadata
// record starts with `db slot`, so one slot of one database is one key range
// and counting, scanning or deleting a slot never touches another slot.
//
// Moving keys (docs/slots.md): the source holds the key locks of the key (or
// of its whole tag group) while it reads the value, sends
// `SLOTSRESTORE key ttlms payload ...` to the target and waits for +OK; only
// then it deletes the keys, in one batch, and releases the locks. Writers of
// those keys at the source wait for the move; a failed or timed-out send
// leaves the keys at the source (the target may hold a copy, which the
// retry's SLOTSRESTORE replaces). TTLs travel as the remaining milliseconds.
//
// Big keys (more members than chunk.members, strings longer than
// chunk.bytes) move in chunks instead (SLOTSRESTORE-CHUNK): the key is
// marked as moving (KeyLocks::Mark) rather than locked, so its stripe is
// held only for milliseconds; its writers wait for the mark; the target
// stages the parts invisibly (qdb/slots/staging.h) and makes the key live at
// COMMIT; the source deletes the key after COMMIT's +OK.
namespace reborn::qdb {

class EngineCore;

// Where SLOTSMGRT* send keys. `db` is the logical database SELECTed there.
struct MigrateTarget {
  std::string host;
  int port = 0;
  std::chrono::milliseconds timeout{1000};
  int db = 0;
};

// Bounds of one chunk of a big key, and the size above which a key moves in
// chunks (the directives migrate-chunk-members and migrate-chunk-bytes).
struct ChunkLimits {
  size_t members = 1000;
  size_t bytes = 1 << 20;
};

// Synchronisation: the slot operations take the key locks of the keys they
// write (SLOTSDEL, SLOTSRESTORE, moves) and none for reads; callers hold the
// keyspace's layout_mu() shared (exclusive for Check()). The connection pool,
// the SLOTSSCAN cursor table, the resume points of slot moves and the worker
// queue are guarded by their own mutexes.
class Slots {
 public:
  Slots(EngineCore& core, std::string target_password, ChunkLimits chunk);
  ~Slots();  // joins the migration workers (after their running jobs)
  Slots(const Slots&) = delete;
  Slots& operator=(const Slots&) = delete;

  // Runs `job` on one of the migration worker threads, so that a slow move
  // never occupies a connection's I/O thread (SLOTSMGRT* reply through a
  // DeferredReply).
  void Submit(std::function<void()> job);
  // The target side of chunked moves.
  Staging& staging() { return staging_; }
  const ChunkLimits& chunk_limits() const { return chunk_; }

  // Live keys of one slot.
  absl::StatusOr<uint64_t> Count(uint8_t db, uint16_t slot);
  // (slot, live keys) of the non-empty slots in [start, start + count).
  absl::StatusOr<std::vector<std::pair<uint16_t, uint64_t>>> Info(uint8_t db,
                                                                  int start,
                                                                  int count);

  struct ScanResult {
    uint64_t cursor = 0;  // 0 = done
    std::vector<std::string> keys;
    // The slot of the cursor's record; slot + span when done.
    int next_slot = 0;
  };
  // The live keys among the next `count` records of slots [slot, slot +
  // span) (one ordered range) after `cursor` (0 = from the start of `slot`;
  // else a cursor whose record is in `slot`). An unknown cursor, or one of
  // another slot, is "ERR invalid cursor".
  absl::StatusOr<ScanResult> Scan(uint8_t db, uint16_t slot, uint64_t cursor,
                                  size_t count, int span = 1);

  // Deletes every key of `slot`; returns the live keys left (0 unless
  // writers added some meanwhile).
  absl::StatusOr<uint64_t> DeleteSlot(uint8_t db, uint16_t slot);

  // Verifies every metadata record: its key decodes, sits in the slot of its
  // key, its metadata decodes, and the stored records of each database match
  // the key count. The caller holds layout_mu() exclusively. A failed status
  // names the first inconsistency.
  absl::Status Check();

  struct RestoreItem {
    std::string_view key;
    int64_t ttl_ms = 0;  // 0 = no expiry
    std::string_view payload;
  };
  // Replaces every key with its payload in one atomic batch (a key named
  // twice takes its last payload). Nothing is written if a payload is bad.
  absl::Status RestoreMany(uint8_t db, const std::vector<RestoreItem>& items);

  // Moves `key` (with `tag`, every key of its tag group) to `target`.
  // Returns how many keys moved (0: the key does not exist).
  absl::StatusOr<int64_t> MigrateKey(const MigrateTarget& target, uint8_t db,
                                     std::string_view key, bool tag);
  // Moves one key (with `tag`, one tag group) of `slot`; returns (keys
  // moved, live keys left in the slot).
  absl::StatusOr<std::pair<int64_t, uint64_t>> MigrateSlot(
      const MigrateTarget& target, uint8_t db, uint16_t slot, bool tag);
  // Moves whole tag groups of `slot` until `max_keys` keys or `max_bytes`
  // payload bytes went, each batch of groups in one SLOTSRESTORE; returns
  // (keys moved, live keys left in the slot).
  absl::StatusOr<std::pair<int64_t, uint64_t>> MigrateSlotBatch(
      const MigrateTarget& target, uint8_t db, uint16_t slot, size_t max_keys,
      size_t max_bytes);

 private:
  // Keys of `slot` whose hash tag is `tag` (live or not).
  absl::StatusOr<std::vector<std::string>> TagGroup(uint8_t db, uint16_t slot,
                                                    std::string_view tag);
  // Up to `limit` stored keys of `slot` from its start, or from the point
  // where the last move of keys in this slot stopped (`resume`): the keys
  // before it left already, and skipping their tombstones keeps repeated
  // batches linear. Falls back to the slot's start when nothing follows.
  absl::StatusOr<std::vector<std::string>> FirstKeys(uint8_t db, uint16_t slot,
                                                     size_t limit,
                                                     bool resume = false);
  void SetResume(uint8_t db, uint16_t slot, std::string_view last_key);
  bool IsBig(const Metadata& meta) const;
  // Moves one key marked as moving in chunks (SLOTSRESTORE-CHUNK); `meta` is
  // its metadata read when it was marked. Returns 1, or 0 when it expired.
  absl::StatusOr<int64_t> MoveBigKey(const MigrateTarget& target, uint8_t db,
                                     const std::string& key,
                                     const Metadata& meta, size_t* bytes);
  // Sends the chunks of `key`'s value; returns the elements sent.
  absl::StatusOr<uint64_t> SendChunks(net::SyncClient& client, uint8_t db,
                                      const std::string& key,
                                      const std::string& token,
                                      const Metadata& meta, size_t* bytes);
  void WorkerLoop();
  // Moves `keys` in one SLOTSRESTORE holding their locks; returns the keys
  // moved and adds the payload bytes sent to `*bytes`. Expired keys are
  // removed in the batch that removes the moved ones.
  absl::StatusOr<int64_t> MoveKeys(const MigrateTarget& target, uint8_t db,
                                   const std::vector<std::string>& keys,
                                   size_t* bytes);
  absl::StatusOr<net::SyncClient> Acquire(const MigrateTarget& target);
  void Release(const MigrateTarget& target, net::SyncClient client);

  EngineCore& core_;
  Keyspace& ks_;
  const std::string password_;
  const ChunkLimits chunk_;
  Staging staging_;
  // Transfer tokens: nonce_-time-counter, unique across sources and restarts.
  const uint64_t nonce_;
  std::atomic<uint64_t> next_transfer_{0};

  absl::Mutex resume_mu_;
  // db * kSlotCount + slot -> the last key a move of that slot sent.
  absl::flat_hash_map<uint32_t, std::string> resume_
      ABSL_GUARDED_BY(resume_mu_);

  absl::Mutex work_mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(work_mu_);
  bool stop_ ABSL_GUARDED_BY(work_mu_) = false;
  std::vector<std::thread> workers_;

  absl::Mutex pool_mu_;
  absl::flat_hash_map<std::string, std::vector<net::SyncClient>> idle_
      ABSL_GUARDED_BY(pool_mu_);

  absl::Mutex cursor_mu_;
  uint64_t next_cursor_ ABSL_GUARDED_BY(cursor_mu_) = 1;
  // cursor -> meta key of the last key returned.
  absl::flat_hash_map<uint64_t, std::string> cursors_
      ABSL_GUARDED_BY(cursor_mu_);
  std::deque<uint64_t> cursor_order_ ABSL_GUARDED_BY(cursor_mu_);
};

}  // namespace reborn::qdb
