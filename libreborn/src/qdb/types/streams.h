#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "qdb/keyspace.h"

// The stream type (docs/streams.md). A stream key's metadata record holds,
// after the common version and size (= length), the stream's own state:
// last id, first id, max deleted id, entries added, the tail node emulation
// (see below) and the consumer groups with their consumers. Its members:
//
//   'e' ms:u64 seq:u64               -> node:u64 n:u32 (len:u32 bytes)*n
//   'p' glen:u32 group ms:u64 seq:u64 -> delivery_ms:u64 count:u64 consumer
//
// so an XRANGE by id is one range scan, and a group's pending entries list
// (PEL) is another, in id order.
//
// redis-server keeps entries in listpack nodes of at most
// stream-node-max-entries entries (and about stream-node-max-bytes bytes),
// and MAXLEN/MINID with `~` only removes whole nodes. QDB records the node
// each entry was appended to, with the same rule for starting a new node, so
// approximate trimming removes what redis-server would. The node's listpack
// size is computed as Redis encodes it, for the stream-node-max-bytes rule.
namespace reborn::qdb {

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;

  friend bool operator==(const StreamId& a, const StreamId& b) {
    return a.ms == b.ms && a.seq == b.seq;
  }
  friend bool operator!=(const StreamId& a, const StreamId& b) {
    return !(a == b);
  }
  friend bool operator<(const StreamId& a, const StreamId& b) {
    return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq);
  }
  friend bool operator<=(const StreamId& a, const StreamId& b) {
    return !(b < a);
  }
  friend bool operator>(const StreamId& a, const StreamId& b) { return b < a; }
  friend bool operator>=(const StreamId& a, const StreamId& b) {
    return !(a < b);
  }
  bool zero() const { return ms == 0 && seq == 0; }
  static StreamId Max() { return {UINT64_MAX, UINT64_MAX}; }
  std::string ToString() const;
  // streamIncrID / streamDecrID: false (and 0-0 / max) on overflow.
  bool Incr();
  bool Decr();
};

// Redis' streamGenericParseIDOrReply: "-" and "+" (unless `strict`),
// "<ms>" (seq = missing_seq) and "<ms>-<seq>"; with `seq_given` non-null
// also "<ms>-*" (*seq_given = false). False when invalid.
bool ParseStreamId(std::string_view text, StreamId* id, uint64_t missing_seq,
                   bool strict, bool* seq_given = nullptr);

struct StreamConsumer {
  std::string name;
  int64_t seen_ms = 0;
  uint64_t pending = 0;  // entries of the group's PEL it owns
};

struct StreamGroup {
  std::string name;
  StreamId last_id;
  int64_t entries_read = -1;  // -1: unknown (SCG_INVALID_ENTRIES_READ)
  uint64_t pel_count = 0;
  std::vector<StreamConsumer> consumers;

  StreamConsumer* FindConsumer(std::string_view consumer);
};

// The stream state kept in the metadata record.
struct StreamState {
  StreamId last_id;
  StreamId first_id;
  StreamId max_deleted_id;
  uint64_t entries_added = 0;
  // The node the last entry went to, the entries appended to it (deleted
  // ones included, as redis-server counts them), its live entries and its
  // approximate listpack bytes. tail_live == 0 means there is no tail node.
  uint64_t tail_node = 0;
  uint64_t tail_total = 0;
  uint64_t tail_live = 0;
  uint64_t tail_bytes = 0;        // without the two counters above (they vary)
  StreamId tail_master;           // the tail node's first entry id
  uint64_t tail_fields_hash = 0;  // its master entry's field names
  std::vector<StreamGroup> groups;

  StreamGroup* FindGroup(std::string_view group);
};

// The nodes of a Redis radix tree (rax) holding `keys` (ascending) as
// 16-byte big-endian ids: what XINFO STREAM calls radix-tree-nodes.
uint64_t RaxNodeCount(const std::vector<StreamId>& keys);

std::string EncodeStreamState(const StreamState& state);
absl::Status DecodeStreamState(std::string_view in, StreamState* state);

struct StreamEntry {
  StreamId id;
  std::vector<std::string> fields;  // field, value, field, value, ...
};

struct PendingEntry {
  StreamId id;
  std::string consumer;
  int64_t delivery_ms = 0;
  uint64_t delivery_count = 0;
};

// One stream key loaded for a command: its metadata (type kStream; size is
// the length) and its decoded state.
struct Stream {
  Metadata meta;
  StreamState state;
  uint64_t length() const { return meta.size; }
};

enum class TrimStrategy { kNone, kMaxLen, kMinId };
struct TrimArgs {
  TrimStrategy strategy = TrimStrategy::kNone;
  bool approx = false;
  int64_t limit = 0;  // 0 = unlimited
  int64_t maxlen = 0;
  StreamId minid;
};

// Storage operations of the stream type. The command logic (ids, groups,
// replies) is in commands/cmd_streams*.cc. Databases are physical; the
// caller holds Keyspace::layout_mu() shared and, for writes, the key's lock
// from Load to Commit. Reads of members see the store, not the pending
// batch: writers pass what they added or removed where it matters.
// Thread-safe (the node limits are atomics).
class Streams {
 public:
  explicit Streams(Keyspace& keyspace) : ks_(keyspace) {}

  // stream-node-max-entries / stream-node-max-bytes (0 = unlimited).
  void SetNodeLimits(int64_t max_entries, int64_t max_bytes) {
    node_max_entries_.store(max_entries);
    node_max_bytes_.store(max_bytes);
  }
  int64_t node_max_entries() const { return node_max_entries_.load(); }

  // The stream at (db, key): nullopt when absent, WRONGTYPE for another type.
  absl::StatusOr<std::optional<Stream>> Load(uint8_t db, std::string_view key,
                                             bool access = true);
  absl::StatusOr<std::optional<Stream>> LoadForWrite(Txn& txn, uint8_t db,
                                                     std::string_view key);
  // A new empty stream (not stored yet).
  Stream Create();
  // Stores the metadata of `s` (old = the metadata LoadForWrite returned).
  void Save(Txn& txn, uint8_t db, std::string_view key, const Metadata* old,
            Stream& s);

  // Entries with start <= id <= end in id order (reverse order when `rev`),
  // at most `count` (0 = all).
  absl::StatusOr<std::vector<StreamEntry>> Range(
      uint8_t db, std::string_view key, uint64_t version, StreamId start,
      StreamId end, uint64_t count, bool rev,
      const storage::Snapshot* snapshot = nullptr);
  absl::StatusOr<std::optional<StreamEntry>> Get(uint8_t db,
                                                 std::string_view key,
                                                 uint64_t version, StreamId id);

  // Appends an entry with `id` (> last id, checked by the caller).
  // `new_node` starts a node whatever the limits (RESTORE keeps nodes).
  void Append(Txn& txn, uint8_t db, std::string_view key, Stream& s,
              StreamId id, const std::vector<std::string>& fields,
              bool new_node = false);
  // XDEL: deletes the entries of `ids` that exist; returns how many.
  absl::StatusOr<int64_t> Delete(Txn& txn, uint8_t db, std::string_view key,
                                 Stream& s, const std::vector<StreamId>& ids);
  // streamTrim. `appended` is an entry appended in this batch (XADD), which
  // the store does not show yet.
  absl::StatusOr<int64_t> Trim(Txn& txn, uint8_t db, std::string_view key,
                               Stream& s, const TrimArgs& args,
                               const std::optional<StreamId>& appended);

  // The group's pending entries list.
  absl::StatusOr<std::optional<PendingEntry>> PelGet(uint8_t db,
                                                     std::string_view key,
                                                     uint64_t version,
                                                     std::string_view group,
                                                     StreamId id);
  // Pending entries with start <= id <= end, at most `count` (0 = all),
  // only `consumer`'s when not empty.
  absl::StatusOr<std::vector<PendingEntry>> PelRange(
      uint8_t db, std::string_view key, uint64_t version,
      std::string_view group, StreamId start, StreamId end, uint64_t count,
      std::string_view consumer = {},
      const storage::Snapshot* snapshot = nullptr);
  // The first (or last) pending id of a non-empty PEL; 0-0 when empty.
  absl::StatusOr<StreamId> PelEdge(uint8_t db, std::string_view key,
                                   uint64_t version, std::string_view group,
                                   bool last);
  void PelPut(Txn& txn, uint8_t db, std::string_view key, uint64_t version,
              std::string_view group, const PendingEntry& entry);
  void PelDelete(Txn& txn, uint8_t db, std::string_view key, uint64_t version,
                 std::string_view group, StreamId id);
  // Deletes every pending entry of the group (XGROUP DESTROY), or only
  // `consumer`'s (XGROUP DELCONSUMER); returns how many.
  absl::StatusOr<uint64_t> PelClear(Txn& txn, uint8_t db, std::string_view key,
                                    uint64_t version, std::string_view group,
                                    std::string_view consumer = {});

  // Every entry, in id order (DUMP); PutAll writes entries of a new version.
  absl::StatusOr<std::vector<StreamEntry>> All(uint8_t db, std::string_view key,
                                               uint64_t version) {
    return Range(db, key, version, StreamId{}, StreamId::Max(), 0, false);
  }

  // The nodes holding live entries, each named by its first live entry
  // (redis-server names a node by its first entry ever; they differ when
  // that one was deleted). Reads every entry.
  absl::StatusOr<std::vector<StreamId>> NodeKeys(
      uint8_t db, std::string_view key, uint64_t version,
      const storage::Snapshot* snapshot = nullptr);

  static std::string EntryMember(StreamId id);
  static std::string PelMember(std::string_view group, StreamId id);

 private:
  // Node bookkeeping of one append.
  void PlaceInNode(StreamState& st, StreamId id,
                   const std::vector<std::string>& fields, bool new_node,
                   uint64_t* node);
  // The first live entry id after deletions, or 0-0 when empty.
  absl::StatusOr<StreamId> FirstIdAfter(uint8_t db, std::string_view key,
                                        uint64_t version, StreamId from,
                                        const std::vector<StreamId>& gone);

  Keyspace& ks_;
  std::atomic<int64_t> node_max_entries_{100};
  std::atomic<int64_t> node_max_bytes_{4096};
};

}  // namespace reborn::qdb
