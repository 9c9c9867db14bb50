#include "qdb/types/streams.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "qdb/errors.h"
#include "rdb/listpack.h"

namespace reborn::qdb {
namespace {

using storage::Column;

constexpr char kEntryTag = 'e';
constexpr char kPelTag = 'p';

void PutId(std::string* out, StreamId id) {
  PutFixed64(out, id.ms);
  PutFixed64(out, id.seq);
}
StreamId GetId(const char* p) { return {GetFixed64(p), GetFixed64(p + 8)}; }

void PutString(std::string* out, std::string_view s) {
  PutFixed32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// A bounds-checked reader of the encodings below.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U64(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = GetFixed64(in_.data());
    in_.remove_prefix(8);
    return true;
  }
  bool I64(int64_t* v) {
    uint64_t u;
    if (!U64(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool U32(uint32_t* v) {
    if (in_.size() < 4) return false;
    *v = GetFixed32(in_.data());
    in_.remove_prefix(4);
    return true;
  }
  bool Id(StreamId* id) { return U64(&id->ms) && U64(&id->seq); }
  bool String(std::string* s) {
    uint32_t len;
    if (!U32(&len) || in_.size() < len) return false;
    s->assign(in_.substr(0, len));
    in_.remove_prefix(len);
    return true;
  }
  std::string_view rest() const { return in_; }

 private:
  std::string_view in_;
};

bool ParseU64(std::string_view s, uint64_t* out) {
  // string2ull: digits only, no sign, no overflow.
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

absl::Status Corrupt() { return absl::DataLossError("corrupt stream record"); }

absl::Status DecodeEntry(std::string_view value, uint64_t* node,
                         std::vector<std::string>* fields) {
  Reader r(value);
  uint32_t n;
  if (!r.U64(node) || !r.U32(&n)) return Corrupt();
  if (fields == nullptr) return absl::OkStatus();
  fields->clear();
  fields->reserve(std::min<uint32_t>(n, 1024));
  for (uint32_t i = 0; i < n; ++i) {
    std::string f;
    if (!r.String(&f)) return Corrupt();
    fields->push_back(std::move(f));
  }
  return absl::OkStatus();
}

absl::Status DecodePel(std::string_view value, PendingEntry* pe) {
  Reader r(value);
  if (!r.I64(&pe->delivery_ms) || !r.U64(&pe->delivery_count)) return Corrupt();
  pe->consumer.assign(r.rest());
  return absl::OkStatus();
}

}  // namespace

std::string StreamId::ToString() const { return absl::StrCat(ms, "-", seq); }

bool StreamId::Incr() {
  if (seq == UINT64_MAX) {
    if (ms == UINT64_MAX) {
      ms = seq = 0;
      return false;
    }
    ++ms;
    seq = 0;
  } else {
    ++seq;
  }
  return true;
}

bool StreamId::Decr() {
  if (seq == 0) {
    if (ms == 0) {
      ms = seq = UINT64_MAX;
      return false;
    }
    --ms;
    seq = UINT64_MAX;
  } else {
    --seq;
  }
  return true;
}

bool ParseStreamId(std::string_view text, StreamId* id, uint64_t missing_seq,
                   bool strict, bool* seq_given) {
  if (text.size() > 127) return false;
  if (strict && (text == "-" || text == "+")) return false;
  if (seq_given != nullptr) *seq_given = true;
  if (text == "-") {
    *id = StreamId{};
    return true;
  }
  if (text == "+") {
    *id = StreamId::Max();
    return true;
  }
  // Like strchr on a C string: the text stops at a NUL byte.
  text = text.substr(0, text.find('\0'));
  const size_t dash = text.find('-');
  uint64_t ms;
  uint64_t seq = missing_seq;
  if (!ParseU64(text.substr(0, dash), &ms)) return false;
  if (dash != std::string_view::npos) {
    std::string_view rest = text.substr(dash + 1);
    if (seq_given != nullptr && rest == "*") {
      seq = 0;
      *seq_given = false;
    } else if (!ParseU64(rest, &seq)) {
      return false;
    }
  }
  id->ms = ms;
  id->seq = seq;
  return true;
}

StreamConsumer* StreamGroup::FindConsumer(std::string_view consumer) {
  for (auto& c : consumers) {
    if (c.name == consumer) return &c;
  }
  return nullptr;
}

StreamGroup* StreamState::FindGroup(std::string_view group) {
  for (auto& g : groups) {
    if (g.name == group) return &g;
  }
  return nullptr;
}

// last first max_deleted entries_added tail_node tail_total tail_live
// tail_bytes ngroups:u32 { name last_id entries_read pel_count nconsumers:u32
// { name seen_ms pending } }.
std::string EncodeStreamState(const StreamState& st) {
  std::string out;
  PutId(&out, st.last_id);
  PutId(&out, st.first_id);
  PutId(&out, st.max_deleted_id);
  PutFixed64(&out, st.entries_added);
  PutFixed64(&out, st.tail_node);
  PutFixed64(&out, st.tail_total);
  PutFixed64(&out, st.tail_live);
  PutFixed64(&out, st.tail_bytes);
  PutId(&out, st.tail_master);
  PutFixed64(&out, st.tail_fields_hash);
  PutFixed32(&out, static_cast<uint32_t>(st.groups.size()));
  for (const auto& g : st.groups) {
    PutString(&out, g.name);
    PutId(&out, g.last_id);
    PutFixed64(&out, static_cast<uint64_t>(g.entries_read));
    PutFixed64(&out, g.pel_count);
    PutFixed32(&out, static_cast<uint32_t>(g.consumers.size()));
    for (const auto& c : g.consumers) {
      PutString(&out, c.name);
      PutFixed64(&out, static_cast<uint64_t>(c.seen_ms));
      PutFixed64(&out, c.pending);
    }
  }
  return out;
}

absl::Status DecodeStreamState(std::string_view in, StreamState* st) {
  Reader r(in);
  uint32_t ngroups;
  if (!r.Id(&st->last_id) || !r.Id(&st->first_id) ||
      !r.Id(&st->max_deleted_id) || !r.U64(&st->entries_added) ||
      !r.U64(&st->tail_node) || !r.U64(&st->tail_total) ||
      !r.U64(&st->tail_live) || !r.U64(&st->tail_bytes) ||
      !r.Id(&st->tail_master) || !r.U64(&st->tail_fields_hash) ||
      !r.U32(&ngroups)) {
    return Corrupt();
  }
  st->groups.clear();
  for (uint32_t i = 0; i < ngroups; ++i) {
    StreamGroup g;
    uint32_t nconsumers;
    if (!r.String(&g.name) || !r.Id(&g.last_id) || !r.I64(&g.entries_read) ||
        !r.U64(&g.pel_count) || !r.U32(&nconsumers)) {
      return Corrupt();
    }
    for (uint32_t j = 0; j < nconsumers; ++j) {
      StreamConsumer c;
      if (!r.String(&c.name) || !r.I64(&c.seen_ms) || !r.U64(&c.pending)) {
        return Corrupt();
      }
      g.consumers.push_back(std::move(c));
    }
    st->groups.push_back(std::move(g));
  }
  return absl::OkStatus();
}

std::string Streams::EntryMember(StreamId id) {
  std::string out(1, kEntryTag);
  PutId(&out, id);
  return out;
}

std::string Streams::PelMember(std::string_view group, StreamId id) {
  std::string out(1, kPelTag);
  PutString(&out, group);
  PutId(&out, id);
  return out;
}

absl::StatusOr<std::optional<Stream>> Streams::Load(uint8_t db,
                                                    std::string_view key,
                                                    bool access) {
  absl::StatusOr<std::optional<Metadata>> meta = ks_.Lookup(db, key, access);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  if ((*meta)->type != DataType::kStream) return WrongTypeError();
  Stream s;
  s.meta = std::move(**meta);
  if (absl::Status d = DecodeStreamState(s.meta.value, &s.state); !d.ok()) {
    return d;
  }
  return s;
}

absl::StatusOr<std::optional<Stream>> Streams::LoadForWrite(
    Txn& txn, uint8_t db, std::string_view key) {
  absl::StatusOr<std::optional<Metadata>> meta =
      ks_.LookupOfTypeForWrite(txn, db, key, DataType::kStream);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  Stream s;
  s.meta = std::move(**meta);
  if (absl::Status d = DecodeStreamState(s.meta.value, &s.state); !d.ok()) {
    return d;
  }
  return s;
}

Stream Streams::Create() {
  Stream s;
  s.meta.type = DataType::kStream;
  s.meta.version = ks_.NextVersion();
  return s;
}

void Streams::Save(Txn& txn, uint8_t db, std::string_view key,
                   const Metadata* old, Stream& s) {
  s.meta.value = EncodeStreamState(s.state);
  txn.PutMeta(db, key, old, s.meta);
}

absl::StatusOr<std::vector<StreamEntry>> Streams::Range(
    uint8_t db, std::string_view key, uint64_t version, StreamId start,
    StreamId end, uint64_t count, bool rev, const storage::Snapshot* snapshot) {
  std::vector<StreamEntry> out;
  if (end < start) return out;
  const std::string prefix = MemberPrefix(db, key, version);
  storage::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.lower_bound = prefix + EntryMember(start);
  // The upper bound is exclusive: the member after `end`, or the end of the
  // entries' tag.
  StreamId after = end;
  ro.upper_bound = after.Incr() ? prefix + EntryMember(after)
                                : prefix + std::string(1, kEntryTag + 1);
  std::unique_ptr<storage::Iterator> it =
      ks_.store().NewIterator(ro, Column::kMembers);
  const size_t id_at = prefix.size() + 1;
  for (rev ? it->SeekToLast() : it->SeekToFirst(); it->Valid();
       rev ? it->Prev() : it->Next()) {
    std::string_view k = it->key();
    if (k.size() != id_at + 16) return Corrupt();
    StreamEntry e;
    e.id = GetId(k.data() + id_at);
    uint64_t node = 0;
    if (absl::Status s = DecodeEntry(it->value(), &node, &e.fields); !s.ok()) {
      return s;
    }
    out.push_back(std::move(e));
    if (count != 0 && out.size() >= count) break;
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<StreamEntry>> Streams::Get(uint8_t db,
                                                        std::string_view key,
                                                        uint64_t version,
                                                        StreamId id) {
  std::string value;
  absl::Status s = ks_.store().Get(
      storage::ReadOptions{}, Column::kMembers,
      EncodeMemberKey(db, key, version, EntryMember(id)), &value);
  if (absl::IsNotFound(s)) return std::nullopt;
  if (!s.ok()) return s;
  StreamEntry e;
  e.id = id;
  uint64_t node = 0;
  if (absl::Status d = DecodeEntry(value, &node, &e.fields); !d.ok()) return d;
  return e;
}

namespace {

// Bytes of one listpack element holding `s` (Redis' lpEncodeGetType plus
// the backlen).
uint64_t ElementBytes(std::string_view s) {
  rdb::ListpackBuilder lp;
  const size_t empty = lp.bytes();
  lp.Append(s);
  return lp.bytes() - empty;
}
uint64_t IntBytes(int64_t v) { return ElementBytes(std::to_string(v)); }

// A stable hash of the field names of an entry (FNV-1a over len + bytes).
uint64_t FieldsHash(const std::vector<std::string>& fields) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  for (size_t i = 0; i < fields.size(); i += 2) {
    for (int b = 0; b < 4; ++b)
      mix(static_cast<unsigned char>(fields[i].size() >> (8 * b)));
    for (char c : fields[i]) mix(static_cast<unsigned char>(c));
  }
  return h ^ (fields.size() / 2);
}

}  // namespace

void Streams::PlaceInNode(StreamState& st, StreamId id,
                          const std::vector<std::string>& fields, bool new_node,
                          uint64_t* node) {
  const int64_t numfields = static_cast<int64_t>(fields.size() / 2);
  uint64_t totelelen = 0;
  for (const auto& f : fields) totelelen += f.size();
  bool fresh = new_node || st.tail_live == 0;
  if (!fresh) {
    int64_t max_bytes = node_max_bytes_.load();
    if (max_bytes <= 0 || max_bytes > (int64_t{1} << 30)) {
      max_bytes = int64_t{1} << 30;
    }
    const int64_t max_entries = node_max_entries_.load();
    // lpBytes: header and terminator, the two counters, the rest.
    const uint64_t lp_bytes =
        st.tail_bytes + IntBytes(static_cast<int64_t>(st.tail_live)) +
        IntBytes(static_cast<int64_t>(st.tail_total - st.tail_live));
    if (lp_bytes + totelelen >= static_cast<uint64_t>(max_bytes)) {
      fresh = true;
    } else if (max_entries > 0 &&
               st.tail_total >= static_cast<uint64_t>(max_entries)) {
      fresh = true;
    }
  }
  const uint64_t hash = FieldsHash(fields);
  if (fresh) {
    ++st.tail_node;
    st.tail_total = 0;
    st.tail_live = 0;
    st.tail_master = id;
    st.tail_fields_hash = hash;
    // Header (6) and terminator (1), the master entry: num-fields, the
    // field names, the zero terminator.
    st.tail_bytes = 7 + IntBytes(numfields) + IntBytes(0);
    for (size_t i = 0; i < fields.size(); i += 2) {
      st.tail_bytes += ElementBytes(fields[i]);
    }
  }
  const bool same_fields = hash == st.tail_fields_hash;
  const int64_t flags = same_fields ? 2 : 0;  // STREAM_ITEM_FLAG_SAMEFIELDS
  uint64_t bytes = IntBytes(flags) +
                   IntBytes(static_cast<int64_t>(id.ms - st.tail_master.ms)) +
                   IntBytes(static_cast<int64_t>(id.seq - st.tail_master.seq));
  int64_t lp_count = numfields + 3;
  if (!same_fields) {
    bytes += IntBytes(numfields);
    lp_count += numfields + 1;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i % 2 == 0 && same_fields) continue;
    bytes += ElementBytes(fields[i]);
  }
  bytes += IntBytes(lp_count);
  ++st.tail_total;
  ++st.tail_live;
  st.tail_bytes += bytes;
  *node = st.tail_node;
}

void Streams::Append(Txn& txn, uint8_t db, std::string_view key, Stream& s,
                     StreamId id, const std::vector<std::string>& fields,
                     bool new_node) {
  uint64_t node = 0;
  PlaceInNode(s.state, id, fields, new_node, &node);
  std::string value;
  PutFixed64(&value, node);
  PutFixed32(&value, static_cast<uint32_t>(fields.size()));
  for (const auto& f : fields) PutString(&value, f);
  txn.batch().Put(Column::kMembers,
                  EncodeMemberKey(db, key, s.meta.version, EntryMember(id)),
                  value);
  ++s.meta.size;
  ++s.state.entries_added;
  s.state.last_id = id;
  if (s.meta.size == 1) s.state.first_id = id;
}

absl::StatusOr<StreamId> Streams::FirstIdAfter(
    uint8_t db, std::string_view key, uint64_t version, StreamId from,
    const std::vector<StreamId>& gone) {
  const std::string prefix = MemberPrefix(db, key, version);
  storage::ReadOptions ro;
  ro.lower_bound = prefix + EntryMember(from);
  ro.upper_bound = prefix + std::string(1, kEntryTag + 1);
  std::unique_ptr<storage::Iterator> it =
      ks_.store().NewIterator(ro, Column::kMembers);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view k = it->key();
    if (k.size() != prefix.size() + 17) return Corrupt();
    StreamId id = GetId(k.data() + prefix.size() + 1);
    if (std::find(gone.begin(), gone.end(), id) == gone.end()) return id;
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return StreamId{};
}

absl::StatusOr<int64_t> Streams::Delete(Txn& txn, uint8_t db,
                                        std::string_view key, Stream& s,
                                        const std::vector<StreamId>& ids) {
  std::vector<StreamId> gone;
  for (StreamId id : ids) {
    if (std::find(gone.begin(), gone.end(), id) != gone.end()) continue;
    std::string value;
    const std::string mkey =
        EncodeMemberKey(db, key, s.meta.version, EntryMember(id));
    absl::Status st =
        ks_.store().Get(storage::ReadOptions{}, Column::kMembers, mkey, &value);
    if (absl::IsNotFound(st)) continue;
    if (!st.ok()) return st;
    uint64_t node = 0;
    if (absl::Status d = DecodeEntry(value, &node, nullptr); !d.ok()) return d;
    txn.batch().Delete(Column::kMembers, mkey);
    gone.push_back(id);
    --s.meta.size;
    if (node == s.state.tail_node && s.state.tail_live > 0) {
      --s.state.tail_live;  // at 0 the node is gone: the next add opens one
    }
    if (s.state.max_deleted_id < id) s.state.max_deleted_id = id;
  }
  if (gone.empty()) return 0;
  if (s.meta.size == 0) {
    s.state.first_id = StreamId{};
  } else if (std::find(gone.begin(), gone.end(), s.state.first_id) !=
             gone.end()) {
    absl::StatusOr<StreamId> first =
        FirstIdAfter(db, key, s.meta.version, s.state.first_id, gone);
    if (!first.ok()) return first.status();
    s.state.first_id = *first;
  }
  return static_cast<int64_t>(gone.size());
}

absl::StatusOr<int64_t> Streams::Trim(Txn& txn, uint8_t db,
                                      std::string_view key, Stream& s,
                                      const TrimArgs& args,
                                      const std::optional<StreamId>& appended) {
  if (args.strategy == TrimStrategy::kNone) return 0;
  const uint64_t maxlen = static_cast<uint64_t>(args.maxlen);
  const std::string prefix = MemberPrefix(db, key, s.meta.version);
  storage::ReadOptions ro;
  ro.lower_bound = prefix + std::string(1, kEntryTag);
  ro.upper_bound = prefix + std::string(1, kEntryTag + 1);
  std::unique_ptr<storage::Iterator> it =
      ks_.store().NewIterator(ro, Column::kMembers);
  it->SeekToFirst();
  bool appended_seen = !appended.has_value();
  // The next entry (id, node) in id order: the store's, then the appended.
  auto next = [&](StreamId* id, uint64_t* node) -> absl::StatusOr<bool> {
    if (it->Valid()) {
      std::string_view k = it->key();
      if (k.size() != prefix.size() + 17) return Corrupt();
      *id = GetId(k.data() + prefix.size() + 1);
      if (absl::Status d = DecodeEntry(it->value(), node, nullptr); !d.ok()) {
        return d;
      }
      it->Next();
      return true;
    }
    if (absl::Status st = it->status(); !st.ok()) return st;
    if (!appended_seen) {
      appended_seen = true;
      *id = *appended;
      *node = s.state.tail_node;
      return true;
    }
    return false;
  };
  std::vector<StreamId> gone;
  auto remove = [&](StreamId id, uint64_t node) {
    txn.batch().Delete(
        Column::kMembers,
        EncodeMemberKey(db, key, s.meta.version, EntryMember(id)));
    gone.push_back(id);
    --s.meta.size;
    if (node == s.state.tail_node && s.state.tail_live > 0) {
      --s.state.tail_live;
    }
  };
  // One node at a time: its live entries, in id order.
  std::vector<StreamId> node_ids;
  StreamId pending_id;
  uint64_t pending_node = 0;
  absl::StatusOr<bool> have = next(&pending_id, &pending_node);
  if (!have.ok()) return have.status();
  int64_t deleted = 0;
  while (*have) {
    if (args.strategy == TrimStrategy::kMaxLen && s.meta.size <= maxlen) break;
    const uint64_t node = pending_node;
    node_ids.clear();
    while (*have && pending_node == node) {
      node_ids.push_back(pending_id);
      have = next(&pending_id, &pending_node);
      if (!have.ok()) return have.status();
    }
    const int64_t entries = static_cast<int64_t>(node_ids.size());
    if (args.limit != 0 && deleted + entries > args.limit) break;
    const bool remove_node =
        args.strategy == TrimStrategy::kMaxLen
            ? s.meta.size - static_cast<uint64_t>(entries) >= maxlen
            : node_ids.back() < args.minid;
    if (remove_node) {
      for (StreamId id : node_ids) remove(id, node);
      deleted += entries;
      continue;
    }
    if (args.approx) break;
    for (StreamId id : node_ids) {
      const bool stop = args.strategy == TrimStrategy::kMaxLen
                            ? s.meta.size <= maxlen
                            : id >= args.minid;
      if (stop) break;
      remove(id, node);
      ++deleted;
    }
    break;
  }
  if (s.meta.size == 0) {
    s.state.first_id = StreamId{};
  } else if (deleted > 0) {
    if (appended && s.meta.size == 1 &&
        std::find(gone.begin(), gone.end(), *appended) == gone.end()) {
      s.state.first_id = *appended;
    } else {
      absl::StatusOr<StreamId> first =
          FirstIdAfter(db, key, s.meta.version, s.state.first_id, gone);
      if (!first.ok()) return first.status();
      // Only the appended entry is left past the store's.
      s.state.first_id = first->zero() && appended ? *appended : *first;
    }
  }
  return deleted;
}

absl::StatusOr<std::optional<PendingEntry>> Streams::PelGet(
    uint8_t db, std::string_view key, uint64_t version, std::string_view group,
    StreamId id) {
  std::string value;
  absl::Status s = ks_.store().Get(
      storage::ReadOptions{}, Column::kMembers,
      EncodeMemberKey(db, key, version, PelMember(group, id)), &value);
  if (absl::IsNotFound(s)) return std::nullopt;
  if (!s.ok()) return s;
  PendingEntry pe;
  pe.id = id;
  if (absl::Status d = DecodePel(value, &pe); !d.ok()) return d;
  return pe;
}

absl::StatusOr<std::vector<PendingEntry>> Streams::PelRange(
    uint8_t db, std::string_view key, uint64_t version, std::string_view group,
    StreamId start, StreamId end, uint64_t count, std::string_view consumer,
    const storage::Snapshot* snapshot) {
  std::vector<PendingEntry> out;
  if (end < start) return out;
  const std::string prefix = MemberPrefix(db, key, version);
  storage::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.lower_bound = prefix + PelMember(group, start);
  const std::string group_prefix =
      prefix + PelMember(group, StreamId{}).substr(0, 5 + group.size());
  StreamId after = end;
  ro.upper_bound =
      after.Incr() ? prefix + PelMember(group, after) : PrefixEnd(group_prefix);
  std::unique_ptr<storage::Iterator> it =
      ks_.store().NewIterator(ro, Column::kMembers);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view k = it->key();
    if (k.size() != group_prefix.size() + 16) return Corrupt();
    PendingEntry pe;
    pe.id = GetId(k.data() + group_prefix.size());
    if (absl::Status d = DecodePel(it->value(), &pe); !d.ok()) return d;
    if (!consumer.empty() && pe.consumer != consumer) continue;
    out.push_back(std::move(pe));
    if (count != 0 && out.size() >= count) break;
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return out;
}

absl::StatusOr<StreamId> Streams::PelEdge(uint8_t db, std::string_view key,
                                          uint64_t version,
                                          std::string_view group, bool last) {
  const std::string prefix = MemberPrefix(db, key, version);
  const std::string group_prefix =
      prefix + PelMember(group, StreamId{}).substr(0, 5 + group.size());
  storage::ReadOptions ro;
  ro.lower_bound = group_prefix;
  ro.upper_bound = PrefixEnd(group_prefix);
  std::unique_ptr<storage::Iterator> it =
      ks_.store().NewIterator(ro, Column::kMembers);
  last ? it->SeekToLast() : it->SeekToFirst();
  if (!it->Valid()) {
    if (absl::Status s = it->status(); !s.ok()) return s;
    return StreamId{};
  }
  if (it->key().size() != group_prefix.size() + 16) return Corrupt();
  return GetId(it->key().data() + group_prefix.size());
}

absl::StatusOr<std::vector<StreamId>> Streams::NodeKeys(
    uint8_t db, std::string_view key, uint64_t version,
    const storage::Snapshot* snapshot) {
  std::vector<StreamId> out;
  const std::string prefix = MemberPrefix(db, key, version);
  storage::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.lower_bound = prefix + std::string(1, kEntryTag);
  ro.upper_bound = prefix + std::string(1, kEntryTag + 1);
  std::unique_ptr<storage::Iterator> it =
      ks_.store().NewIterator(ro, Column::kMembers);
  bool any = false;
  uint64_t last_node = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != prefix.size() + 17) return Corrupt();
    uint64_t node = 0;
    if (absl::Status d = DecodeEntry(it->value(), &node, nullptr); !d.ok()) {
      return d;
    }
    if (any && node == last_node) continue;
    any = true;
    last_node = node;
    out.push_back(GetId(it->key().data() + prefix.size() + 1));
  }
  if (absl::Status s = it->status(); !s.ok()) return s;
  return out;
}

namespace {

// Nodes of the rax subtree holding keys[begin, end), which share their first
// `depth` bytes (see RaxNodeCount).
uint64_t RaxSubtree(const std::vector<std::string>& keys, size_t begin,
                    size_t end, size_t depth) {
  constexpr size_t kLen = 16;
  if (depth == kLen) return 1;  // the key's own (leaf) node
  // The bytes all the keys still share form one compressed node.
  size_t common = depth;
  while (common < kLen && keys[begin][common] == keys[end - 1][common]) {
    ++common;
  }
  if (common > depth) return 1 + RaxSubtree(keys, begin, end, common);
  // They differ here: a branching node with a child per byte.
  uint64_t nodes = 1;
  for (size_t i = begin; i < end;) {
    size_t j = i;
    while (j < end && keys[j][depth] == keys[i][depth]) ++j;
    nodes += RaxSubtree(keys, i, j, depth + 1);
    i = j;
  }
  return nodes;
}

}  // namespace

uint64_t RaxNodeCount(const std::vector<StreamId>& keys) {
  if (keys.empty()) return 1;  // the head
  std::vector<std::string> encoded;
  encoded.reserve(keys.size());
  for (StreamId id : keys) {
    std::string k;
    PutId(&k, id);
    encoded.push_back(std::move(k));
  }
  return RaxSubtree(encoded, 0, encoded.size(), 0);
}

void Streams::PelPut(Txn& txn, uint8_t db, std::string_view key,
                     uint64_t version, std::string_view group,
                     const PendingEntry& entry) {
  std::string value;
  PutFixed64(&value, static_cast<uint64_t>(entry.delivery_ms));
  PutFixed64(&value, entry.delivery_count);
  value.append(entry.consumer);
  txn.batch().Put(Column::kMembers,
                  EncodeMemberKey(db, key, version, PelMember(group, entry.id)),
                  value);
}

void Streams::PelDelete(Txn& txn, uint8_t db, std::string_view key,
                        uint64_t version, std::string_view group, StreamId id) {
  txn.batch().Delete(Column::kMembers,
                     EncodeMemberKey(db, key, version, PelMember(group, id)));
}

absl::StatusOr<uint64_t> Streams::PelClear(Txn& txn, uint8_t db,
                                           std::string_view key,
                                           uint64_t version,
                                           std::string_view group,
                                           std::string_view consumer) {
  absl::StatusOr<std::vector<PendingEntry>> all = PelRange(
      db, key, version, group, StreamId{}, StreamId::Max(), 0, consumer);
  if (!all.ok()) return all.status();
  for (const auto& pe : *all) PelDelete(txn, db, key, version, group, pe.id);
  return all->size();
}

}  // namespace reborn::qdb
