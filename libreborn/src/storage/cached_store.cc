#include "storage/cached_store.h"

#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace reborn::storage {
namespace {

// Bytes a node costs beyond its key and value: the list node, the strings'
// headers and the index slot.
constexpr size_t kNodeOverhead = 112;

size_t Cost(std::string_view key, std::string_view value) {
  return key.size() + value.size() + kNodeOverhead;
}

}  // namespace

CachedStore::CachedStore(std::unique_ptr<KvStore> base, Column column,
                         size_t capacity_bytes)
    : ForwardingKvStore(std::move(base)),
      column_(column),
      shard_capacity_(capacity_bytes / kShards),
      shards_(std::make_unique<Shard[]>(kShards)) {}

CachedStore::~CachedStore() = default;

CachedStore::Shard& CachedStore::ShardOf(std::string_view key) {
  return shards_[absl::Hash<std::string_view>{}(key) % kShards];
}

CachedStore::Probe CachedStore::Lookup(Shard& shard, std::string_view key,
                                       std::string* value, uint64_t* ticket) {
  std::lock_guard<std::mutex> lock(shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    *ticket = shard.writes;
    return Probe::kMiss;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  const Node& node = *found->second;
  if (node.absent) return Probe::kAbsent;
  value->assign(node.value);
  return Probe::kHit;
}

void CachedStore::Insert(Shard& shard, std::string_view key,
                         const std::string* value) {
  shard.lru.push_front(
      Node{std::string(key), value ? *value : std::string(), value == nullptr});
  auto it = shard.lru.begin();
  shard.index.emplace(it->key, it);
  shard.bytes += Cost(it->key, it->value);
}

void CachedStore::Erase(Shard& shard, std::list<Node>::iterator it) {
  shard.bytes -= Cost(it->key, it->value);
  shard.index.erase(it->key);
  shard.lru.erase(it);
}

void CachedStore::Evict(Shard& shard) {
  const size_t capacity = shard_capacity_.load();
  while (shard.bytes > capacity && !shard.lru.empty()) {
    Erase(shard, std::prev(shard.lru.end()));
  }
}

void CachedStore::Fill(Shard& shard, std::string_view key,
                       const std::string* value, uint64_t ticket) {
  if (value != nullptr && value->size() > max_record()) return;
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.writes != ticket || shard.index.contains(key)) return;
  Insert(shard, key, value);
  Evict(shard);
}

void CachedStore::Update(Shard& shard, std::string_view key,
                         const std::string* value, bool drop) {
  ++shard.writes;
  auto found = shard.index.find(key);
  if (drop || (value != nullptr && value->size() > max_record())) {
    if (found != shard.index.end()) Erase(shard, found->second);
    return;
  }
  if (found == shard.index.end()) {
    // A delete of a key the cache does not hold adds nothing: mass
    // deletions (a slot moving away, expiry) would push hot entries out.
    if (value != nullptr) Insert(shard, key, value);
  } else {
    Node& node = *found->second;
    shard.bytes -= node.value.size();
    node.absent = value == nullptr;
    node.value = value ? *value : std::string();
    shard.bytes += node.value.size();
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  }
  Evict(shard);
}

void CachedStore::DropRange(std::string_view begin, std::string_view end) {
  for (size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard<std::mutex> lock(shard.mu);
    ++shard.writes;
    for (auto it = shard.lru.begin(); it != shard.lru.end();) {
      auto next = std::next(it);
      if (it->key >= begin && it->key < end) Erase(shard, it);
      it = next;
    }
  }
}

absl::Status CachedStore::Get(const ReadOptions& options, Column column,
                              std::string_view key, std::string* value) {
  if (!Cached(options, column)) {
    return base().Get(options, column, key, value);
  }
  Shard& shard = ShardOf(key);
  uint64_t ticket = 0;
  switch (Lookup(shard, key, value, &ticket)) {
    case Probe::kHit:
      hits_.fetch_add(1, std::memory_order_relaxed);
      return absl::OkStatus();
    case Probe::kAbsent:
      hits_.fetch_add(1, std::memory_order_relaxed);
      return absl::NotFoundError("not found");
    case Probe::kMiss:
      break;
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  absl::Status s = base().Get(options, column, key, value);
  if (s.ok()) {
    Fill(shard, key, value, ticket);
  } else if (absl::IsNotFound(s)) {
    Fill(shard, key, nullptr, ticket);
  }
  return s;
}

std::vector<absl::Status> CachedStore::MultiGet(
    const ReadOptions& options, Column column,
    const std::vector<std::string>& keys, std::vector<std::string>* values) {
  if (!Cached(options, column)) {
    return base().MultiGet(options, column, keys, values);
  }
  values->assign(keys.size(), std::string());
  std::vector<absl::Status> statuses(keys.size());
  std::vector<size_t> missing;
  std::vector<uint64_t> tickets;
  for (size_t i = 0; i < keys.size(); ++i) {
    uint64_t ticket = 0;
    switch (Lookup(ShardOf(keys[i]), keys[i], &(*values)[i], &ticket)) {
      case Probe::kHit:
        break;
      case Probe::kAbsent:
        statuses[i] = absl::NotFoundError("not found");
        break;
      case Probe::kMiss:
        missing.push_back(i);
        tickets.push_back(ticket);
        break;
    }
  }
  hits_.fetch_add(keys.size() - missing.size(), std::memory_order_relaxed);
  if (missing.empty()) return statuses;
  misses_.fetch_add(missing.size(), std::memory_order_relaxed);
  std::vector<std::string> miss_keys;
  miss_keys.reserve(missing.size());
  for (size_t i : missing) miss_keys.push_back(keys[i]);
  std::vector<std::string> miss_values;
  std::vector<absl::Status> miss_statuses =
      base().MultiGet(options, column, miss_keys, &miss_values);
  for (size_t j = 0; j < missing.size(); ++j) {
    const size_t i = missing[j];
    statuses[i] = std::move(miss_statuses[j]);
    (*values)[i] = std::move(miss_values[j]);
    Shard& shard = ShardOf(keys[i]);
    if (statuses[i].ok()) {
      Fill(shard, keys[i], &(*values)[i], tickets[j]);
    } else if (absl::IsNotFound(statuses[i])) {
      Fill(shard, keys[i], nullptr, tickets[j]);
    }
  }
  return statuses;
}

absl::Status CachedStore::Write(const WriteBatch& batch) {
  absl::Status s = base().Write(batch);
  for (const WriteBatch::Entry& e : batch.entries()) {
    if (e.column != column_) continue;
    if (e.op == WriteBatch::Op::kDeleteRange) {
      DropRange(e.key, e.value);
      continue;
    }
    Shard& shard = ShardOf(e.key);
    std::lock_guard<std::mutex> lock(shard.mu);
    // A failed write may or may not have reached the store: forget the key.
    Update(shard, e.key, e.op == WriteBatch::Op::kPut ? &e.value : nullptr,
           !s.ok());
  }
  return s;
}

absl::Status CachedStore::SetHotCacheCapacity(size_t bytes) {
  shard_capacity_.store(bytes / kShards);
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    Evict(shards_[i]);
  }
  return absl::OkStatus();
}

uint64_t CachedStore::used_bytes() {
  uint64_t total = 0;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    total += shards_[i].bytes;
  }
  return total;
}

uint64_t CachedStore::ApproximateMemoryBytes() {
  return base().ApproximateMemoryBytes() + used_bytes();
}

void CachedStore::AppendStats(std::string* out) {
  base().AppendStats(out);
  absl::StrAppend(out, "hot_cache_capacity:", shard_capacity_.load() * kShards,
                  "\r\nhot_cache_usage:", used_bytes(),
                  "\r\nhot_cache_hits:", hits(),
                  "\r\nhot_cache_misses:", misses(), "\r\n");
}

}  // namespace reborn::storage
