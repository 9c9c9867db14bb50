#include "rdb/stream_value.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "rdb/cursor.h"
#include "rdb/format.h"
#include "rdb/listpack.h"
#include "rdb/value_writer.h"

namespace reborn::rdb {
namespace {

constexpr int64_t kFlagDeleted = 1;
constexpr int64_t kFlagSameFields = 2;

StreamIdPair IdFromKey(std::string_view raw) {
  uint64_t ms = 0, seq = 0;
  for (int i = 0; i < 8; ++i) ms = (ms << 8) | static_cast<uint8_t>(raw[i]);
  for (int i = 8; i < 16; ++i) seq = (seq << 8) | static_cast<uint8_t>(raw[i]);
  return {ms, seq};
}

std::string KeyFromId(StreamIdPair id) {
  std::string out(16, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(id.first >> (56 - 8 * i));
    out[8 + i] = static_cast<char>(id.second >> (56 - 8 * i));
  }
  return out;
}

bool ToInt(const std::string& s, int64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

// The entries of one listpack node whose master id is `master`.
absl::Status DecodeNode(StreamIdPair master, std::string_view lp,
                        const Limits& limits, StreamData* out,
                        uint64_t* bytes) {
  std::vector<std::string> items;
  if (absl::Status s = ListpackDecode(lp, limits.max_elements, &items);
      !s.ok()) {
    return s;
  }
  auto bad = [](const char* why) {
    return absl::DataLossError(absl::StrCat("stream node: ", why));
  };
  size_t i = 0;
  auto next_int = [&](int64_t* v) {
    return i < items.size() && ToInt(items[i++], v);
  };
  int64_t count, deleted, master_fields;
  if (items.empty()) return bad("empty listpack");
  if (!next_int(&count) || !next_int(&deleted) || !next_int(&master_fields) ||
      count < 0 || deleted < 0 || master_fields < 0 ||
      static_cast<uint64_t>(master_fields) > items.size()) {
    return bad("bad master entry");
  }
  std::vector<std::string_view> fields;
  for (int64_t f = 0; f < master_fields; ++f) {
    if (i >= items.size()) return bad("short master entry");
    fields.push_back(items[i++]);
  }
  int64_t zero;
  if (!next_int(&zero) || zero != 0) return bad("no master terminator");
  int64_t seen_live = 0;
  for (int64_t e = 0; e < count + deleted; ++e) {
    int64_t flags, ms_delta, seq_delta;
    if (!next_int(&flags) || !next_int(&ms_delta) || !next_int(&seq_delta)) {
      return bad("short entry");
    }
    StreamData::Entry entry;
    entry.id = {master.first + static_cast<uint64_t>(ms_delta),
                master.second + static_cast<uint64_t>(seq_delta)};
    if (flags & kFlagSameFields) {
      for (std::string_view f : fields) {
        if (i >= items.size()) return bad("short entry");
        entry.fields.emplace_back(f);
        entry.fields.push_back(items[i++]);
      }
    } else {
      int64_t n;
      if (!next_int(&n) || n < 0 ||
          static_cast<uint64_t>(n) > (items.size() - i) / 2) {
        return bad("bad field count");
      }
      for (int64_t f = 0; f < 2 * n; ++f) entry.fields.push_back(items[i++]);
    }
    int64_t lp_count;
    if (!next_int(&lp_count)) return bad("no entry count");
    if (flags & kFlagDeleted) continue;
    ++seen_live;
    if (!out->entries.empty() && entry.id <= out->entries.back().id) {
      return bad("ids out of order");
    }
    for (const auto& f : entry.fields) *bytes += f.size();
    if (*bytes > limits.max_value_bytes) return bad("larger than the limit");
    out->entries.push_back(std::move(entry));
  }
  if (i != items.size() || seen_live != count) return bad("bad entry count");
  return absl::OkStatus();
}

// Reads a PEL: `nacks` with delivery data (a group's), else ids only.
bool ReadPel(Cursor& c, bool nacks, std::vector<StreamData::Nack>* out,
             std::vector<StreamIdPair>* ids) {
  uint64_t n;
  if (!c.ReadLength(&n)) return false;
  if (n > c.remaining() / 16) return c.Corrupt("PEL longer than the input");
  for (uint64_t k = 0; k < n; ++k) {
    std::string_view raw;
    if (!c.ReadRaw(16, &raw)) return false;
    const StreamIdPair id = IdFromKey(raw);
    if (!nacks) {
      ids->push_back(id);
      continue;
    }
    uint64_t time, count;
    if (!c.ReadLittleEndian(8, &time) || !c.ReadLength(&count)) return false;
    if (!out->empty() && id <= out->back().id) {
      return c.Corrupt("PEL ids out of order");
    }
    out->push_back({id, static_cast<int64_t>(time), count});
  }
  return true;
}

}  // namespace

absl::StatusOr<StreamData> DecodeStream(uint8_t rdb_type, std::string_view body,
                                        const Limits& limits) {
  const bool v2 = rdb_type != kTypeStreamListpacks;
  const bool v3 = rdb_type == kTypeStreamListpacks3;
  Cursor c(body, limits);
  StreamData s;
  uint64_t nodes;
  uint64_t bytes = 0;
  auto fail = [&]() -> absl::Status {
    if (c.has_error()) return c.error();
    return absl::DataLossError("truncated stream value");
  };
  if (!c.ReadLength(&nodes)) return fail();
  for (uint64_t n = 0; n < nodes; ++n) {
    std::string key, lp;
    if (!c.ReadString(&key) || !c.ReadString(&lp)) return fail();
    if (key.size() != 16) {
      return absl::DataLossError("stream node key is not a stream id");
    }
    const size_t before = s.entries.size();
    if (absl::Status st = DecodeNode(IdFromKey(key), lp, limits, &s, &bytes);
        !st.ok()) {
      return st;
    }
    s.nodes.push_back(s.entries.size() - before);
  }
  uint64_t length, a, b;
  if (!c.ReadLength(&length) || !c.ReadLength(&a) || !c.ReadLength(&b)) {
    return fail();
  }
  s.last_id = {a, b};
  if (length != s.entries.size()) {
    return absl::DataLossError("stream length does not match its entries");
  }
  if (v2) {
    uint64_t f1, f2, d1, d2, added;
    if (!c.ReadLength(&f1) || !c.ReadLength(&f2) || !c.ReadLength(&d1) ||
        !c.ReadLength(&d2) || !c.ReadLength(&added)) {
      return fail();
    }
    s.first_id = {f1, f2};
    s.max_deleted_id = {d1, d2};
    s.entries_added = added;
  } else {
    // Redis 7.0 loading a 5.0/6.x stream: counters from what is there.
    if (!s.entries.empty()) s.first_id = s.entries.front().id;
    s.entries_added = length;
  }
  if (!s.entries.empty() && s.entries.back().id > s.last_id) {
    return absl::DataLossError("stream entry after its last id");
  }
  uint64_t ngroups;
  if (!c.ReadLength(&ngroups)) return fail();
  for (uint64_t g = 0; g < ngroups; ++g) {
    StreamData::Group group;
    uint64_t ms, seq;
    if (!c.ReadString(&group.name) || !c.ReadLength(&ms) ||
        !c.ReadLength(&seq)) {
      return fail();
    }
    group.last_id = {ms, seq};
    if (v2) {
      uint64_t read;
      if (!c.ReadLength(&read)) return fail();
      group.entries_read = static_cast<int64_t>(read);
    } else {
      // streamEstimateDistanceFromFirstEverEntry with no tombstones.
      const StreamIdPair id = group.last_id;
      const int64_t added = static_cast<int64_t>(s.entries_added);
      if (s.entries_added == 0 || id == s.last_id ||
          (s.entries.empty() && id <= s.last_id)) {
        group.entries_read = added;
      } else if (id > s.last_id) {
        group.entries_read = -1;
      } else if (id < s.first_id) {
        group.entries_read = added - static_cast<int64_t>(length);
      } else if (id == s.first_id) {
        group.entries_read = added - static_cast<int64_t>(length) + 1;
      } else {
        group.entries_read = -1;
      }
    }
    if (!ReadPel(c, true, &group.pel, nullptr)) return fail();
    uint64_t nconsumers;
    if (!c.ReadLength(&nconsumers)) return fail();
    for (uint64_t k = 0; k < nconsumers; ++k) {
      StreamData::Consumer consumer;
      uint64_t seen, active;
      if (!c.ReadString(&consumer.name) || !c.ReadLittleEndian(8, &seen)) {
        return fail();
      }
      if (v3 && !c.ReadLittleEndian(8, &active)) return fail();
      consumer.seen_ms = static_cast<int64_t>(seen);
      if (!ReadPel(c, false, nullptr, &consumer.pending)) return fail();
      for (const StreamIdPair& id : consumer.pending) {
        auto it = std::lower_bound(
            group.pel.begin(), group.pel.end(), id,
            [](const StreamData::Nack& n, StreamIdPair x) { return n.id < x; });
        if (it == group.pel.end() || it->id != id) {
          return absl::DataLossError("consumer PEL entry not in its group");
        }
      }
      group.consumers.push_back(std::move(consumer));
    }
    s.groups.push_back(std::move(group));
  }
  if (c.pos() != body.size()) {
    return absl::DataLossError("trailing bytes after stream value");
  }
  return s;
}

uint8_t EncodeStream(const StreamData& s, bool compress, std::string* out,
                     size_t node_entries) {
  if (node_entries == 0) node_entries = 100;
  // The node sizes: the stream's own when they add up, else even ones.
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (uint64_t n : s.nodes) {
    if (n > 0) sizes.push_back(n);
    total += n;
  }
  if (total != s.entries.size()) {
    sizes.clear();
    for (size_t start = 0; start < s.entries.size(); start += node_entries) {
      sizes.push_back(std::min(node_entries, s.entries.size() - start));
    }
  }
  WriteLength(sizes.size(), out);
  size_t start = 0;
  for (uint64_t size : sizes) {
    const size_t end = start + size;
    const StreamData::Entry& master = s.entries[start];
    ListpackBuilder lp;
    lp.Append(std::to_string(end - start));  // live entries
    lp.Append("0");                          // deleted
    const size_t nfields = master.fields.size() / 2;
    lp.Append(std::to_string(nfields));
    for (size_t f = 0; f < master.fields.size(); f += 2) {
      lp.Append(master.fields[f]);
    }
    lp.Append("0");  // master terminator
    for (size_t e = start; e < end; ++e) {
      const StreamData::Entry& entry = s.entries[e];
      const size_t n = entry.fields.size() / 2;
      bool same = n == nfields;
      for (size_t f = 0; same && f < entry.fields.size(); f += 2) {
        same = entry.fields[f] == master.fields[f];
      }
      lp.Append(same ? "2" : "0");
      lp.Append(std::to_string(
          static_cast<int64_t>(entry.id.first - master.id.first)));
      lp.Append(std::to_string(
          static_cast<int64_t>(entry.id.second - master.id.second)));
      if (!same) lp.Append(std::to_string(n));
      for (size_t f = 0; f < entry.fields.size(); ++f) {
        if (same && f % 2 == 0) continue;
        lp.Append(entry.fields[f]);
      }
      lp.Append(std::to_string(same ? n + 3 : 2 * n + 4));
    }
    WriteString(KeyFromId(master.id), false, out);
    WriteString(lp.Finish(), compress, out);
    start = end;
  }
  WriteLength(s.entries.size(), out);
  WriteLength(s.last_id.first, out);
  WriteLength(s.last_id.second, out);
  WriteLength(s.first_id.first, out);
  WriteLength(s.first_id.second, out);
  WriteLength(s.max_deleted_id.first, out);
  WriteLength(s.max_deleted_id.second, out);
  WriteLength(s.entries_added, out);
  WriteLength(s.groups.size(), out);
  for (const StreamData::Group& g : s.groups) {
    WriteString(g.name, compress, out);
    WriteLength(g.last_id.first, out);
    WriteLength(g.last_id.second, out);
    WriteLength(static_cast<uint64_t>(g.entries_read), out);
    WriteLength(g.pel.size(), out);
    for (const StreamData::Nack& n : g.pel) {
      out->append(KeyFromId(n.id));
      for (int i = 0; i < 8; ++i) {
        out->push_back(
            static_cast<char>(static_cast<uint64_t>(n.delivery_ms) >> (8 * i)));
      }
      WriteLength(n.delivery_count, out);
    }
    WriteLength(g.consumers.size(), out);
    for (const StreamData::Consumer& c : g.consumers) {
      WriteString(c.name, compress, out);
      for (int i = 0; i < 8; ++i) {
        out->push_back(
            static_cast<char>(static_cast<uint64_t>(c.seen_ms) >> (8 * i)));
      }
      WriteLength(c.pending.size(), out);
      for (const StreamIdPair& id : c.pending) out->append(KeyFromId(id));
    }
  }
  return kTypeStreamListpacks2;
}

}  // namespace reborn::rdb
