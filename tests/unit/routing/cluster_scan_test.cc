// Cluster-wide SCAN (routing::ClusterScan): the cursor format, COUNT,
// batches that are never empty before the end, slots whose topology changes
// between calls (also while a call walks a range of slots), the cost in
// backend calls (ranges of one group's slots, a tagged MATCH's one slot) and
// the fallbacks for backends without SLOTSSCAN or without its SLOTS option.
// The backends are simulated in memory with qdb-server's SLOTSSCAN
// semantics (a cursor names the next key to examine; a key that moves in
// lands at its sorted place, possibly behind a cursor).
#include "routing/cluster_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "reborn/slot.h"
#include "reborn/slot_table.h"
#include "routing/merge.h"
#include "util/glob.h"

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
// SLOTSSCAN cursor table (cursor -> server, slot and next key to examine)
// and its SLOTS option (a range of slots walked in order).
class FakeCluster {
 public:
  std::map<std::string, std::map<int, std::set<std::string>>> data;
  bool plain_redis_g2 = false;  // kG2 answers SLOTSSCAN "unknown command"
  bool refuse_slots = false;    // SLOTSSCAN ... SLOTS is a syntax error
  int calls = 0;
  std::vector<std::vector<std::string>> log;  // every request's args

  std::string Answer(const ClusterScan::Request& req) {
    ++calls;
    log.push_back(req.args);
    auto& server = data[req.addr];
    if (req.args[0] == "SCAN") return AnswerScan(server, req);
    if (plain_redis_g2 && req.addr == kG2) {
      return "-ERR unknown command 'SLOTSSCAN', with args beginning with: \r\n";
    }
    EXPECT_EQ(req.args[0], "SLOTSSCAN");
    int slot = 0;
    uint64_t cursor = 0;
    int64_t count = 10;
    int64_t span = 0;
    std::string match;
    EXPECT_TRUE(absl::SimpleAtoi(req.args[1], &slot));
    EXPECT_TRUE(absl::SimpleAtoi(req.args[2], &cursor));
    for (size_t i = 3; i + 1 < req.args.size(); i += 2) {
      const std::string& v = req.args[i + 1];
      if (req.args[i] == "COUNT") {
        EXPECT_TRUE(absl::SimpleAtoi(v, &count));
      } else if (req.args[i] == "MATCH") {
        match = v;
      } else if (req.args[i] == "SLOTS") {
        if (refuse_slots) return "-ERR syntax error\r\n";
        EXPECT_TRUE(absl::SimpleAtoi(v, &span));
        EXPECT_GE(span, 1);
      } else {
        EXPECT_EQ(req.args[i], "TYPE");
      }
    }
    const int last = std::min(slot + std::max<int64_t>(span, 1) - 1,
                              int64_t{kSlotCount - 1});
    std::string from;
    if (cursor != 0) {
      auto it = cursors_.find(cursor);
      if (it == cursors_.end() || it->second.addr != req.addr ||
          it->second.slot != slot) {
        return "-ERR invalid cursor\r\n";
      }
      from = it->second.key;
    }
    std::vector<std::string> out;
    int64_t examined = 0;
    for (int x = slot; x <= last; ++x) {
      const std::set<std::string>& keys = server[x];
      for (auto it = x == slot ? keys.lower_bound(from) : keys.begin();
           it != keys.end(); ++it) {
        if (examined == count) {
          const uint64_t next = next_cursor_++;
          cursors_[next] = Position{req.addr, x, *it};
          return Reply(next, out, span != 0, x);
        }
        ++examined;
        if (match.empty() || GlobMatch(match, *it)) out.push_back(*it);
      }
    }
    return Reply(0, out, span != 0, last + 1);
  }

  // Moves `key` of `slot` from one server to another.
  void Move(int slot, const std::string& key, const char* from,
            const char* to) {
    ASSERT_EQ(data[from][slot].erase(key), 1u);
    data[to][slot].insert(key);
  }

 private:
  struct Position {
    std::string addr;
    int slot = 0;
    std::string key;
  };

  static std::string Reply(uint64_t next, const std::vector<std::string>& ks,
                           bool with_slot = false, int slot = 0) {
    std::string out = absl::StrCat("*", with_slot ? 3 : 2, "\r\n",
                                   BulkReply(absl::StrCat(next)));
    absl::StrAppend(&out, "*", ks.size(), "\r\n");
    for (const std::string& k : ks) out += BulkReply(k);
    if (with_slot) absl::StrAppend(&out, ":", slot, "\r\n");
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
    std::string match;
    if (req.args.size() >= 6 && req.args[4] == "MATCH") match = req.args[5];
    std::vector<std::string> out;
    for (int64_t examined = 0; pos < all.size() && examined < count;
         ++examined, ++pos) {
      if (match.empty() || GlobMatch(match, all[pos])) out.push_back(all[pos]);
    }
    return Reply(pos >= all.size() ? 0 : pos, out);
  }

  std::map<uint64_t, Position> cursors_;
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

// A SCAN reply to the client: its cursor and keys, or its error.
Batch ParseClientReply(const std::string& reply) {
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

Batch RunCall(FakeCluster& fake, const SlotTable& table,
              const std::string& cursor, ScanOptions options,
              int max_steps = 2 * kSlotCount) {
  auto parsed = ClusterScanCursor::Parse(cursor);
  EXPECT_TRUE(parsed.has_value());
  ClusterScan scan(options, *parsed, max_steps);
  while (auto req = scan.Next(table)) scan.OnReply(fake.Answer(*req));
  return ParseClientReply(scan.ClientReply());
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
  EXPECT_EQ(req->args, (std::vector<std::string>{"SLOTSSCAN", "0", "0", "COUNT",
                                                 "3", "MATCH", "k1*", "TYPE",
                                                 "string", "SLOTS", "512"}));
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
  const Batch b = ParseClientReply(scan.ClientReply());
  EXPECT_EQ(b.cursor, "0");
  EXPECT_EQ(std::set<std::string>(b.keys.begin(), b.keys.end()), all);
}

// Each group's run of slots is one range call: an empty keyspace over two
// groups costs two backend calls (it cost one per slot, 1024, before).
TEST(ClusterScanTest, EmptyKeyspaceEndsInOneCall) {
  FakeCluster fake;
  auto table = MakeTable({});
  Batch b = RunCall(fake, *table, "0", ScanOptions{});
  EXPECT_EQ(b.cursor, "0");
  EXPECT_TRUE(b.keys.empty());
  EXPECT_EQ(fake.calls, 2);
  ASSERT_EQ(fake.log.size(), 2u);
  EXPECT_EQ(fake.log[0],
            (std::vector<std::string>{"SLOTSSCAN", "0", "0", "COUNT", "10",
                                      "SLOTS", "512"}));
  EXPECT_EQ(fake.log[1],
            (std::vector<std::string>{"SLOTSSCAN", "512", "0", "COUNT", "10",
                                      "SLOTS", "512"}));
}

// A few keys: a full iteration costs about one backend call per client call
// and group, however many slots are empty.
TEST(ClusterScanTest, SparseKeyspaceCostsFewBackendCalls) {
  FakeCluster fake;
  std::set<std::string> all;
  Fill(fake, 25, &all);
  auto table = MakeTable({});
  ScanOptions o;  // COUNT 10
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int client_calls = 0;
  do {
    Batch b = RunCall(fake, *table, cursor, o);
    ASSERT_TRUE(b.error.empty()) << b.error;
    cursor = b.cursor;
    seen.insert(b.keys.begin(), b.keys.end());
    ASSERT_LT(++client_calls, 100);
  } while (cursor != "0");
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), all);
  EXPECT_EQ(seen.size(), all.size());
  EXPECT_EQ(client_calls, 3);
  EXPECT_LE(fake.calls, 2 * client_calls) << fake.calls;
}

// The run ends where another group's slots, a migrating slot or an offline
// slot begin; a migrating slot is walked alone, source then target, with
// the one-slot syntax.
TEST(ClusterScanTest, RunsStopAtMigratingAndOfflineSlots) {
  FakeCluster fake;
  auto table = MakeTable({{100, SlotSpec{2, SlotState::kMigrate, 1, 2}},
                          {200, SlotSpec{0, SlotState::kOffline, 0, 1}}});
  Batch b = RunCall(fake, *table, "0", ScanOptions{});
  EXPECT_EQ(b.cursor, "0");
  using Args = std::vector<std::string>;
  const std::vector<std::pair<std::string, Args>> want = {
      {kG1, Args{"SLOTSSCAN", "0", "0", "COUNT", "10", "SLOTS", "100"}},
      {kG1, Args{"SLOTSSCAN", "100", "0", "COUNT", "10"}},
      {kG2, Args{"SLOTSSCAN", "100", "0", "COUNT", "10"}},
      {kG1, Args{"SLOTSSCAN", "101", "0", "COUNT", "10", "SLOTS", "99"}},
      {kG1, Args{"SLOTSSCAN", "201", "0", "COUNT", "10", "SLOTS", "311"}},
      {kG2, Args{"SLOTSSCAN", "512", "0", "COUNT", "10", "SLOTS", "512"}},
  };
  ASSERT_EQ(fake.log.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(fake.log[i], want[i].second);
}

// A range call that stops inside a slot: the client cursor names that slot
// and the backend cursor; the next call goes on there.
TEST(ClusterScanTest, RangeCallStopsInsideASlot) {
  FakeCluster fake;
  // Two tags of different slots of the first group.
  std::vector<std::string> tags;
  for (int i = 0; tags.size() < 2 && i < 100; ++i) {
    const std::string t = absl::StrCat("t", i);
    if (SlotOf(t) < kSlotCount / 2 &&
        (tags.empty() || SlotOf(tags[0]) != SlotOf(t))) {
      tags.push_back(t);
    }
  }
  ASSERT_EQ(tags.size(), 2u);
  const int s1 = SlotOf(tags[0]), s2 = SlotOf(tags[1]);
  for (int i = 1; i <= 3; ++i) {
    fake.data[kG1][s1].insert(absl::StrCat("{", tags[0], "}", i));
    fake.data[kG1][s2].insert(absl::StrCat("{", tags[1], "}", i));
  }
  auto table = MakeTable({});
  ScanOptions o;
  o.count = 4;
  Batch b = RunCall(fake, *table, "0", o);
  ASSERT_EQ(b.keys.size(), 4u);
  const ClusterScanCursor c = ClusterScanCursor::Decode(std::stoull(b.cursor));
  EXPECT_EQ(c.slot, std::max(s1, s2));
  EXPECT_NE(c.backend, 0u);
  EXPECT_EQ(fake.calls, 1);
  Batch rest = RunCall(fake, *table, b.cursor, o);
  EXPECT_EQ(rest.cursor, "0");
  EXPECT_EQ(rest.keys.size(), 2u);
  EXPECT_EQ(fake.log[1][1], absl::StrCat(c.slot));
}

// A slot of the range changes (starts migrating) between the call and the
// reply, and keys move meanwhile: the reply may have missed them, so the
// slot is walked again from its first server, the later slots too.
TEST(ClusterScanTest, SlotOfARangeThatChangesDuringTheCallIsWalkedAgain) {
  FakeCluster fake;
  const int slot = 7;
  for (const char* k : {"a", "b", "c", "d"}) fake.data[kG1][slot].insert(k);
  fake.data[kG1][300].insert("late");
  auto before = MakeTable({});
  ScanOptions o;
  o.count = 100;
  ClusterScan scan(o, ClusterScanCursor{}, 100);
  auto req = scan.Next(*before);
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(req->args.back(), "512");
  // The slot starts migrating 1 -> 2 and "c" and "d" move before the
  // server walks the slot.
  auto during = MakeTable({{slot, SlotSpec{2, SlotState::kMigrate, 1, 2}}});
  fake.Move(slot, "c", kG1, kG2);
  fake.Move(slot, "d", kG1, kG2);
  scan.OnReply(fake.Answer(*req));
  std::multiset<std::string> seen;
  while ((req = scan.Next(*during))) scan.OnReply(fake.Answer(*req));
  EXPECT_EQ(scan.restarts(), 1);
  const Batch b = ParseClientReply(scan.ClientReply());
  EXPECT_EQ(b.cursor, "0");
  seen.insert(b.keys.begin(), b.keys.end());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()),
            (std::set<std::string>{"a", "b", "c", "d", "late"}));
  EXPECT_EQ(seen.count("late"), 2u) << "the slots after it came again";
}

// A slot of the range that the reply did not reach may change: nothing is
// walked again (its walk has not begun).
TEST(ClusterScanTest, SlotBeyondTheReplyMayChange) {
  FakeCluster fake;
  for (const char* k : {"a", "b", "c"}) fake.data[kG1][7].insert(k);
  auto before = MakeTable({});
  ScanOptions o;
  o.count = 2;
  ClusterScan scan(o, ClusterScanCursor{}, 100);
  auto req = scan.Next(*before);
  ASSERT_TRUE(req.has_value());
  scan.OnReply(fake.Answer(*req));
  auto after = MakeTable({{9, SlotSpec{2, SlotState::kMigrate, 1, 2}}});
  EXPECT_FALSE(scan.Next(*after).has_value());  // COUNT reached
  EXPECT_EQ(scan.restarts(), 0);
  const std::string reply = scan.ClientReply();
  std::vector<std::string_view> elems;
  ASSERT_TRUE(SplitArray(reply, &elems));
  const ClusterScanCursor c = ClusterScanCursor::Decode(
      std::stoull(std::string(*ParseBulkReply(elems[0]))));
  EXPECT_EQ(c.slot, 7);
  EXPECT_NE(c.backend, 0u);
}

// A qdb-server from before SLOTSSCAN's SLOTS option answers it with a
// syntax error: the call goes on one slot per backend call, and still
// returns every key.
TEST(ClusterScanTest, BackendWithoutSlotsOptionWalksSlotBySlot) {
  FakeCluster fake;
  fake.refuse_slots = true;
  std::set<std::string> all;
  Fill(fake, 40, &all);
  auto table = MakeTable({});
  ScanOptions o;
  o.count = 1000;
  ClusterScan scan(o, ClusterScanCursor{}, 2 * kSlotCount);
  while (auto req = scan.Next(*table)) scan.OnReply(fake.Answer(*req));
  EXPECT_TRUE(scan.ranges_refused());
  EXPECT_EQ(fake.calls, 1 + kSlotCount);
  const Batch b = ParseClientReply(scan.ClientReply());
  EXPECT_EQ(b.cursor, "0");
  EXPECT_EQ(std::set<std::string>(b.keys.begin(), b.keys.end()), all);
}

TEST(ClusterScanTest, PatternSlotNeedsALiteralTag) {
  EXPECT_EQ(ScanPatternSlot("{user1}:*"), SlotOf("user1"));
  EXPECT_EQ(ScanPatternSlot("{user1}"), SlotOf("user1"));
  EXPECT_EQ(ScanPatternSlot("x{user1}?[ab]"), SlotOf("user1"));
  EXPECT_EQ(ScanPatternSlot("plain"), SlotOf("plain"));  // one key
  EXPECT_EQ(ScanPatternSlot("{}x"), SlotOf("{}x"));      // one key
  EXPECT_EQ(ScanPatternSlot("{a"), SlotOf("{a"));        // one key
  EXPECT_EQ(ScanPatternSlot(""), -1);
  EXPECT_EQ(ScanPatternSlot("*"), -1);
  EXPECT_EQ(ScanPatternSlot("*{user1}"), -1);
  EXPECT_EQ(ScanPatternSlot("{us*r1}:x"), -1);
  EXPECT_EQ(ScanPatternSlot("{us?r1}:x"), -1);
  EXPECT_EQ(ScanPatternSlot("{us[e]r1}:x"), -1);
  EXPECT_EQ(ScanPatternSlot("{us\\er1}:x"), -1);
  EXPECT_EQ(ScanPatternSlot("{}*"), -1);  // an empty tag: the whole key
  EXPECT_EQ(ScanPatternSlot("{a*"), -1);
}

// MATCH {tag}... walks only the tag's slot: one backend call for a small
// slot, the cursor then 0; the keys are those of the full walk.
TEST(ClusterScanTest, TaggedMatchWalksOneSlot) {
  FakeCluster fake;
  std::set<std::string> all;
  Fill(fake, 200, &all);
  std::set<std::string> tagged;
  const int slot = SlotOf("user1");
  for (int i = 0; i < 5; ++i) {
    const std::string k = absl::StrCat("{user1}:", i);
    fake.data[slot < kSlotCount / 2 ? kG1 : kG2][slot].insert(k);
    tagged.insert(k);
  }
  // Another key of the same slot that does not match.
  fake.data[slot < kSlotCount / 2 ? kG1 : kG2][slot].insert("{user1}x");
  auto table = MakeTable({});
  ScanOptions o;
  o.match = "{user1}:*";
  Batch b = RunCall(fake, *table, "0", o);
  EXPECT_EQ(b.cursor, "0");
  EXPECT_EQ(std::set<std::string>(b.keys.begin(), b.keys.end()), tagged);
  ASSERT_EQ(fake.log.size(), 1u);
  EXPECT_EQ(fake.log[0],
            (std::vector<std::string>{"SLOTSSCAN", absl::StrCat(slot), "0",
                                      "COUNT", "10", "MATCH", "{user1}:*"}));
  // A small COUNT: several calls, all in the slot.
  o.count = 2;
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  fake.log.clear();
  do {
    Batch part = RunCall(fake, *table, cursor, o);
    ASSERT_TRUE(part.error.empty()) << part.error;
    seen.insert(part.keys.begin(), part.keys.end());
    cursor = part.cursor;
    ASSERT_LT(++calls, 20);
  } while (cursor != "0");
  EXPECT_EQ(seen, tagged);
  for (const auto& args : fake.log) EXPECT_EQ(args[1], absl::StrCat(slot));
  // A cursor beyond the slot is the end.
  ClusterScanCursor past;
  past.slot = slot + 1;
  past.version = 1;
  uint64_t v = 0;
  ASSERT_TRUE(past.Encode(&v));
  Batch end = RunCall(fake, *table, absl::StrCat(v), o);
  EXPECT_EQ(end.cursor, "0");
  EXPECT_TRUE(end.keys.empty());
}

// The tagged slot migrating: its source, then its target, nothing else.
TEST(ClusterScanTest, TaggedMatchOfAMigratingSlot) {
  FakeCluster fake;
  const int slot = SlotOf("user1");
  fake.data[kG1][slot] = {"{user1}:a", "{user1}:b"};
  fake.data[kG2][slot] = {"{user1}:c"};
  auto table = MakeTable({{slot, SlotSpec{2, SlotState::kMigrate, 1, 2}}});
  ScanOptions o;
  o.match = "{user1}:*";
  Batch b = RunCall(fake, *table, "0", o);
  EXPECT_EQ(b.cursor, "0");
  EXPECT_EQ(std::set<std::string>(b.keys.begin(), b.keys.end()),
            (std::set<std::string>{"{user1}:a", "{user1}:b", "{user1}:c"}));
  EXPECT_EQ(fake.calls, 2);
}

// Group mode (redis-server groups): only the group serving the tag's slot.
TEST(ClusterScanTest, TaggedMatchInGroupModeAsksOneGroup) {
  FakeCluster fake;
  std::set<std::string> all;
  Fill(fake, 50, &all);
  const int slot = SlotOf("user1");
  const char* owner = slot < kSlotCount / 2 ? kG1 : kG2;
  fake.data[owner][slot] = {"{user1}:a"};
  auto table = MakeTable({});
  ScanOptions o;
  o.match = "{user1}:*";
  o.count = 1000;
  ClusterScanCursor c;
  c.by_group = true;
  ClusterScan scan(o, c, 100);
  while (auto req = scan.Next(*table)) {
    EXPECT_EQ(req->addr, owner);
    scan.OnReply(fake.Answer(*req));
  }
  EXPECT_EQ(fake.calls, 1);
  const Batch b = ParseClientReply(scan.ClientReply());
  EXPECT_EQ(b.cursor, "0");
  EXPECT_EQ(b.keys, std::vector<std::string>{"{user1}:a"});
}

// Randomised: slots migrate back and forth between the two groups while
// full iterations run (the migration published before its first key moves,
// keys moving before or after the server answers a call, the slot coming
// online at its target after its last key). Every key is returned by every
// iteration.
TEST(ClusterScanTest, RandomMigrationsMissNoKey) {
  std::mt19937 rng(24);
  FakeCluster fake;
  std::set<std::string> all;
  Fill(fake, 300, &all);
  // 24 tags of 10 keys each: the slots that migrate.
  std::vector<int> slots_with_keys;
  for (int t = 0; t < 24; ++t) {
    const std::string tag = absl::StrCat("t", t);
    const int slot = SlotOf(tag);
    for (int i = 0; i < 10; ++i) {
      const std::string k = absl::StrCat("{", tag, "}", i);
      fake.data[slot < kSlotCount / 2 ? kG1 : kG2][slot].insert(k);
      all.insert(k);
    }
    slots_with_keys.push_back(slot);
  }
  // Slot owners and versions; one migration at a time.
  std::map<int, SlotSpec> specials;
  auto owner_of = [&](int slot) {
    auto it = specials.find(slot);
    return it != specials.end() ? it->second.group
                                : (slot < kSlotCount / 2 ? 1 : 2);
  };
  auto addr_of = [](int group) { return group == 1 ? kG1 : kG2; };
  int migrating = -1;
  int64_t version = 1;
  auto table = MakeTable(specials);
  int moves = 0;
  auto step = [&] {
    if (migrating < 0) {
      migrating = slots_with_keys[rng() % slots_with_keys.size()];
      const int from = owner_of(migrating);
      specials[migrating] =
          SlotSpec{3 - from, SlotState::kMigrate, from, ++version};
    } else {
      SlotSpec& s = specials[migrating];
      auto& src = fake.data[addr_of(s.from)][migrating];
      if (src.empty()) {
        specials[migrating] =
            SlotSpec{s.group, SlotState::kOnline, 0, ++version};
        migrating = -1;
        ++moves;
      } else {
        auto it = src.begin();
        std::advance(it, rng() % src.size());
        fake.Move(migrating, *it, addr_of(s.from), addr_of(s.group));
      }
    }
    table = MakeTable(specials);
  };
  for (int iteration = 0; iteration < 100; ++iteration) {
    ScanOptions o;
    o.count = std::array<int, 4>{1, 3, 10, 50}[iteration % 4];
    std::set<std::string> seen;
    std::string cursor = "0";
    int calls = 0;
    do {
      auto parsed = ClusterScanCursor::Parse(cursor);
      ASSERT_TRUE(parsed.has_value());
      ClusterScan scan(o, *parsed, 2 * kSlotCount);
      while (auto req = scan.Next(*table)) {
        // Before the server answers: the migration may be published and
        // keys moved while the request travels.
        for (int i = rng() % 6; i > 0; --i) step();
        const std::string reply = fake.Answer(*req);
        step();  // after
        scan.OnReply(reply);
      }
      const std::string reply = scan.ClientReply();
      std::vector<std::string_view> elems, keys;
      ASSERT_TRUE(SplitArray(reply, &elems)) << reply;
      cursor = std::string(*ParseBulkReply(elems[0]));
      ASSERT_TRUE(SplitArray(elems[1], &keys));
      if (cursor != "0") {
        EXPECT_FALSE(keys.empty());
      }
      for (std::string_view k : keys) seen.emplace(*ParseBulkReply(k));
      step();  // between client calls
      ASSERT_LT(++calls, 2000);
    } while (cursor != "0");
    std::vector<std::string> missed;
    std::set_difference(all.begin(), all.end(), seen.begin(), seen.end(),
                        std::back_inserter(missed));
    ASSERT_TRUE(missed.empty()) << "iteration " << iteration << " missed "
                                << missed.size() << ", e.g. " << missed[0];
  }
  EXPECT_GE(moves, 5);
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
