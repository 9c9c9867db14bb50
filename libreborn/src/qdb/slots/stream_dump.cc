#include "qdb/slots/stream_dump.h"

#include <algorithm>

namespace reborn::qdb {
namespace {

StreamId Id(rdb::StreamIdPair p) { return {p.first, p.second}; }
rdb::StreamIdPair Pair(StreamId id) { return {id.ms, id.seq}; }

}  // namespace

absl::StatusOr<rdb::StreamData> ExportStream(
    Streams& streams, uint8_t db, std::string_view key, const Metadata& meta,
    const storage::Snapshot* snapshot) {
  StreamState st;
  if (absl::Status s = DecodeStreamState(meta.value, &st); !s.ok()) return s;
  rdb::StreamData out;
  auto entries = streams.Range(db, key, meta.version, StreamId{},
                               StreamId::Max(), 0, false, snapshot);
  if (!entries.ok()) return entries.status();
  if (entries->size() != meta.size) {
    return absl::DataLossError("stream entries differ from its length");
  }
  out.entries.reserve(entries->size());
  for (StreamEntry& e : *entries) {
    out.entries.push_back({Pair(e.id), std::move(e.fields)});
  }
  // The node sizes, from the first live entry of each node.
  auto node_keys = streams.NodeKeys(db, key, meta.version, snapshot);
  if (!node_keys.ok()) return node_keys.status();
  for (size_t i = 0, n = 0; i < out.entries.size(); ++i) {
    if (n < node_keys->size() && Id(out.entries[i].id) == (*node_keys)[n]) {
      out.nodes.push_back(0);
      ++n;
    }
    if (!out.nodes.empty()) ++out.nodes.back();
  }
  out.last_id = Pair(st.last_id);
  out.first_id = Pair(st.first_id);
  out.max_deleted_id = Pair(st.max_deleted_id);
  out.entries_added = st.entries_added;
  for (const StreamGroup& g : st.groups) {
    rdb::StreamData::Group group;
    group.name = g.name;
    group.last_id = Pair(g.last_id);
    group.entries_read = g.entries_read;
    auto pel = streams.PelRange(db, key, meta.version, g.name, StreamId{},
                                StreamId::Max(), 0, {}, snapshot);
    if (!pel.ok()) return pel.status();
    for (const StreamConsumer& c : g.consumers) {
      group.consumers.push_back({c.name, c.seen_ms, {}});
    }
    for (const PendingEntry& pe : *pel) {
      group.pel.push_back({Pair(pe.id), pe.delivery_ms, pe.delivery_count});
      for (auto& c : group.consumers) {
        if (c.name == pe.consumer) c.pending.push_back(Pair(pe.id));
      }
    }
    out.groups.push_back(std::move(group));
  }
  return out;
}

absl::Status ImportStream(Streams& streams, Txn& txn, uint8_t db,
                          std::string_view key, const rdb::StreamData& data,
                          Metadata* meta) {
  Stream s = streams.Create();
  // Node boundaries as the payload has them (when it says).
  std::vector<bool> starts(data.entries.size(), false);
  uint64_t at = 0;
  for (uint64_t n : data.nodes) {
    if (at < starts.size()) starts[at] = true;
    at += n;
  }
  for (size_t i = 0; i < data.entries.size(); ++i) {
    const auto& e = data.entries[i];
    streams.Append(txn, db, key, s, Id(e.id), e.fields, starts[i]);
  }
  StreamState& st = s.state;
  st.last_id = Id(data.last_id);
  st.first_id = Id(data.first_id);
  st.max_deleted_id = Id(data.max_deleted_id);
  st.entries_added = data.entries_added;
  for (const auto& g : data.groups) {
    StreamGroup group;
    group.name = g.name;
    group.last_id = Id(g.last_id);
    group.entries_read = g.entries_read;
    group.pel_count = g.pel.size();
    for (const auto& c : g.consumers) {
      group.consumers.push_back({c.name, c.seen_ms, c.pending.size()});
      for (rdb::StreamIdPair id : c.pending) {
        auto nack =
            std::lower_bound(g.pel.begin(), g.pel.end(), id,
                             [](const rdb::StreamData::Nack& n,
                                rdb::StreamIdPair x) { return n.id < x; });
        // DecodeStream checked that the id is in the group's PEL.
        streams.PelPut(txn, db, key, s.meta.version, g.name,
                       PendingEntry{Id(id), c.name, nack->delivery_ms,
                                    nack->delivery_count});
      }
    }
    // Redis' groups and consumers are rax-ordered by name.
    std::sort(group.consumers.begin(), group.consumers.end(),
              [](const StreamConsumer& a, const StreamConsumer& b) {
                return a.name < b.name;
              });
    st.groups.push_back(std::move(group));
  }
  std::sort(st.groups.begin(), st.groups.end(),
            [](const StreamGroup& a, const StreamGroup& b) {
              return a.name < b.name;
            });
  s.meta.value = EncodeStreamState(st);
  *meta = s.meta;
  return absl::OkStatus();
}

}  // namespace reborn::qdb
