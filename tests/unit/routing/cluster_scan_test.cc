// Cluster-wide SCAN (routing::ClusterScan): the cursor format, COUNT,
// batches that are never empty before the end, slots whose topology changes
// between calls, and the fallback for backends without SLOTSSCAN. The
// backends are simulated in memory with qdb-server's SLOTSSCAN semantics (a
// cursor names the next key to examine; a key that moves in lands at its
// sorted place, possibly behind a cursor).
#include "routing/cluster_scan.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "reborn/slot.h"
#include "reborn/slot_table.h"
#include "routing/merge.h"

namespace reborn::routing {
namespace {

constexpr const char* kG1 = "127.0.0.1:7001";
constexpr const char* kG2 = "127.0.0.1:7002";

TEST(ClusterScanCursorTest, SlotModeRoundTrips) {
  ClusterScanCursor c;
  c.slot = 1023;
  c.phase = 1;
  c.version = 0xab;
  c.backend = (uint64_t{1} << 40) - 1;
  uint64_t v = 0;
  ASSERT_TRUE(c.Encode(&v));
  EXPECT_EQ(v & 1, 0u);
  EXPECT_EQ((v >> 1) & 1023, 1023u);
  const ClusterScanCursor d = ClusterScanCursor::Decode(v);
  EXPECT_FALSE(d.by_group);
  EXPECT_EQ(d.slot, 1023);
  EXPECT_EQ(d.phase, 1);
  EXPECT_EQ(d.version, 0xabu);
  EXPECT_EQ(d.backend, c.backend);
  // The backend cursor has 43 bits.
  c.backend = uint64_t{1} << 43;
  EXPECT_FALSE(c.Encode(&v));
  // Cursor 0 is the start: slot 0, nothing begun.
  const ClusterScanCursor zero = ClusterScanCursor::Decode(0);
  EXPECT_FALSE(zero.by_group);
  EXPECT_EQ(zero.slot, 0);
  EXPECT_EQ(zero.backend, 0u);
}

TEST(ClusterScanCursorTest, GroupModeRoundTrips) {
  ClusterScanCursor c;
  c.by_group = true;
  c.group_index = 7;
  c.backend = 123456789;
  uint64_t v = 0;
  ASSERT_TRUE(c.Encode(&v));
  EXPECT_EQ(v & 1, 1u);
  const ClusterScanCursor d = ClusterScanCursor::Decode(v);
  EXPECT_TRUE(d.by_group);
  EXPECT_EQ(d.group_index, 7u);
  EXPECT_EQ(d.backend, 123456789u);
  c.backend = uint64_t{1} << 53;
  EXPECT_FALSE(c.Encode(&v));
}

TEST(ClusterScanCursorTest, ParsesLikeRedis) {
  EXPECT_FALSE(ClusterScanCursor::Parse("x").has_value());
  EXPECT_FALSE(ClusterScanCursor::Parse(" 1").has_value());
  EXPECT_FALSE(ClusterScanCursor::Parse("1 ").has_value());
  EXPECT_FALSE(ClusterScanCursor::Parse("18446744073709551616").has_value());
  // strtoul: "" is 0, "1\0..." is 1 (it stops at the NUL, as in Redis),
  // and any number is some cursor.
  EXPECT_TRUE(ClusterScanCursor::Parse(std::string("1\0x", 3)).has_value());
  EXPECT_TRUE(ClusterScanCursor::Parse("").has_value());
  EXPECT_TRUE(ClusterScanCursor::Parse("18446744073709551615").has_value());
  auto c = ClusterScanCursor::Parse("3");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->by_group);
  EXPECT_EQ(c->group_index, 1u);
}

TEST(ClusterScanOptionsTest, RedisErrors) {
  using Args = std::vector<std::string>;
  EXPECT_EQ(ParseScanOptions({"SCAN", "0", "COUNT"}).status().message(),
            "ERR syntax error");
  EXPECT_EQ(ParseScanOptions({"SCAN", "0", "COUNT", "0"}).status().message(),
            "ERR syntax error");
  EXPECT_EQ(ParseScanOptions({"SCAN", "0", "COUNT", "x"}).status().message(),
            "ERR value is not an integer or out of range");
  EXPECT_EQ(ParseScanOptions({"SCAN", "0", "COUNT", "+5"}).status().message(),
            "ERR value is not an integer or out of range");
  EXPECT_EQ(ParseScanOptions({"SCAN", "0", "BOGUS", "1"}).status().message(),
            "ERR syntax error");
  auto o = ParseScanOptions(
      Args{"SCAN", "0", "match", "k*", "TYPE", "hash", "count", "7"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->count, 7);
  EXPECT_EQ(o->match, "k*");
  EXPECT_EQ(o->type, "hash");
}

// In-memory backends: addr -> slot -> sorted keys, with qdb-server's
// SLOTSSCAN cursor table (cursor -> next key to examine).
class FakeCluster {
 public:
  std::map<std::string, std::map<int, std::set<std::string>>> data;
  bool plain_redis_g2 = false;  // kG2 answers SLOTSSCAN "unknown command"
  int calls = 0;

  std::string Answer(const ClusterScan::Request& req) {
    ++calls;
    auto& server = data[req.addr];
    if (req.args[0] == "SCAN") return AnswerScan(server, req);
    if (plain_redis_g2 && req.addr == kG2) {
      return "-ERR unknown command 'SLOTSSCAN', with args beginning with: \r\n";
    }
    EXPECT_EQ(req.args[0], "SLOTSSCAN");
    int slot = 0;
    uint64_t cursor = 0;
    int64_t count = 0;
    EXPECT_TRUE(absl::SimpleAtoi(req.args[1], &slot));
    EXPECT_TRUE(absl::SimpleAtoi(req.args[2], &cursor));
    EXPECT_TRUE(absl::SimpleAtoi(req.args[4], &count));
    std::string from;
    if (cursor != 0) {
      auto it = cursors_.find(cursor);
      if (it == cursors_.end()) return "-ERR invalid cursor\r\n";
      from = it->second;
    }
    const std::set<std::string>& keys = server[slot];
    std::vector<std::string> out;
    auto it = keys.lower_bound(from);
    for (; it != keys.end() && static_cast<int64_t>(out.size()) < count; ++it) {
      out.push_back(*it);
    }
    uint64_t next = 0;
    if (it != keys.end()) {
      next = next_cursor_++;
      cursors_[next] = *it;
    }
    return Reply(next, out);
  }

  // Moves `key` of `slot` from one server to another.
  void Move(int slot, const std::string& key, const char* from,
            const char* to) {
    ASSERT_EQ(data[from][slot].erase(key), 1u);
    data[to][slot].insert(key);
  }

 private:
  static std::string Reply(uint64_t next, const std::vector<std::string>& ks) {
    std::string out = "*2\r\n" + BulkReply(absl::StrCat(next));
    absl::StrAppend(&out, "*", ks.size(), "\r\n");
    for (const std::string& k : ks) out += BulkReply(k);
    return out;
  }

  // SCAN over every slot of the server: the cursor is a position.
  std::string AnswerScan(std::map<int, std::set<std::string>>& server,
                         const ClusterScan::Request& req) {
    std::vector<std::string> all;
    for (const auto& [slot, keys] : server) {
      all.insert(all.end(), keys.begin(), keys.end());
    }
    uint64_t pos = 0;
    int64_t count = 0;
    EXPECT_TRUE(absl::SimpleAtoi(req.args[1], &pos));
    EXPECT_TRUE(absl::SimpleAtoi(req.args[3], &count));
    std::vector<std::string> out;
    while (pos < all.size() && static_cast<int64_t>(out.size()) < count) {
      out.push_back(all[pos++]);
    }
    return Reply(pos >= all.size() ? 0 : pos, out);
  }

  std::map<uint64_t, std::string> cursors_;
  uint64_t next_cursor_ = 1000;
};

struct SlotSpec {
  int group = 1;
  SlotState state = SlotState::kOnline;
  int from = 0;
  int64_t version = 1;
};

std::shared_ptr<const SlotTable> MakeTable(
    const std::map<int, SlotSpec>& special) {
  std::vector<TableGroup> groups = {{1, kG1, {}}, {2, kG2, {}}};
  std::array<TableSlot, kSlotCount> slots{};
  for (int i = 0; i < kSlotCount; ++i) {
    slots[i] = TableSlot{i < kSlotCount / 2 ? 1 : 2, SlotState::kOnline, 0, 0};
    slots[i].version = 1;
  }
  for (const auto& [slot, spec] : special) {
    TableSlot& s = slots[slot];
    s.group_id = spec.group;
    s.state = spec.state;
    s.migrate_from = spec.from;
    s.migrate_to = spec.from != 0 ? spec.group : 0;
    s.version = spec.version;
  }
  auto table = SlotTable::Create(groups, slots, 1);
  EXPECT_TRUE(table.ok()) << table.status();
  return *table;
}

struct Batch {
  std::string cursor;
  std::vector<std::string> keys;
  std::string error;
};

Batch RunCall(FakeCluster& fake, const SlotTable& table,
              const std::string& cursor, ScanOptions options,
              int max_steps = 2 * kSlotCount) {
  auto parsed = ClusterScanCursor::Parse(cursor);
  EXPECT_TRUE(parsed.has_value());
  ClusterScan scan(options, *parsed, max_steps);
  while (auto req = scan.Next(table)) scan.OnReply(fake.Answer(*req));
  const std::string reply = scan.ClientReply();
  Batch b;
  if (reply[0] == '-') {
    b.error = reply;
    return b;
  }
  std::vector<std::string_view> elems, keys;
  EXPECT_TRUE(SplitArray(reply, &elems));
  EXPECT_EQ(elems.size(), 2u);
  b.cursor = std::string(*ParseBulkReply(elems[0]));
  EXPECT_TRUE(SplitArray(elems[1], &keys));
  for (std::string_view k : keys) b.keys.emplace_back(*ParseBulkReply(k));
  return b;
}

// Keys k0..k(n-1) at the group that serves their slot in MakeTable({}).
void Fill(FakeCluster& fake, int n, std::set<std::string>* all) {
  for (int i = 0; i < n; ++i) {
    const std::string k = absl::StrCat("k", i);
    const int slot = SlotOf(k);
    fake.data[slot < kSlotCount / 2 ? kG1 : kG2][slot].insert(k);
    all->insert(k);
  }
}

TEST(ClusterScanTest, FullIterationHonoursCountWithoutEmptyBatches) {
  FakeCluster fake;
  std::set<std::string> all;
  Fill(fake, 300, &all);
  auto table = MakeTable({});
  ScanOptions o;
  o.count = 7;
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    Batch b = RunCall(fake, *table, cursor, o);
    ASSERT_TRUE(b.error.empty()) << b.error;
    cursor = b.cursor;
    if (cursor != "0") {
      EXPECT_GE(b.keys.size(), 7u) << "a short non-final batch";
    }
    seen.insert(b.keys.begin(), b.keys.end());
    ASSERT_LT(++calls, 1000);
  } while (cursor != "0");
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), all);
  EXPECT_EQ(seen.size(), all.size()) << "no topology change: no duplicates";
}

TEST(ClusterScanTest, FilterArgumentsReachTheBackend) {
  auto table = MakeTable({});
  ScanOptions o;
  o.count = 3;
  o.match = "k1*";
  o.type = "string";
  ClusterScan scan(o, ClusterScanCursor{}, 10);
  auto req = scan.Next(*table);
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(req->addr, kG1);
  EXPECT_EQ(req->args,
            (std::vector<std::string>{"SLOTSSCAN", "0", "0", "COUNT", "3",
                                      "MATCH", "k1*", "TYPE", "string"}));
}

// The slot of the cursor starts migrating, keys move in behind the
// target's cursor and the version changes: the slot is walked again, so no
// key is missed.
TEST(ClusterScanTest, SlotThatChangesBetweenCallsIsWalkedAgain) {
  FakeCluster fake;
  const int slot = 5;
  for (const char* k : {"a", "b", "c", "d", "e", "f"}) {
    fake.data[kG1][slot].insert(k);
  }
  ScanOptions o;
  o.count = 2;
  // Start exactly at the slot (cursor of slot 5, nothing begun).
  ClusterScanCursor start;
  start.slot = slot;
  uint64_t v = 0;
  ASSERT_TRUE(start.Encode(&v));
  auto before = MakeTable({});
  Batch first = RunCall(fake, *before, absl::StrCat(v), o);
  EXPECT_EQ(first.keys, (std::vector<std::string>{"a", "b"}));
  const ClusterScanCursor mid =
      ClusterScanCursor::Decode(std::stoull(first.cursor));
  EXPECT_EQ(mid.slot, slot);
  EXPECT_NE(mid.backend, 0u);

  // Slot 5 now migrates 1 -> 2 (new version); "e" and "f" (not yet
  // reached) moved to the target.
  auto during = MakeTable({{slot, SlotSpec{2, SlotState::kMigrate, 1, 2}}});
  fake.Move(slot, "e", kG1, kG2);
  fake.Move(slot, "f", kG1, kG2);
  std::set<std::string> seen(first.keys.begin(), first.keys.end());
  std::string cursor = first.cursor;
  int calls = 0;
  do {
    Batch b = RunCall(fake, *during, cursor, o);
    ASSERT_TRUE(b.error.empty()) << b.error;
    seen.insert(b.keys.begin(), b.keys.end());
    cursor = b.cursor;
    if (ClusterScanCursor::Decode(std::stoull(cursor)).slot > slot) break;
    ASSERT_LT(++calls, 100);
  } while (cursor != "0");
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b", "c", "d", "e", "f"}));
}

// A slot whose version changed between two calls is walked again from its
// first server, whatever its state now (it may have gone away and come
// back): the proxy cannot tell what moved meanwhile.
TEST(ClusterScanTest, AnyVersionChangeWalksTheSlotAgain) {
  FakeCluster fake;
  const int slot = 9;
  for (const char* k : {"b", "c", "d"}) fake.data[kG1][slot].insert(k);
  ScanOptions o;
  o.count = 1;
  ClusterScanCursor start;
  start.slot = slot;
  uint64_t v = 0;
  ASSERT_TRUE(start.Encode(&v));
  auto t1 = MakeTable({{slot, SlotSpec{1, SlotState::kOnline, 0, 1}}});
  Batch first = RunCall(fake, *t1, absl::StrCat(v), o);
  EXPECT_EQ(first.keys, (std::vector<std::string>{"b"}));
  // Same state, newer version (it went to group 2 and back).
  auto t3 = MakeTable({{slot, SlotSpec{1, SlotState::kOnline, 0, 3}}});
  ClusterScan probe(o, ClusterScanCursor::Decode(std::stoull(first.cursor)), 1);
  auto req = probe.Next(*t3);
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(probe.restarts(), 1);
  EXPECT_EQ(req->args[2], "0") << "walked again from the slot's start";
  // Unchanged: it goes on where it was.
  ClusterScan same(o, ClusterScanCursor::Decode(std::stoull(first.cursor)), 1);
  req = same.Next(*t1);
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(same.restarts(), 0);
  EXPECT_NE(req->args[2], "0");
}

TEST(ClusterScanTest, ForgottenBackendCursorWalksTheSlotAgain) {
  FakeCluster fake;
  ClusterScanCursor c;
  c.slot = 3;
  c.version = 1;
  c.backend = 77;  // unknown to the fake
  fake.data[kG1][3] = {"x", "y"};
  auto table = MakeTable({});
  ScanOptions o;
  o.count = 10;
  ClusterScan scan(o, c, 2 * kSlotCount);
  while (auto req = scan.Next(*table)) scan.OnReply(fake.Answer(*req));
  EXPECT_EQ(scan.restarts(), 1);
  std::vector<std::string_view> elems, keys;
  const std::string reply = scan.ClientReply();
  ASSERT_TRUE(SplitArray(reply, &elems));
  ASSERT_TRUE(SplitArray(elems[1], &keys));
  EXPECT_EQ(keys.size(), 2u);
}

TEST(ClusterScanTest, BackendWithoutSlotsScanFallsBackToGroups) {
  FakeCluster fake;
  fake.plain_redis_g2 = true;
  std::set<std::string> all;
  Fill(fake, 200, &all);
  auto table = MakeTable({});
  ScanOptions o;
  o.count = 1000;
  ClusterScan scan(o, ClusterScanCursor{}, 2 * kSlotCount);
  while (auto req = scan.Next(*table)) scan.OnReply(fake.Answer(*req));
  EXPECT_TRUE(scan.fell_back_to_groups());
  std::vector<std::string_view> elems, keys;
  const std::string reply = scan.ClientReply();
  ASSERT_TRUE(SplitArray(reply, &elems));
  EXPECT_EQ(*ParseBulkReply(elems[0]), "0");
  ASSERT_TRUE(SplitArray(elems[1], &keys));
  std::set<std::string> seen;
  for (std::string_view k : keys) seen.emplace(*ParseBulkReply(k));
  EXPECT_EQ(seen, all);
}

TEST(ClusterScanTest, EmptyKeyspaceEndsInOneCall) {
  FakeCluster fake;
  auto table = MakeTable({});
  Batch b = RunCall(fake, *table, "0", ScanOptions{});
  EXPECT_EQ(b.cursor, "0");
  EXPECT_TRUE(b.keys.empty());
  EXPECT_EQ(fake.calls, kSlotCount);
}

TEST(ClusterScanTest, BackendErrorIsTheReply) {
  auto table = MakeTable({});
  ClusterScan scan(ScanOptions{}, ClusterScanCursor{}, 10);
  ASSERT_TRUE(scan.Next(*table).has_value());
  scan.OnReply("-ERR boom\r\n");
  EXPECT_FALSE(scan.Next(*table).has_value());
  EXPECT_EQ(scan.ClientReply(), "-ERR boom\r\n");
}

}  // namespace
}  // namespace reborn::routing
