#include "qdb/slots/key_move.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "qdb/engine_core.h"
#include "qdb/errors.h"
#include "qdb/slots/dump_restore.h"
#include "qdb/types/zsets.h"
#include "rdb/dump.h"
#include "reborn/slot.h"

namespace reborn::qdb {
namespace {

using storage::Column;

constexpr size_t kMaxCursors = 4096;
// SLOTSSCAN cursor numbers wrap below 2^40, so reborn-proxy can carry one in
// its own 64-bit SCAN cursor next to the slot (docs/proxy.md, "SCAN"). They
// start at a random point: a cursor another server handed out (the master
// before a failover, say) is then unknown here and answered "invalid"
// instead of resuming at an unrelated key.
constexpr uint64_t kMaxScanCursor = uint64_t{1} << 40;
constexpr size_t kMaxIdlePerTarget = 16;
constexpr size_t kDeleteBatch = 256;
constexpr int kMigrationWorkers = 4;
// Chunks of one big key in flight to the target before the source waits for
// the first reply: the source reads the next chunk while the target writes.
constexpr size_t kChunkWindow = 4;

std::unique_ptr<storage::Iterator> MetaRange(Keyspace& ks, std::string lower,
                                             std::string upper) {
  storage::ReadOptions ro;
  ro.lower_bound = std::move(lower);
  ro.upper_bound = std::move(upper);
  ro.fill_cache = false;
  return ks.store().NewIterator(ro, Column::kMeta);
}

std::string PoolKey(const MigrateTarget& t) {
  return absl::StrCat(t.host, ":", t.port, "/", t.db, "/", t.timeout.count());
}

absl::Status MigrateError(std::string_view what) {
  return RedisError(absl::StrCat("ERR slots migration: ", ToAbsl(what)));
}

}  // namespace

Slots::Slots(EngineCore& core, std::string target_password, ChunkLimits chunk)
    : core_(core),
      ks_(core.keyspace()),
      password_(std::move(target_password)),
      chunk_{std::max<size_t>(chunk.members, 1),
             std::max<size_t>(chunk.bytes, 1)},
      staging_(core),
      nonce_(std::random_device{}()) {
  {
    absl::MutexLock lock(&cursor_mu_);
    std::random_device seed;
    next_cursor_ =
        1 + ((uint64_t{seed()} << 32 | seed()) % (kMaxScanCursor - 1));
  }
  for (int i = 0; i < kMigrationWorkers; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

Slots::~Slots() {
  {
    absl::MutexLock lock(&work_mu_);
    stop_ = true;
  }
  for (std::thread& t : workers_) t.join();
}

void Slots::Submit(std::function<void()> job) {
  absl::MutexLock lock(&work_mu_);
  jobs_.push_back(std::move(job));
}

void Slots::WorkerLoop() {
  while (true) {
    std::function<void()> job;
    {
      absl::MutexLock lock(&work_mu_);
      work_mu_.Await(absl::Condition(
          +[](Slots* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->work_mu_) {
            return s->stop_ || !s->jobs_.empty();
          },
          this));
      if (jobs_.empty()) return;  // stopping, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

absl::StatusOr<uint64_t> Slots::Count(uint8_t db, uint16_t slot) {
  auto info = Info(db, slot, 1);
  if (!info.ok()) return info.status();
  return info->empty() ? 0 : info->front().second;
}

absl::StatusOr<std::vector<std::pair<uint16_t, uint64_t>>> Slots::Info(
    uint8_t db, int start, int count) {
  std::vector<std::pair<uint16_t, uint64_t>> out;
  start = std::clamp(start, 0, kSlotCount);
  const int end = static_cast<int>(
      std::min<int64_t>(kSlotCount, static_cast<int64_t>(start) + count));
  if (start >= end) return out;
  auto it = MetaRange(ks_, SlotBegin(db, static_cast<uint16_t>(start)),
                      SlotEnd(db, static_cast<uint16_t>(end - 1)));
  const int64_t now = Keyspace::NowMs();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint8_t d;
    uint16_t slot;
    std::string_view key;
    DataType type;
    int64_t expire_ms;
    if (!DecodeMetaKey(it->key(), &d, &slot, &key) ||
        !DecodeMetadataHeader(it->value(), &type, &expire_ms).ok()) {
      return absl::DataLossError("corrupt metadata record");
    }
    if (expire_ms != 0 && expire_ms <= now) continue;
    if (out.empty() || out.back().first != slot) out.emplace_back(slot, 0);
    ++out.back().second;
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return out;
}

absl::StatusOr<Slots::ScanResult> Slots::Scan(uint8_t db, uint16_t slot,
                                              uint64_t cursor, size_t count,
                                              int span) {
  span = std::clamp(span, 1, kSlotCount - slot);
  const uint16_t last = static_cast<uint16_t>(slot + span - 1);
  // A cursor names the metadata key of the first record not yet examined;
  // the scan resumes there (or after it, if it was deleted meanwhile).
  std::string from = SlotBegin(db, slot);
  if (cursor != 0) {
    absl::MutexLock lock(&cursor_mu_);
    auto found = cursors_.find(cursor);
    if (found == cursors_.end() ||
        found->second.compare(0, from.size(), from) != 0) {
      return RedisError("ERR invalid cursor");
    }
    from = found->second;
  }
  ScanResult out;
  // Slots [slot, last] of one database are one range of metadata keys, so
  // empty slots cost nothing.
  auto it = MetaRange(ks_, from, SlotEnd(db, last));
  const int64_t now = Keyspace::NowMs();
  count = std::max<size_t>(count, 1);
  size_t examined = 0;
  for (it->SeekToFirst(); it->Valid() && examined < count; it->Next()) {
    uint8_t d;
    uint16_t s;
    std::string_view key;
    DataType type;
    int64_t expire_ms;
    if (!DecodeMetaKey(it->key(), &d, &s, &key) ||
        !DecodeMetadataHeader(it->value(), &type, &expire_ms).ok()) {
      return absl::DataLossError("corrupt metadata record");
    }
    ++examined;
    if (expire_ms != 0 && expire_ms <= now) continue;
    out.keys.emplace_back(key);
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  if (!it->Valid()) {  // reached the end of the range
    out.next_slot = slot + span;
    return out;
  }
  {
    uint8_t d;
    uint16_t s;
    std::string_view key;
    if (!DecodeMetaKey(it->key(), &d, &s, &key)) {
      return absl::DataLossError("corrupt metadata record");
    }
    out.next_slot = s;
  }
  absl::MutexLock lock(&cursor_mu_);
  const uint64_t id = next_cursor_;
  next_cursor_ = next_cursor_ + 1 < kMaxScanCursor ? next_cursor_ + 1 : 1;
  cursors_[id] = std::string(it->key());
  cursor_order_.push_back(id);
  if (cursor_order_.size() > kMaxCursors) {
    cursors_.erase(cursor_order_.front());
    cursor_order_.pop_front();
  }
  out.cursor = id;
  return out;
}

absl::StatusOr<uint64_t> Slots::DeleteSlot(uint8_t db, uint16_t slot) {
  while (true) {
    auto keys = FirstKeys(db, slot, kDeleteBatch);
    if (!keys.ok()) return keys.status();
    if (keys->empty()) break;
    auto deleted = core_.keys().Del(db, *keys);
    if (!deleted.ok()) return deleted.status();
    if (keys->size() < kDeleteBatch) break;
  }
  return Count(db, slot);
}

// The caller holds layout_mu exclusively (SLOTSCHECK).
absl::Status Slots::Check() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (int logical = 0; logical < kNumDbs; ++logical) {
    const uint8_t db = ks_.Physical(logical);
    auto it = MetaRange(ks_, DbBegin(db), DbEnd(db));
    uint64_t records = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint8_t d;
      uint16_t slot;
      std::string_view key;
      if (!DecodeMetaKey(it->key(), &d, &slot, &key)) {
        return absl::DataLossError(
            absl::StrCat("db ", logical, ": undecodable metadata key"));
      }
      if (slot != SlotOf(key)) {
        return absl::DataLossError(absl::StrCat(
            "db ", logical, " key '", ToAbsl(key), "' is stored in slot ", slot,
            " but hashes to slot ", SlotOf(key)));
      }
      Metadata meta;
      if (!DecodeMetadata(it->value(), &meta).ok()) {
        return absl::DataLossError(absl::StrCat(
            "db ", logical, " key '", ToAbsl(key), "': corrupt metadata"));
      }
      ++records;
    }
    if (absl::Status s = it->status(); !s.ok()) return s;
    if (records != ks_.DbSize(db)) {
      return absl::DataLossError(
          absl::StrCat("db ", logical, " holds ", records,
                       " keys but its key count is ", ks_.DbSize(db)));
    }
  }
  return absl::OkStatus();
}

absl::Status Slots::RestoreMany(uint8_t db,
                                const std::vector<RestoreItem>& items) {
  // The last payload of each key wins; decode everything before writing.
  absl::flat_hash_map<std::string_view, size_t> last;
  for (size_t i = 0; i < items.size(); ++i) last[items[i].key] = i;
  std::vector<std::string_view> keys;
  std::vector<rdb::Value> values;
  std::vector<int64_t> ttls;
  std::vector<std::pair<uint8_t, std::string_view>> lock_keys;
  for (size_t i = 0; i < items.size(); ++i) {
    if (last[items[i].key] != i) continue;
    if (items[i].ttl_ms < 0) {
      return RedisError("ERR invalid ttl value, must be >= 0");
    }
    std::string detail;
    absl::StatusOr<rdb::Value> v =
        rdb::DecodeDump(items[i].payload, rdb::Limits{}, &detail);
    if (!v.ok()) return v.status();
    keys.push_back(items[i].key);
    values.push_back(std::move(*v));
    ttls.push_back(items[i].ttl_ms);
    lock_keys.emplace_back(db, items[i].key);
  }
  KeyLocks::Guard guard = ks_.locks().LockMany(lock_keys);
  Txn txn(&ks_);
  auto olds = ks_.LookupManyForWrite(txn, db, keys);
  if (!olds.ok()) return olds.status();
  const int64_t now = Keyspace::NowMs();
  for (size_t i = 0; i < keys.size(); ++i) {
    const Metadata* old = (*olds)[i] ? &*(*olds)[i] : nullptr;
    absl::StatusOr<Metadata> meta =
        WriteValue(core_, txn, db, keys[i], values[i]);
    if (!meta.ok()) return meta.status();
    meta->expire_ms = ttls[i] == 0 ? 0 : now + ttls[i];
    txn.PutMeta(db, keys[i], old, *meta);
  }
  return txn.Commit();
}

absl::StatusOr<std::vector<std::string>> Slots::TagGroup(uint8_t db,
                                                         uint16_t slot,
                                                         std::string_view tag) {
  std::vector<std::string> out;
  auto it = MetaRange(ks_, SlotBegin(db, slot), SlotEnd(db, slot));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint8_t d;
    uint16_t s;
    std::string_view key;
    if (!DecodeMetaKey(it->key(), &d, &s, &key)) {
      return absl::DataLossError("corrupt metadata key");
    }
    if (HashTag(key) == tag) out.emplace_back(key);
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<std::string>> Slots::FirstKeys(uint8_t db,
                                                          uint16_t slot,
                                                          size_t limit,
                                                          bool resume) {
  const std::string begin = SlotBegin(db, slot);
  std::string from = begin;
  if (resume) {
    absl::MutexLock lock(&resume_mu_);
    auto found = resume_.find(static_cast<uint32_t>(db) * kSlotCount + slot);
    if (found != resume_.end()) from = found->second;
  }
  std::vector<std::string> out;
  while (true) {
    auto it = MetaRange(ks_, from, SlotEnd(db, slot));
    for (it->SeekToFirst(); it->Valid() && out.size() < limit; it->Next()) {
      uint8_t d;
      uint16_t s;
      std::string_view key;
      if (!DecodeMetaKey(it->key(), &d, &s, &key)) {
        return absl::DataLossError("corrupt metadata key");
      }
      out.emplace_back(key);
    }
    if (absl::Status s = it->status(); !s.ok()) return s;
    if (!out.empty() || from == begin) return out;
    from = begin;  // nothing after the resume point: look from the start
  }
}

void Slots::SetResume(uint8_t db, uint16_t slot, std::string_view last_key) {
  std::string from = EncodeMetaKey(db, last_key);
  from.push_back('\0');  // the first key after it
  absl::MutexLock lock(&resume_mu_);
  resume_[static_cast<uint32_t>(db) * kSlotCount + slot] = std::move(from);
}

bool Slots::IsBig(const Metadata& meta) const {
  // A stream moves whole: its groups live in its metadata.
  if (meta.type == DataType::kStream) return false;
  if (meta.type == DataType::kString) return meta.value.size() > chunk_.bytes;
  return meta.size > chunk_.members;
}

absl::StatusOr<int64_t> Slots::MoveKeys(const MigrateTarget& target, uint8_t db,
                                        const std::vector<std::string>& keys,
                                        size_t* bytes) {
  if (keys.empty()) return 0;
  std::vector<std::pair<uint8_t, std::string_view>> lock_keys;
  std::vector<std::string_view> views;
  for (const std::string& k : keys) {
    lock_keys.emplace_back(db, k);
    views.push_back(k);
  }
  // Writers of these keys wait from here until the keys are gone.
  KeyLocks::Guard guard = ks_.locks().LockMany(lock_keys);
  Txn txn(&ks_);
  auto metas = ks_.LookupManyForWrite(txn, db, views);
  if (!metas.ok()) return metas.status();
  const int64_t now = Keyspace::NowMs();
  std::vector<std::string> cmd = {"SLOTSRESTORE"};
  std::vector<size_t> live;
  // Big keys are marked (their writers keep waiting, on the mark) and move
  // in chunks once the stripes are released; the marks go when they did.
  std::vector<size_t> big;
  struct Unmarker {
    KeyLocks& locks;
    uint8_t db;
    const std::vector<std::string>& keys;
    std::vector<size_t>& marked;
    ~Unmarker() {
      for (size_t i : marked) locks.Unmark(db, keys[i]);
    }
  } unmarker{ks_.locks(), db, keys, big};
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::optional<Metadata>& meta = (*metas)[i];
    if (!meta) continue;
    int64_t ttl = 0;
    if (meta->expire_ms != 0) {
      ttl = meta->expire_ms - now;
      if (ttl <= 0) {  // expired meanwhile: drop it with the batch
        txn.DeleteKey(db, keys[i], *meta);
        continue;
      }
    }
    if (IsBig(*meta)) {
      if (ks_.locks().Mark(db, keys[i])) big.push_back(i);
      continue;
    }
    absl::StatusOr<rdb::Value> value = ReadValue(core_, db, keys[i], *meta);
    if (!value.ok()) return value.status();
    cmd.push_back(keys[i]);
    cmd.push_back(absl::StrCat(ttl));
    cmd.push_back(rdb::EncodeDump(*value));
    *bytes += cmd.back().size() + keys[i].size();
    live.push_back(i);
  }
  if (!live.empty()) {
    absl::StatusOr<net::SyncClient> client = Acquire(target);
    if (!client.ok()) return MigrateError(client.status().ToString());
    absl::StatusOr<Reply> reply = client->Call(cmd);
    if (!reply.ok()) return MigrateError(reply.status().ToString());
    Release(target, std::move(*client));
    if (reply->type != Reply::Type::kStatus || reply->str != "OK") {
      return MigrateError(absl::StrCat("target replied: ", reply->str));
    }
    // Acknowledged: the keys leave the source.
    for (size_t i : live) ks_.MovedAway(txn, db, keys[i], *(*metas)[i]);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  guard.Release();
  int64_t moved = static_cast<int64_t>(live.size());
  while (!big.empty()) {
    const size_t i = big.back();
    absl::StatusOr<int64_t> n =
        MoveBigKey(target, db, keys[i], *(*metas)[i], bytes);
    big.pop_back();
    ks_.locks().Unmark(db, keys[i]);
    if (!n.ok()) return n.status();
    moved += *n;
  }
  return moved;
}

absl::StatusOr<uint64_t> Slots::SendChunks(net::SyncClient& client, uint8_t db,
                                           const std::string& key,
                                           const std::string& token,
                                           const Metadata& meta,
                                           size_t* bytes) {
  size_t in_flight = 0;
  uint64_t sent = 0;
  auto await_one = [&]() -> absl::Status {
    absl::StatusOr<Reply> r = client.Receive();
    if (!r.ok()) return r.status();
    --in_flight;
    if (r->type != Reply::Type::kInteger) {
      return absl::AbortedError(absl::StrCat("target replied: ", r->str));
    }
    return absl::OkStatus();
  };
  auto send = [&](const rdb::Value& part) -> absl::Status {
    if (in_flight >= kChunkWindow) {
      if (absl::Status s = await_one(); !s.ok()) return s;
    }
    std::vector<std::string> cmd = {"SLOTSRESTORE-CHUNK", "ADD", key, token,
                                    rdb::EncodeDump(part)};
    *bytes += cmd.back().size();
    sent +=
        part.type == rdb::ValueType::kString ? part.str.size() : part.size();
    if (absl::Status s = client.Send(cmd); !s.ok()) return s;
    ++in_flight;
    return absl::OkStatus();
  };
  if (meta.type == DataType::kString) {
    for (size_t off = 0; off < meta.value.size(); off += chunk_.bytes) {
      absl::Status s =
          send(rdb::Value::String(meta.value.substr(off, chunk_.bytes)));
      if (!s.ok()) return s;
    }
  } else {
    // The members of the key's version, in key order (a list's in index
    // order). The key cannot change meanwhile: its writers wait on the mark.
    storage::ReadOptions ro;
    ro.lower_bound = MemberPrefix(db, key, meta.version);
    ro.upper_bound = PrefixEnd(ro.lower_bound);
    ro.fill_cache = false;
    const size_t prefix = ro.lower_bound.size();
    std::unique_ptr<storage::Iterator> it =
        ks_.store().NewIterator(ro, Column::kMembers);
    rdb::Value part;
    size_t part_members = 0, part_bytes = 0;
    auto flush = [&]() -> absl::Status {
      if (part_members == 0) return absl::OkStatus();
      absl::Status s = send(part);
      part = rdb::Value{};
      part_members = part_bytes = 0;
      return s;
    };
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string member(it->key().substr(prefix));
      std::string_view value = it->value();
      ++part_members;
      part_bytes += member.size() + value.size();
      switch (meta.type) {
        case DataType::kHash:
          part.type = rdb::ValueType::kHash;
          part.fields.emplace_back(std::move(member), std::string(value));
          break;
        case DataType::kSet:
          part.type = rdb::ValueType::kSet;
          part.items.push_back(std::move(member));
          break;
        case DataType::kList:
          part.type = rdb::ValueType::kList;
          part.items.emplace_back(value);
          break;
        case DataType::kZSet:
          part.type = rdb::ValueType::kZset;
          part.scores.emplace_back(std::move(member), DecodeScore(value));
          break;
        case DataType::kString:
        case DataType::kStream:  // never chunked (IsBig)
          break;
      }
      if (part_members >= chunk_.members || part_bytes >= chunk_.bytes) {
        if (absl::Status s = flush(); !s.ok()) return s;
      }
    }
    if (absl::Status s = it->status(); !s.ok()) return s;
    if (absl::Status s = flush(); !s.ok()) return s;
  }
  while (in_flight > 0) {
    if (absl::Status s = await_one(); !s.ok()) return s;
  }
  return sent;
}

absl::StatusOr<int64_t> Slots::MoveBigKey(const MigrateTarget& target,
                                          uint8_t db, const std::string& key,
                                          const Metadata& meta, size_t* bytes) {
  const std::string token = absl::StrCat(nonce_, "-", Keyspace::NowMs(), "-",
                                         next_transfer_.fetch_add(1));
  absl::StatusOr<net::SyncClient> client = Acquire(target);
  if (!client.ok()) return MigrateError(client.status().ToString());
  auto call = [&](std::vector<std::string> cmd) -> absl::Status {
    absl::StatusOr<Reply> r = client->Call(cmd);
    if (!r.ok()) return r.status();
    if (r->type != Reply::Type::kStatus || r->str != "OK") {
      return absl::AbortedError(absl::StrCat("target replied: ", r->str));
    }
    return absl::OkStatus();
  };
  auto fail = [&](const absl::Status& why) {
    // Best effort, on a fresh connection (this one may still have replies
    // in flight): the target drops the partial copy now, or at the next
    // transfer of the key, or when it restarts.
    client->Close();
    absl::StatusOr<net::SyncClient> other = Acquire(target);
    if (other.ok() &&
        other->Call({"SLOTSRESTORE-CHUNK", "ABORT", key, token}).ok()) {
      Release(target, std::move(*other));
    }
    return MigrateError(why.ToString());
  };
  absl::Status s = call({"SLOTSRESTORE-CHUNK", "BEGIN", key, token,
                         std::string(TypeName(meta.type))});
  if (!s.ok()) return fail(s);
  absl::StatusOr<uint64_t> sent =
      SendChunks(*client, db, key, token, meta, bytes);
  if (!sent.ok()) return fail(sent.status());
  int64_t ttl = 0;
  if (meta.expire_ms != 0) {
    ttl = meta.expire_ms - Keyspace::NowMs();
    if (ttl <= 0) {
      // Expired during the transfer: it is dropped, not moved.
      (void)fail(absl::OkStatus());
      KeyLocks::Guard guard = ks_.locks().LockIgnoringMarks(db, key);
      Txn txn(&ks_);
      auto now = ks_.LookupForWrite(txn, db, key);
      if (!now.ok()) return now.status();
      if (absl::Status c = txn.Commit(); !c.ok()) return c;
      return 0;
    }
  }
  s = call({"SLOTSRESTORE-CHUNK", "COMMIT", key, token, absl::StrCat(ttl),
            absl::StrCat(*sent)});
  if (!s.ok()) return fail(s);
  Release(target, std::move(*client));
  // Acknowledged: the key leaves the source (its writers still wait on the
  // mark, which the caller clears next).
  KeyLocks::Guard guard = ks_.locks().LockIgnoringMarks(db, key);
  Txn txn(&ks_);
  auto now = ks_.LookupForWrite(txn, db, key);
  if (!now.ok()) return now.status();
  if (*now && (*now)->version == meta.version) {
    ks_.MovedAway(txn, db, key, **now);
  }
  if (absl::Status c = txn.Commit(); !c.ok()) return c;
  return 1;
}

absl::StatusOr<int64_t> Slots::MigrateKey(const MigrateTarget& target,
                                          uint8_t db, std::string_view key,
                                          bool tag) {
  std::vector<std::string> keys;
  const std::string_view t = HashTag(key);
  if (!tag || t.size() == key.size()) {
    keys.emplace_back(key);
  } else {
    auto group = TagGroup(db, static_cast<uint16_t>(SlotOf(key)), t);
    if (!group.ok()) return group.status();
    keys = std::move(*group);
  }
  size_t bytes = 0;
  return MoveKeys(target, db, keys, &bytes);
}

absl::StatusOr<std::pair<int64_t, uint64_t>> Slots::MigrateSlot(
    const MigrateTarget& target, uint8_t db, uint16_t slot, bool tag) {
  int64_t moved = 0;
  // Expired keys move as 0 and are removed; try the next one.
  for (int attempts = 0; attempts < 16 && moved == 0; ++attempts) {
    auto first = FirstKeys(db, slot, 1, /*resume=*/true);
    if (!first.ok()) return first.status();
    if (first->empty()) break;
    SetResume(db, slot, first->front());
    auto n = MigrateKey(target, db, first->front(), tag);
    if (!n.ok()) return n.status();
    moved = *n;  // 0: the key expired and MoveKeys removed it
  }
  return std::make_pair(moved, ks_.SlotRecords(db, slot));
}

absl::StatusOr<std::pair<int64_t, uint64_t>> Slots::MigrateSlotBatch(
    const MigrateTarget& target, uint8_t db, uint16_t slot, size_t max_keys,
    size_t max_bytes) {
  int64_t moved = 0;
  size_t bytes = 0;
  max_keys = std::max<size_t>(max_keys, 1);
  while (static_cast<size_t>(moved) < max_keys && bytes < max_bytes) {
    const size_t want =
        std::min<size_t>(max_keys - static_cast<size_t>(moved), 512);
    auto first = FirstKeys(db, slot, want, /*resume=*/true);
    if (!first.ok()) return first.status();
    if (first->empty()) break;
    SetResume(db, slot, first->back());
    // Whole tag groups only: add every key sharing a tag with a picked key.
    std::vector<std::string> keys;
    absl::flat_hash_map<std::string, bool> tags_done;
    for (const std::string& k : *first) {
      const std::string_view t = HashTag(k);
      if (t.size() == k.size()) {
        keys.push_back(k);
        continue;
      }
      if (!tags_done.emplace(std::string(t), true).second) continue;
      auto group = TagGroup(db, slot, t);
      if (!group.ok()) return group.status();
      keys.insert(keys.end(), group->begin(), group->end());
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    auto n = MoveKeys(target, db, keys, &bytes);
    if (!n.ok()) return n.status();
    moved += *n;
    if (first->size() < want) break;
  }
  return std::make_pair(moved, ks_.SlotRecords(db, slot));
}

absl::StatusOr<net::SyncClient> Slots::Acquire(const MigrateTarget& target) {
  {
    absl::MutexLock lock(&pool_mu_);
    auto found = idle_.find(PoolKey(target));
    if (found != idle_.end() && !found->second.empty()) {
      net::SyncClient c = std::move(found->second.back());
      found->second.pop_back();
      return c;
    }
  }
  auto client = net::SyncClient::Connect(target.host, target.port,
                                         target.timeout, password_);
  if (!client.ok()) return client.status();
  if (target.db != 0) {
    auto r = client->Call({"SELECT", absl::StrCat(target.db)});
    if (!r.ok()) return r.status();
    if (r->is_error()) return absl::UnavailableError(r->str);
  }
  return client;
}

void Slots::Release(const MigrateTarget& target, net::SyncClient client) {
  if (!client.connected()) return;
  absl::MutexLock lock(&pool_mu_);
  std::vector<net::SyncClient>& idle = idle_[PoolKey(target)];
  if (idle.size() < kMaxIdlePerTarget) idle.push_back(std::move(client));
}

}  // namespace reborn::qdb
