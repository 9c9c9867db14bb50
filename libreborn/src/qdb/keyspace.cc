#include "qdb/keyspace.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "qdb/errors.h"
#include "reborn/slot.h"
#include "spdlog/spdlog.h"
#include "util/glob.h"

namespace reborn::qdb {
namespace {

using storage::Column;

constexpr size_t kMaxCursors = 65536;
// Non-rocksdb backends sweep members of dead keys after this many.
constexpr uint64_t kGarbageSweepThreshold = 10000;

std::string DbMapKey() { return EncodeMetaKey(kInternalDb, "dbmap"); }

}  // namespace

std::string ErrorReplyText(const absl::Status& s) {
  if (IsRedisError(s)) return std::string(s.message());
  spdlog::error("storage error: {}", s.ToString());
  return absl::StrCat("ERR storage error: ", s.message());
}

// --- Txn ---

void Txn::Track(uint8_t db, std::string_view key, const Metadata* old,
                const Metadata* now) {
  const int delta = (now != nullptr) - (old != nullptr);
  key_deltas_[db] += delta;
  if (delta != 0) {
    slot_deltas_.emplace_back(
        static_cast<uint32_t>(db) * kSlotCount + SlotOf(key), delta);
  }
  const int64_t old_expire = old ? old->expire_ms : 0;
  const int64_t new_expire = now ? now->expire_ms : 0;
  if (old_expire != new_expire) {
    index_ops_.push_back({db, old_expire, new_expire, std::string(key)});
  }
  if (old != nullptr && old->type != DataType::kString &&
      (now == nullptr || now->version != old->version)) {
    ++garbage_;
  }
}

void Txn::PutMeta(uint8_t db, std::string_view key, const Metadata* old,
                  const Metadata& meta) {
  batch_.Put(Column::kMeta, EncodeMetaKey(db, key), EncodeMetadata(meta));
  Track(db, key, old, &meta);
}

void Txn::DeleteKey(uint8_t db, std::string_view key, const Metadata& old) {
  batch_.Delete(Column::kMeta, EncodeMetaKey(db, key));
  Track(db, key, &old, nullptr);
}

absl::Status Txn::Commit() {
  // With active expiry off, a batch that would only delete expired records
  // is dropped: the engine does not delete them by itself.
  const bool only_expiry =
      !keyspace_->active_expiry() && batch_.size() == expired_names_.size();
  if (!batch_.empty() && !only_expiry) {
    if (absl::Status s = keyspace_->store_->Write(batch_); !s.ok()) return s;
    keyspace_->Apply(*this);
    if (keyspace_->active_expiry()) keyspace_->NotifyExpired(*this);
  }
  batch_.Clear();
  index_ops_.clear();
  expired_names_.clear();
  for (int64_t& d : key_deltas_) d = 0;
  slot_deltas_.clear();
  expired_ = garbage_ = 0;
  return absl::OkStatus();
}

// --- Keyspace ---

Keyspace::Keyspace(std::unique_ptr<storage::KvStore> store)
    : store_(std::move(store)),
      clock_(NowMs() / 1000),
      slot_counts_(std::make_unique<std::atomic<int64_t>[]>(
          static_cast<size_t>(kNumPhysicalDbs) * kSlotCount)) {
  for (int i = 0; i < kNumDbs; ++i) db_map_[i] = static_cast<uint8_t>(i);
}

Keyspace::~Keyspace() = default;

absl::StatusOr<std::unique_ptr<Keyspace>> Keyspace::Open(
    std::unique_ptr<storage::KvStore> store) {
  std::unique_ptr<Keyspace> ks(new Keyspace(std::move(store)));
  if (absl::Status s = ks->Load(); !s.ok()) return s;
  return ks;
}

absl::Status Keyspace::Load() {
  std::string map;
  absl::Status s =
      store_->Get(storage::ReadOptions{}, Column::kMeta, DbMapKey(), &map);
  if (s.ok()) {
    if (map.size() != kNumDbs) return absl::DataLossError("corrupt db map");
    absl::MutexLock lock(&layout_mu_);
    for (int i = 0; i < kNumDbs; ++i) db_map_[i] = static_cast<uint8_t>(map[i]);
    for (int i = 0; i < kNumDbs; ++i) {
      if (db_map_[i] >= kNumPhysicalDbs ||
          std::count(db_map_, db_map_ + kNumDbs, db_map_[i]) != 1) {
        return absl::DataLossError("corrupt db map");
      }
    }
  } else if (!absl::IsNotFound(s)) {
    return s;
  }
  // Physical databases no logical one maps to hold what an RDB load left
  // behind (a crash before its commit, or before the old data was dropped).
  std::vector<uint8_t> unmapped;
  {
    absl::ReaderMutexLock lock(&layout_mu_);
    unmapped = UnmappedDbs();
  }
  if (absl::Status s = ClearDbs(unmapped); !s.ok()) return s;
  // Counts keys and rebuilds the expiry index: one pass over the metadata.
  storage::ReadOptions ro;
  ro.lower_bound = DbBegin(0);
  ro.upper_bound = DbBegin(kNumPhysicalDbs);
  ro.fill_cache = false;
  std::unique_ptr<storage::Iterator> it =
      store_->NewIterator(ro, Column::kMeta);
  absl::MutexLock lock(&expire_mu_);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint8_t db;
    uint16_t slot;
    std::string_view key;
    DataType type;
    int64_t expire_ms;
    if (!DecodeMetaKey(it->key(), &db, &slot, &key) ||
        !DecodeMetadataHeader(it->value(), &type, &expire_ms).ok()) {
      return absl::DataLossError("corrupt metadata record");
    }
    key_counts_[db].fetch_add(1, std::memory_order_relaxed);
    slot_counts_[static_cast<size_t>(db) * kSlotCount + slot].fetch_add(
        1, std::memory_order_relaxed);
    if (expire_ms != 0) expire_index_[db].emplace(expire_ms, std::string(key));
  }
  return it->status();
}

bool Keyspace::IsGarbage(storage::KvStore& store, storage::Column column,
                         std::string_view key, std::string_view value) {
  if (column == Column::kMeta) return false;
  uint8_t db;
  std::string_view user_key, member;
  uint64_t version;
  if (!DecodeMemberKey(key, &db, &user_key, &version, &member)) return false;
  std::string raw;
  absl::Status s = store.Get(storage::ReadOptions{}, Column::kMeta,
                             EncodeMetaKey(db, user_key), &raw);
  if (!s.ok() && !absl::IsNotFound(s)) return false;  // keep on doubt
  Metadata meta;
  if (s.ok() && !DecodeMetadata(raw, &meta).ok()) return false;
  if (s.ok() && meta.type != DataType::kString && meta.version == version) {
    return meta.Expired(NowMs());
  }
  // Not of the live version: garbage unless a chunked restore stages it.
  s = store.Get(storage::ReadOptions{}, Column::kMeta, StagingKey(db, user_key),
                &raw);
  if (absl::IsNotFound(s)) return true;
  if (!s.ok()) return false;
  StagingRecord staged;
  if (!DecodeStagingRecord(raw, &staged).ok()) return false;
  return staged.meta.version != version;
}

int64_t Keyspace::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t Keyspace::NextVersion() {
  const uint64_t now_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  uint64_t last = last_version_.load();
  uint64_t next;
  do {
    next = std::max(last + 1, now_us);
  } while (!last_version_.compare_exchange_weak(last, next));
  return next;
}

absl::StatusOr<std::optional<Metadata>> Keyspace::Lookup(uint8_t db,
                                                         std::string_view key,
                                                         bool access) {
  std::string raw;
  absl::Status s = store_->Get(storage::ReadOptions{}, Column::kMeta,
                               EncodeMetaKey(db, key), &raw);
  const int64_t now = NowMs();
  std::optional<Metadata> out;
  if (s.ok()) {
    Metadata meta;
    if (absl::Status d = DecodeMetadata(raw, &meta); !d.ok()) return d;
    if (!meta.Expired(now)) out = std::move(meta);
  } else if (!absl::IsNotFound(s)) {
    return s;
  }
  if (access) {
    (out ? hits_ : misses_).fetch_add(1);
    if (out) clock_.Touch(db, key, now / 1000);
  }
  return out;
}

absl::StatusOr<std::vector<std::optional<Metadata>>> Keyspace::MultiLookup(
    uint8_t db, const std::vector<std::string>& keys, bool touch) {
  std::vector<std::string> meta_keys;
  meta_keys.reserve(keys.size());
  for (const std::string& k : keys) meta_keys.push_back(EncodeMetaKey(db, k));
  std::vector<std::string> values;
  std::vector<absl::Status> statuses = store_->MultiGet(
      storage::ReadOptions{}, Column::kMeta, meta_keys, &values);
  const int64_t now = NowMs();
  std::vector<std::optional<Metadata>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) {
      Metadata meta;
      if (absl::Status d = DecodeMetadata(values[i], &meta); !d.ok()) return d;
      if (!meta.Expired(now)) out[i] = std::move(meta);
    } else if (!absl::IsNotFound(statuses[i])) {
      return statuses[i];
    }
    (out[i] ? hits_ : misses_).fetch_add(1);
    if (touch && out[i]) clock_.Touch(db, keys[i], now / 1000);
  }
  return out;
}

absl::StatusOr<std::optional<Metadata>> Keyspace::LookupOfType(
    uint8_t db, std::string_view key, DataType type) {
  absl::StatusOr<std::optional<Metadata>> meta = Lookup(db, key);
  if (!meta.ok()) return meta.status();
  if (*meta && (*meta)->type != type) return WrongTypeError();
  return meta;
}

absl::StatusOr<std::optional<Metadata>> Keyspace::LookupOfTypeForWrite(
    Txn& txn, uint8_t db, std::string_view key, DataType type) {
  absl::StatusOr<std::optional<Metadata>> meta = LookupForWrite(txn, db, key);
  if (!meta.ok()) return meta.status();
  if (*meta && (*meta)->type != type) return WrongTypeError();
  return meta;
}

absl::StatusOr<std::optional<Metadata>> Keyspace::LookupForWrite(
    Txn& txn, uint8_t db, std::string_view key) {
  std::string raw;
  absl::Status s = store_->Get(storage::ReadOptions{}, Column::kMeta,
                               EncodeMetaKey(db, key), &raw);
  const int64_t now = NowMs();
  clock_.Touch(db, key, now / 1000);
  if (absl::IsNotFound(s)) return std::nullopt;
  if (!s.ok()) return s;
  Metadata meta;
  if (absl::Status d = DecodeMetadata(raw, &meta); !d.ok()) return d;
  // With active expiry off (a replica) writes see expired records as live:
  // the master's stream was computed on its clock, a replica applies it a
  // bit later and must not drop a key the master still had (its DEL comes).
  if (active_expiry() && meta.Expired(now)) {
    ExpiredOnWrite(txn, db, key, meta);
    return std::nullopt;
  }
  return meta;
}

absl::StatusOr<std::vector<std::optional<Metadata>>>
Keyspace::LookupManyForWrite(Txn& txn, uint8_t db,
                             const std::vector<std::string_view>& keys) {
  std::vector<std::string> meta_keys;
  meta_keys.reserve(keys.size());
  for (std::string_view k : keys) meta_keys.push_back(EncodeMetaKey(db, k));
  std::vector<std::string> values;
  std::vector<absl::Status> statuses = store_->MultiGet(
      storage::ReadOptions{}, Column::kMeta, meta_keys, &values);
  const int64_t now = NowMs();
  std::vector<std::optional<Metadata>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    clock_.Touch(db, keys[i], now / 1000);
    if (absl::IsNotFound(statuses[i])) continue;
    if (!statuses[i].ok()) return statuses[i];
    Metadata meta;
    if (absl::Status d = DecodeMetadata(values[i], &meta); !d.ok()) return d;
    if (active_expiry() && meta.Expired(now)) {  // see LookupForWrite
      ExpiredOnWrite(txn, db, keys[i], meta);
    } else {
      out[i] = std::move(meta);
    }
  }
  return out;
}

absl::StatusOr<Metadata> Keyspace::CloneValue(Txn& txn, uint8_t src_db,
                                              std::string_view src_key,
                                              const Metadata& src,
                                              uint8_t dst_db,
                                              std::string_view dst_key) {
  Metadata out = src;
  if (src.type == DataType::kString) return out;
  out.version = NextVersion();
  for (Column column : {Column::kMembers, Column::kScoreIndex}) {
    const std::string from = MemberPrefix(src_db, src_key, src.version);
    const std::string to = MemberPrefix(dst_db, dst_key, out.version);
    storage::ReadOptions ro;
    ro.lower_bound = from;
    ro.upper_bound = PrefixEnd(from);
    std::unique_ptr<storage::Iterator> it = store_->NewIterator(ro, column);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      txn.batch().Put(column, to + std::string(it->key().substr(from.size())),
                      it->value());
    }
    if (absl::Status s = it->status(); !s.ok()) return s;
  }
  return out;
}

void Keyspace::ExpiredOnWrite(Txn& txn, uint8_t db, std::string_view key,
                              const Metadata& meta) {
  txn.DeleteKey(db, key, meta);
  ++txn.expired_;
  txn.expired_names_.emplace_back(db, std::string(key));
}

void Keyspace::MovedAway(Txn& txn, uint8_t db, std::string_view key,
                         const Metadata& meta) {
  txn.DeleteKey(db, key, meta);
  txn.expired_names_.emplace_back(db, std::string(key));
}

void Keyspace::SetExpiryListener(ExpiryListener listener) {
  std::shared_ptr<const ExpiryListener> l;
  if (listener) l = std::make_shared<const ExpiryListener>(std::move(listener));
  absl::MutexLock lock(&listener_mu_);
  listener_ = std::move(l);
}

// Every Txn commits while its command holds layout_mu_ shared.
void Keyspace::NotifyExpired(const Txn& txn) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (txn.expired_names_.empty()) return;
  std::shared_ptr<const ExpiryListener> listener;
  {
    absl::MutexLock lock(&listener_mu_);
    listener = listener_;
  }
  if (!listener) return;
  for (const auto& [pdb, key] : txn.expired_names_) {
    const int db = Logical(pdb);
    if (db >= 0) (*listener)(db, key);
  }
}

int Keyspace::Logical(uint8_t pdb) const {
  for (int i = 0; i < kNumDbs; ++i) {
    if (db_map_[i] == pdb) return i;
  }
  return -1;
}

std::vector<uint8_t> Keyspace::UnmappedDbs() const {
  std::vector<uint8_t> out;
  for (int p = 0; p < kNumPhysicalDbs; ++p) {
    if (Logical(static_cast<uint8_t>(p)) < 0) {
      out.push_back(static_cast<uint8_t>(p));
    }
  }
  return out;
}

absl::Status Keyspace::ClearDbs(const std::vector<uint8_t>& pdbs) {
  if (pdbs.empty()) return absl::OkStatus();
  storage::WriteBatch batch;
  for (uint8_t db : pdbs) {
    for (Column c : {Column::kMeta, Column::kMembers, Column::kScoreIndex}) {
      batch.DeleteRange(c, DbBegin(db), DbEnd(db));
    }
  }
  if (absl::Status s = store_->Write(batch); !s.ok()) return s;
  absl::MutexLock lock(&expire_mu_);
  for (uint8_t db : pdbs) {
    key_counts_[db].store(0);
    expire_index_[db].clear();
    for (int slot = 0; slot < kSlotCount; ++slot) {
      slot_counts_[static_cast<size_t>(db) * kSlotCount + slot].store(0);
    }
  }
  return absl::OkStatus();
}

absl::Status Keyspace::RemapAll(const uint8_t (&map)[kNumDbs]) {
  storage::WriteBatch batch;
  batch.Put(Column::kMeta, DbMapKey(),
            std::string_view(reinterpret_cast<const char*>(map), kNumDbs));
  if (absl::Status s = store_->Write(batch); !s.ok()) return s;
  std::copy(map, map + kNumDbs, db_map_);
  return absl::OkStatus();
}

void Keyspace::Apply(const Txn& txn) {
  for (int db = 0; db < kNumPhysicalDbs; ++db) {
    if (txn.key_deltas_[db] != 0)
      key_counts_[db].fetch_add(txn.key_deltas_[db]);
  }
  for (const auto& [index, delta] : txn.slot_deltas_) {
    slot_counts_[index].fetch_add(delta, std::memory_order_relaxed);
  }
  if (!txn.index_ops_.empty()) {
    absl::MutexLock lock(&expire_mu_);
    for (const Txn::IndexOp& op : txn.index_ops_) {
      auto& index = expire_index_[op.db];
      if (op.old_expire != 0) index.erase({op.old_expire, op.key});
      if (op.new_expire != 0) index.emplace(op.new_expire, op.key);
    }
  }
  if (txn.expired_ != 0) expired_keys_.fetch_add(txn.expired_);
  if (txn.garbage_ != 0) garbage_pending_.fetch_add(txn.garbage_);
}

uint64_t Keyspace::SlotRecords(uint8_t db, uint16_t slot) const {
  const int64_t n =
      slot_counts_[static_cast<size_t>(db) * kSlotCount + slot].load();
  return n > 0 ? static_cast<uint64_t>(n) : 0;
}

uint64_t Keyspace::DueCount(uint8_t db) {
  const int64_t now = NowMs();
  uint64_t due = 0;
  for (const auto& entry : expire_index_[db]) {
    if (entry.first > now) break;
    ++due;
  }
  return due;
}

uint64_t Keyspace::DbSize(uint8_t db) {
  absl::MutexLock lock(&expire_mu_);
  const int64_t n = key_counts_[db].load() - static_cast<int64_t>(DueCount(db));
  return n < 0 ? 0 : static_cast<uint64_t>(n);
}

uint64_t Keyspace::ExpiresCount(uint8_t db) {
  absl::MutexLock lock(&expire_mu_);
  return expire_index_[db].size() - DueCount(db);
}

int64_t Keyspace::AvgTtl(uint8_t db, size_t sample) {
  absl::MutexLock lock(&expire_mu_);
  const int64_t now = NowMs();
  int64_t sum = 0, n = 0;
  for (auto it = expire_index_[db].rbegin();
       it != expire_index_[db].rend() && static_cast<size_t>(n) < sample;
       ++it) {
    if (it->first <= now) break;
    sum += it->first - now;
    ++n;
  }
  return n == 0 ? 0 : sum / n;
}

uint64_t Keyspace::RememberCursor(uint8_t db, std::string meta_key) {
  absl::MutexLock lock(&cursor_mu_);
  const uint64_t id = next_cursor_++;
  cursors_[id] = {db, std::move(meta_key)};
  cursor_order_.push_back(id);
  while (cursor_order_.size() > kMaxCursors) {
    cursors_.erase(cursor_order_.front());
    cursor_order_.pop_front();
  }
  return id;
}

absl::StatusOr<Keyspace::ScanResult> Keyspace::Scan(
    uint8_t db, uint64_t cursor, std::string_view pattern, size_t count,
    std::optional<DataType> type) {
  ScanResult result;
  std::string start = DbBegin(db);
  if (cursor != 0) {
    absl::MutexLock lock(&cursor_mu_);
    auto it = cursors_.find(cursor);
    // An unknown or evicted cursor ends the iteration, as an invalid cursor
    // would not return more keys in a finished Redis scan either.
    if (it == cursors_.end() || it->second.first != db) return result;
    start = it->second.second;
    start.push_back('\0');  // the first key after the last one returned
  }
  storage::ReadOptions ro;
  ro.lower_bound = DbBegin(db);
  ro.upper_bound = DbEnd(db);
  std::unique_ptr<storage::Iterator> it =
      store_->NewIterator(ro, Column::kMeta);
  const int64_t now = NowMs();
  const bool match_all = pattern.empty() || pattern == "*";
  size_t examined = 0;
  std::string last;
  for (it->Seek(start); it->Valid(); it->Next()) {
    if (examined >= count) {
      result.cursor = RememberCursor(db, std::move(last));
      return result;
    }
    ++examined;
    last.assign(it->key());
    uint8_t kdb;
    uint16_t slot;
    std::string_view key;
    DataType t;
    int64_t expire_ms;
    if (!DecodeMetaKey(it->key(), &kdb, &slot, &key) ||
        !DecodeMetadataHeader(it->value(), &t, &expire_ms).ok()) {
      return absl::DataLossError("corrupt metadata record");
    }
    if (expire_ms != 0 && expire_ms <= now) continue;
    if (type && *type != t) continue;
    if (!match_all && !GlobMatch(pattern, key)) continue;
    result.keys.emplace_back(key);
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return result;
}

absl::Status Keyspace::Keys(uint8_t db, std::string_view pattern,
                            std::vector<std::string>* out) {
  storage::ReadOptions ro;
  ro.lower_bound = DbBegin(db);
  ro.upper_bound = DbEnd(db);
  std::unique_ptr<storage::Iterator> it =
      store_->NewIterator(ro, Column::kMeta);
  const int64_t now = NowMs();
  const bool match_all = pattern == "*";
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint8_t kdb;
    uint16_t slot;
    std::string_view key;
    DataType t;
    int64_t expire_ms;
    if (!DecodeMetaKey(it->key(), &kdb, &slot, &key) ||
        !DecodeMetadataHeader(it->value(), &t, &expire_ms).ok()) {
      return absl::DataLossError("corrupt metadata record");
    }
    if (expire_ms != 0 && expire_ms <= now) continue;
    if (match_all || GlobMatch(pattern, key)) out->emplace_back(key);
  }
  return it->status();
}

absl::StatusOr<std::optional<std::string>> Keyspace::RandomKey(uint8_t db) {
  if (key_counts_[db].load() <= 0) return std::nullopt;
  thread_local std::mt19937_64 rng(std::random_device{}());
  storage::ReadOptions ro;
  ro.lower_bound = DbBegin(db);
  ro.upper_bound = DbEnd(db);
  std::unique_ptr<storage::Iterator> it =
      store_->NewIterator(ro, Column::kMeta);
  const int64_t now = NowMs();
  // Seek to a random point (slot + first key byte) and take the first live
  // key from there, wrapping around once.
  std::string target = SlotBegin(db, rng() % 1024);
  target.push_back(static_cast<char>(rng() % 256));
  it->Seek(target);
  bool wrapped = false;
  while (true) {
    if (!it->Valid()) {
      if (absl::Status s = it->status(); !s.ok()) return s;
      if (wrapped) return std::nullopt;
      wrapped = true;
      it->SeekToFirst();
      continue;
    }
    if (wrapped && it->key() >= std::string_view(target)) return std::nullopt;
    DataType t;
    int64_t expire_ms;
    if (!DecodeMetadataHeader(it->value(), &t, &expire_ms).ok()) {
      return absl::DataLossError("corrupt metadata record");
    }
    if (expire_ms == 0 || expire_ms > now) {
      uint8_t kdb;
      uint16_t slot;
      std::string_view key;
      DecodeMetaKey(it->key(), &kdb, &slot, &key);
      return std::string(key);
    }
    it->Next();
  }
}

absl::Status Keyspace::FlushDb(uint8_t db) { return ClearDbs({db}); }

absl::Status Keyspace::FlushAll() {
  // Only the mapped databases: an RDB load may be staging in the others.
  return ClearDbs(std::vector<uint8_t>(db_map_, db_map_ + kNumDbs));
}

absl::Status Keyspace::SwapDb(int a, int b) {
  uint8_t map[kNumDbs];
  std::copy(db_map_, db_map_ + kNumDbs, map);
  std::swap(map[a], map[b]);
  storage::WriteBatch batch;
  batch.Put(Column::kMeta, DbMapKey(),
            std::string_view(reinterpret_cast<const char*>(map), kNumDbs));
  if (absl::Status s = store_->Write(batch); !s.ok()) return s;
  std::swap(db_map_[a], db_map_[b]);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Keyspace::ExpireCycle(absl::Duration budget) {
  const absl::Time deadline = absl::Now() + budget;
  uint64_t expired = 0;
  if (!active_expiry()) return expired;
  absl::ReaderMutexLock layout(&layout_mu_);
  for (int logical = 0; logical < kNumDbs; ++logical) {
    const uint8_t db = db_map_[logical];
    while (absl::Now() < deadline) {
      // Take a small batch of due entries, then delete each under its lock.
      std::vector<std::pair<int64_t, std::string>> due;
      {
        absl::MutexLock lock(&expire_mu_);
        const int64_t now = NowMs();
        for (const auto& entry : expire_index_[db]) {
          if (entry.first > now || due.size() >= 64) break;
          due.push_back(entry);
        }
      }
      if (due.empty()) break;
      size_t skipped = 0;
      for (const auto& [expire_ms, key] : due) {
        // A key moving in chunks (docs/slots.md) is left to its mover.
        std::optional<KeyLocks::Guard> guard = locks_.LockUnlessMarked(db, key);
        if (!guard) {
          ++skipped;
          continue;
        }
        Txn txn(this);
        absl::StatusOr<std::optional<Metadata>> meta =
            LookupForWrite(txn, db, key);
        if (!meta.ok()) return meta.status();
        const bool deleted = !txn.batch().empty();
        if (absl::Status s = txn.Commit(); !s.ok()) return s;
        if (deleted) {
          ++expired;
        } else {
          // The key changed since: its index entry is stale; drop it so the
          // loop makes progress.
          absl::MutexLock lock(&expire_mu_);
          expire_index_[db].erase({expire_ms, key});
        }
      }
      if (skipped == due.size()) break;
    }
  }
  return expired;
}

absl::StatusOr<uint64_t> Keyspace::MaybeCollectGarbage(bool force) {
  if (store_->engine() == storage::Engine::kRocksDb && !force) return 0;
  if (!force && garbage_pending_.load() < kGarbageSweepThreshold) return 0;
  garbage_pending_.store(0);
  return store_->CollectGarbage();
}

void Keyspace::ResetStats() {
  expired_keys_.store(0);
  hits_.store(0);
  misses_.store(0);
}

}  // namespace reborn::qdb
