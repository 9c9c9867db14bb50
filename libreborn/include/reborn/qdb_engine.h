#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/export.h"
#include "reborn/reply.h"
#include "reborn/set_options.h"
#include "reborn/storage_engine.h"

namespace reborn {

namespace qdb {
class EngineCore;
struct EngineAccess;
}  // namespace qdb

// A full load of an RDB stream that replaces the whole dataset (all 16 dbs).
// Obtained from QdbEngine::BeginRdbLoad(). Data is staged aside while
// loading (readers and writers keep using the old data meanwhile); Commit()
// swaps it in atomically. Destroying the object without a successful Commit()
// discards the staged data and leaves the old data untouched.
//
// Thread safety: one thread at a time (Feed and Commit are not concurrent).
class REBORN_EXPORT RdbLoad {
 public:
  virtual ~RdbLoad() = default;
  // Next bytes of the RDB file, chunks of any size. Sticky errors.
  virtual absl::Status Feed(std::string_view bytes) = 0;
  // Checks that the whole file (EOF opcode + CRC) was read, then replaces
  // every database with the loaded data in one atomic step, and the
  // function libraries (QdbEngine::FunctionLibraries) with the file's.
  virtual absl::Status Commit() = 0;
  virtual uint64_t keys_loaded() const = 0;
  virtual uint64_t bytes_consumed() const = 0;
};

// Options of QdbEngine::BeginRdbLoad.
struct REBORN_EXPORT RdbLoadOptions {
  // Keys whose TTL has already passed are loaded anyway (true, what a Redis
  // replica does: it waits for its master's DEL) or skipped (false, what a
  // Redis master does when it loads its own dump).
  bool keep_expired = true;
  // Checks the file's function libraries (their code) before Commit swaps
  // anything in; an error fails the load and keeps the old data, as Redis
  // refuses an RDB file whose library does not load. Unset: not checked.
  std::function<absl::Status(const std::vector<std::string>& codes)>
      check_functions;
  // Redis' key-load-delay, a knob for tests that need a slow load: after
  // each key, sleep this many microseconds; a negative -n sleeps 1 us after
  // one key in n on average.
  int key_load_delay_us = 0;
};

// A consistent point-in-time view of all databases, written out as an RDB
// (version 10, the encodings redis-server 7.0 writes, so Redis 7.0 loads it).
// Taking it is cheap (a storage snapshot); writing happens later, from any
// thread, while the engine keeps serving writes.
class REBORN_EXPORT RdbSnapshot {
 public:
  virtual ~RdbSnapshot() = default;
  using Sink = std::function<absl::Status(std::string_view chunk)>;
  // Streams the file through `sink` in bounded chunks (never the whole file in
  // memory). `aux` fields are written after the header (e.g. repl-id,
  // repl-offset as Redis writes them). Keys already expired are skipped.
  virtual absl::Status Write(
      const Sink& sink,
      const std::vector<std::pair<std::string, std::string>>& aux = {}) = 0;
  virtual uint64_t keys_written() const = 0;
};

// The thresholds by which OBJECT ENCODING names a value's Redis encoding
// (QDB's own layout does not change with them): hash-max-listpack-entries
// and -value, set-max-intset-entries, zset-max-listpack-entries and -value.
struct REBORN_EXPORT EncodingLimits {
  int64_t hash_max_listpack_entries = 512;
  int64_t hash_max_listpack_value = 64;
  int64_t set_max_intset_entries = 512;
  int64_t zset_max_listpack_entries = 128;
  int64_t zset_max_listpack_value = 64;
};

struct REBORN_EXPORT QdbOptions {
  StorageEngine engine = StorageEngine::kRocksDb;
  std::string dir = "./data";   // unused by memory
  size_t block_cache_mb = 256;  // shared LRU block cache (hot data)
  size_t row_cache_mb = 0;      // rocksdb row cache; 0 = off
  size_t write_buffer_mb = 8;   // memtable size per column family
  // Hot metadata records (a string's value included) kept in memory in
  // front of rocksdb/leveldb: a hit skips the store's point read.
  size_t hot_cache_mb = 64;
  // Sync the write-ahead log on every write: a kill -9 (or power loss)
  // loses no acknowledged write. Off: a process crash loses nothing either
  // (the WAL is in the OS page cache); an OS crash may lose the writes of
  // the last few seconds.
  bool sync_writes = false;
  // Group commit (rocksdb): a write's log record stays in the process until
  // FlushWrites(), which the caller must run before it acknowledges the
  // write; qdb-server does so before it sends replies, one log write for
  // all the commands of an I/O round. Off: every call is in the log file
  // when it returns.
  bool group_commit = false;
  int bloom_bits = 10;  // bloom filter bits per key; 0 = none
  int64_t proto_max_bulk_len = 512LL * 1024 * 1024;  // largest string value
  // hll-sparse-max-bytes: a sparse HyperLogLog that would grow past this
  // many bytes becomes dense (docs/qdb-engine.md).
  int64_t hll_sparse_max_bytes = 3000;
  // Background active expiry (and garbage sweeps): cycles per second and
  // the time budget of one cycle.
  int expiry_hz = 10;
  absl::Duration expiry_cycle_budget = absl::Milliseconds(25);
  // AUTH password of the targets SLOTSMGRT* moves keys to (empty = none).
  std::string migrate_target_password;
  // Keys with more members than this (strings longer than
  // migrate_chunk_bytes) move in chunks of at most this many members and
  // about migrate_chunk_bytes bytes (docs/slots.md).
  size_t migrate_chunk_members = 1000;
  size_t migrate_chunk_bytes = 1 << 20;
};

// The QDB engine: a Redis-compatible store (16 databases) over RocksDB,
// LevelDB or memory, usable without any network.
//
// Thread safety: every method may be called concurrently from any thread.
// Read-modify-write operations on one key are serialised by striped key
// locks; every command commits one atomic write batch.
class REBORN_EXPORT QdbEngine {
 public:
  // Opens (creating if needed) the store described by `options` and starts
  // the background expiry thread.
  static absl::StatusOr<std::unique_ptr<QdbEngine>> Open(
      const QdbOptions& options);
  ~QdbEngine();  // stops background work and flushes to disk

  QdbEngine(const QdbEngine&) = delete;
  QdbEngine& operator=(const QdbEngine&) = delete;

  // Per-caller state for Execute: the SELECTed database and RESP version.
  struct Context {
    int db = 0;
    int protocol = 2;
  };
  // Runs one command (args[0] is its name) as redis-server would and returns
  // the decoded reply; errors come back as Reply::Type::kError.
  Reply Execute(const std::vector<std::string>& args);
  Reply Execute(Context& context, const std::vector<std::string>& args);

  // Typed API. `db` is 0..15. Redis-level failures (wrong type, not an
  // integer, ...) are kInvalidArgument / kFailedPrecondition whose message is
  // redis-server's error text; other codes are storage failures.
  using SetOptions = ::reborn::SetOptions;
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key,
                                                 int db = 0);
  // False when the condition was not met.
  absl::StatusOr<bool> Set(std::string_view key, std::string_view value,
                           const SetOptions& options, int db = 0);
  absl::StatusOr<bool> Set(std::string_view key, std::string_view value) {
    return Set(key, value, SetOptions{}, 0);
  }
  absl::StatusOr<int64_t> IncrBy(std::string_view key, int64_t delta,
                                 int db = 0);
  absl::StatusOr<int64_t> Append(std::string_view key, std::string_view value,
                                 int db = 0);
  absl::StatusOr<int64_t> Del(const std::vector<std::string>& keys, int db = 0);
  absl::StatusOr<int64_t> Exists(const std::vector<std::string>& keys,
                                 int db = 0);
  // Expires the key `ttl` from now (whole milliseconds); false when the key
  // does not exist.
  absl::StatusOr<bool> Expire(std::string_view key, absl::Duration ttl,
                              int db = 0);
  // The time left; std::nullopt for a key without expiry; NotFound when the
  // key does not exist (as Client::Ttl).
  absl::StatusOr<std::optional<absl::Duration>> Ttl(std::string_view key,
                                                    int db = 0);
  // MEMORY USAGE: bytes the key's records take in the store before
  // compression, nullopt if absent. Aggregates are estimated from their
  // first `samples` members (0 = all of them), as Redis does.
  absl::StatusOr<std::optional<int64_t>> MemoryUsage(std::string_view key,
                                                     int64_t samples = 5,
                                                     int db = 0);
  struct ScanPage {
    uint64_t cursor = 0;  // 0 = done
    std::vector<std::string> keys;
  };
  absl::StatusOr<ScanPage> Scan(uint64_t cursor, std::string_view match = "",
                                size_t count = 10, int db = 0);
  absl::StatusOr<uint64_t> DbSize(int db = 0);
  absl::Status FlushDb(int db = 0);
  absl::Status FlushAll();

  // Typed API of the other types, with the same conventions and the RESP
  // commands' semantics. An empty list of fields, members or values is the
  // command's arity error, as it would be over RESP.
  //
  // Hashes: HSET (fields added; a repeated field: the last wins), HGET,
  // HDEL (fields removed), HGETALL (in no particular order), HLEN.
  using FieldValue = std::pair<std::string, std::string>;
  absl::StatusOr<int64_t> HSet(std::string_view key,
                               const std::vector<FieldValue>& fields,
                               int db = 0);
  absl::StatusOr<std::optional<std::string>> HGet(std::string_view key,
                                                  std::string_view field,
                                                  int db = 0);
  absl::StatusOr<int64_t> HDel(std::string_view key,
                               const std::vector<std::string>& fields,
                               int db = 0);
  absl::StatusOr<std::vector<FieldValue>> HGetAll(std::string_view key,
                                                  int db = 0);
  absl::StatusOr<int64_t> HLen(std::string_view key, int db = 0);

  // Sets: SADD (members added), SREM (members removed), SISMEMBER,
  // SMEMBERS (in no particular order), SCARD.
  absl::StatusOr<int64_t> SAdd(std::string_view key,
                               const std::vector<std::string>& members,
                               int db = 0);
  absl::StatusOr<int64_t> SRem(std::string_view key,
                               const std::vector<std::string>& members,
                               int db = 0);
  absl::StatusOr<bool> SIsMember(std::string_view key, std::string_view member,
                                 int db = 0);
  absl::StatusOr<std::vector<std::string>> SMembers(std::string_view key,
                                                    int db = 0);
  absl::StatusOr<int64_t> SCard(std::string_view key, int db = 0);

  // Lists: LPUSH/RPUSH (the new length; LPUSH k a b leaves b first), LPOP /
  // RPOP (nullopt when the key is absent), LRANGE (inclusive, negative
  // indexes count from the end), LLEN.
  absl::StatusOr<int64_t> LPush(std::string_view key,
                                const std::vector<std::string>& values,
                                int db = 0);
  absl::StatusOr<int64_t> RPush(std::string_view key,
                                const std::vector<std::string>& values,
                                int db = 0);
  absl::StatusOr<std::optional<std::string>> LPop(std::string_view key,
                                                  int db = 0);
  absl::StatusOr<std::optional<std::string>> RPop(std::string_view key,
                                                  int db = 0);
  absl::StatusOr<std::vector<std::string>> LRange(std::string_view key,
                                                  int64_t start, int64_t stop,
                                                  int db = 0);
  absl::StatusOr<int64_t> LLen(std::string_view key, int db = 0);

  // Sorted sets: ZADD (members added; an existing member gets the new
  // score; a NaN score is "ERR value is not a valid float"), ZSCORE, ZREM
  // (members removed), ZRANGE by rank (inclusive, negative ranks count from
  // the end; ascending score, then member), ZCARD. Score first, as ZADD
  // takes them: ZAdd("z", {{1, "a"}, {2.5, "b"}}).
  struct ScoredMember {
    double score = 0;
    std::string member;
    bool operator==(const ScoredMember&) const = default;
  };
  absl::StatusOr<int64_t> ZAdd(std::string_view key,
                               const std::vector<ScoredMember>& members,
                               int db = 0);
  absl::StatusOr<std::optional<double>> ZScore(std::string_view key,
                                               std::string_view member,
                                               int db = 0);
  absl::StatusOr<int64_t> ZRem(std::string_view key,
                               const std::vector<std::string>& members,
                               int db = 0);
  absl::StatusOr<std::vector<ScoredMember>> ZRange(std::string_view key,
                                                   int64_t start, int64_t stop,
                                                   int db = 0);
  absl::StatusOr<int64_t> ZCard(std::string_view key, int db = 0);

  // Makes everything written so far durable (memtables to disk).
  absl::Status Flush();
  // Resizes the block cache at runtime (rocksdb; Unimplemented elsewhere).
  absl::Status SetBlockCacheMb(size_t mb);
  // Resizes the hot cache at runtime (QdbOptions::hot_cache_mb; nothing to
  // do for memory).
  absl::Status SetHotCacheMb(size_t mb);
  // fsync each write (QdbOptions::sync_writes) from now on.
  void SetSyncWrites(bool sync);
  // QdbOptions::group_commit: whether calls that returned left log records
  // in the process, and the log write that puts them in the log file.
  bool HasUnflushedWrites() const;
  absl::Status FlushWrites();
  // Changes proto-max-bulk-len (the largest string a command may build).
  absl::Status SetProtoMaxBulkLen(int64_t bytes);
  // Access-frequency tracking for OBJECT FREQ and RESTORE ... FREQ (on under
  // an LFU maxmemory-policy; then OBJECT IDLETIME is refused, as in Redis),
  // with Redis' lfu-log-factor and lfu-decay-time (minutes).
  void SetLfuTracking(bool enabled, int log_factor, int decay_minutes);
  // Changes hll-sparse-max-bytes.
  void SetHllSparseMaxBytes(int64_t bytes);
  // Changes the thresholds OBJECT ENCODING answers by.
  void SetEncodingLimits(const EncodingLimits& limits);
  // CONFIG RESETSTAT: zeroes expired_keys and keyspace_hits/misses.
  void ResetStats();
  // INFO text of the engine's sections ("keyspace", "memory", "persistence",
  // "stats", "rocksdb"; "" or "all" for all of them).
  std::string Info(std::string_view section = "");
  const QdbOptions& options() const;

  // RDB import/export (see docs/replication.md).
  // Starts a full load that replaces all 16 databases on Commit(). One at a
  // time: a second one while one is open gets FailedPrecondition.
  absl::StatusOr<std::unique_ptr<RdbLoad>> BeginRdbLoad(
      const RdbLoadOptions& options = {});
  // A cheap consistent view of every database, written out later.
  absl::StatusOr<std::unique_ptr<RdbSnapshot>> TakeRdbSnapshot();
  // The server's function libraries (FUNCTION LOAD), kept with the data
  // in an engine record outside every database (no command sees it as a
  // key; it is not part of any slot): the code of each library. Written by
  // RDB snapshots as FUNCTION2 records; a committed RdbLoad replaces it with
  // the RDB's libraries (none when the RDB has none).
  absl::StatusOr<std::vector<std::string>> FunctionLibraries();
  absl::Status SetFunctionLibraries(const std::vector<std::string>& codes);
  // Called on the deleting thread, while that key's lock is held, whenever
  // the engine itself deletes a key: it expired (active expiry cycle, or
  // lazily when a command finds it expired), or a slot migration moved it
  // to another server. `db` is the logical db. nullptr clears it. Used to
  // replicate those deletions as DEL.
  void SetExpiryListener(
      std::function<void(int db, std::string_view key)> listener);
  // false: the engine never deletes expired keys by itself (a replica waits
  // for its master's DEL, as Redis replicas do); reads still see expired
  // keys as absent (TTL -2, GET nil, EXISTS 0, DBSIZE may still count them,
  // as in Redis), while write commands (the master's stream) see them as
  // live and keep expire times already past, as a Redis replica's master
  // client does. Default true.
  void SetActiveExpiry(bool on);

 private:
  // qdb/engine_access.h: the server's command table reaches the engine's
  // implementation through it; it is not part of the public API.
  friend struct qdb::EngineAccess;
  explicit QdbEngine(std::unique_ptr<qdb::EngineCore> core);
  std::unique_ptr<qdb::EngineCore> core_;
};

}  // namespace reborn
