// Codis' slot commands (SLOTSINFO, SLOTSSCAN, SLOTSDEL, SLOTSHASHKEY,
// SLOTSCHECK, SLOTSRESTORE) through QdbEngine::Execute on every backend.
// Moves between two servers are tested in tests/integration/qdb_slots.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine_fixture.h"
#include "reborn/slot.h"

namespace reborn {
namespace {

using SlotsTest = EngineTest;

Reply Pair(int64_t a, int64_t b) {
  Reply r;
  r.type = Reply::Type::kArray;
  r.elements = {Reply::Integer(a), Reply::Integer(b)};
  return r;
}

TEST_P(SlotsTest, HashKeyUsesCrc32OfTheTag) {
  // zlib.crc32(b"a") % 1024 == 579, crc32(b"user1") % 1024 == 341,
  // crc32(b"{}x") % 1024 == 22 (an empty tag hashes the whole key).
  EXPECT_EQ(R("SLOTSHASHKEY", "a", "{user1}.name", "user1", "{}x"),
            Arr({Int(579), Int(341), Int(341), Int(22)}));
  EXPECT_EQ(R("SLOTSHASHKEY"), Arr({}));
}

TEST_P(SlotsTest, InfoCountsLiveKeysPerSlot) {
  const int sa = SlotOf("a"), st = SlotOf("t");
  ASSERT_LT(sa, st);
  EXPECT_EQ(R("SET", "{a}1", "x"), Ok());
  EXPECT_EQ(R("HSET", "{a}2", "f", "v"), Int(1));
  EXPECT_EQ(R("SADD", "{a}3", "m"), Int(1));
  EXPECT_EQ(R("SET", "{t}1", "x"), Ok());
  EXPECT_EQ(R("SET", "{t}gone", "x", "PX", "1"), Ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(R("SLOTSINFO"), Arr({Pair(sa, 3), Pair(st, 1)}));
  EXPECT_EQ(R("SLOTSINFO", absl::StrCat(sa + 1)), Arr({Pair(st, 1)}));
  EXPECT_EQ(R("SLOTSINFO", absl::StrCat(sa), "1"), Arr({Pair(sa, 3)}));
  EXPECT_EQ(R("SLOTSINFO", "0", "0"), Arr({}));
  EXPECT_EQ(R("SLOTSINFO", "1024"), Err("ERR invalid slot number"));
  EXPECT_EQ(R("SLOTSINFO", "x"),
            Err("ERR value is not an integer or out of range"));
  // Another database has its own slots.
  ctx_.db = 1;
  EXPECT_EQ(R("SLOTSINFO"), Arr({}));
}

TEST_P(SlotsTest, ScanWalksOneSlotWithCursors) {
  std::set<std::string> want;
  for (int i = 0; i < 25; ++i) {
    const std::string k = absl::StrCat("{s}", i);
    EXPECT_EQ(R("SET", k, "v"), Ok());
    want.insert(k);
  }
  EXPECT_EQ(R("SET", "other", "v"), Ok());
  const std::string slot = absl::StrCat(SlotOf("s"));
  std::set<std::string> got;
  std::string cursor = "0";
  int rounds = 0;
  do {
    Reply r = R("SLOTSSCAN", slot, cursor, "COUNT", "7");
    ASSERT_EQ(r.elements.size(), 2u) << ::testing::PrintToString(r);
    cursor = r.elements[0].str;
    for (const Reply& k : r.elements[1].elements) got.insert(k.str);
    ASSERT_LT(++rounds, 10);
  } while (cursor != "0");
  EXPECT_EQ(got, want);
  EXPECT_EQ(rounds, 4);
  EXPECT_EQ(R("SLOTSSCAN", slot, "12345"), Err("ERR invalid cursor"));
  EXPECT_EQ(R("SLOTSSCAN", "-1", "0"), Err("ERR invalid slot number"));
  EXPECT_EQ(R("SLOTSSCAN", slot, "0", "COUNT"), Err("ERR syntax error"));
  EXPECT_EQ(R("SLOTSSCAN", absl::StrCat(SlotOf("s") + 1), "0"),
            Arr({Str("0"), Arr({})}));
}

// SLOTS n walks the slots [slot, slot + n) as one range: COUNT records
// across them, and a third element, the slot where the cursor is (slot + n
// at the end). Its cursors are ordinary SLOTSSCAN cursors of that slot.
TEST_P(SlotsTest, ScanWalksARangeOfSlots) {
  std::vector<std::pair<int, std::string>> tags;
  for (const char* t : {"x", "y", "z"}) tags.emplace_back(SlotOf(t), t);
  std::sort(tags.begin(), tags.end());
  ASSERT_LT(tags[0].first, tags[1].first);
  ASSERT_LT(tags[1].first, tags[2].first);
  std::set<std::string> want;
  for (const auto& [slot, tag] : tags) {
    for (int i = 0; i < 3; ++i) {
      const std::string k = absl::StrCat("{", tag, "}", i);
      EXPECT_EQ(R("SET", k, "v"), Ok());
      want.insert(k);
    }
  }
  // All in one call.
  Reply r = R("SLOTSSCAN", "0", "0", "COUNT", "100", "SLOTS", "1024");
  ASSERT_EQ(r.elements.size(), 3u) << ::testing::PrintToString(r);
  EXPECT_EQ(r.elements[0], Str("0"));
  EXPECT_EQ(r.elements[1].elements.size(), 9u);
  EXPECT_EQ(r.elements[2], Int(1024));
  // COUNT 2 at a time: each reply names the slot to go on with.
  std::set<std::string> got;
  std::string cursor = "0";
  int slot = 0, rounds = 0;
  std::vector<int> slots_seen;
  do {
    r = R("SLOTSSCAN", absl::StrCat(slot), cursor, "COUNT", "2", "SLOTS",
          absl::StrCat(kSlotCount - slot));
    ASSERT_EQ(r.elements.size(), 3u) << ::testing::PrintToString(r);
    cursor = r.elements[0].str;
    for (const Reply& k : r.elements[1].elements) got.insert(k.str);
    slot = static_cast<int>(r.elements[2].integer);
    slots_seen.push_back(slot);
    ASSERT_LT(++rounds, 10);
  } while (cursor != "0");
  EXPECT_EQ(got, want);
  EXPECT_EQ(rounds, 5);
  EXPECT_EQ(slots_seen,
            (std::vector<int>{tags[0].first, tags[1].first, tags[2].first,
                              tags[2].first, kSlotCount}));
  // A range cursor resumes with the one-slot syntax too, in its slot only.
  r = R("SLOTSSCAN", "0", "0", "COUNT", "4", "SLOTS", "1024");
  ASSERT_EQ(r.elements.size(), 3u);
  EXPECT_EQ(r.elements[2], Int(tags[1].first));
  const std::string mid = r.elements[0].str;
  r = R("SLOTSSCAN", absl::StrCat(tags[1].first), mid);
  ASSERT_EQ(r.elements.size(), 2u);
  EXPECT_EQ(r.elements[0], Str("0"));
  EXPECT_EQ(r.elements[1].elements.size(), 2u);
  // ... and is no cursor of another slot.
  EXPECT_EQ(R("SLOTSSCAN", absl::StrCat(tags[0].first), mid, "SLOTS", "5"),
            Err("ERR invalid cursor"));
  // A range that ends before a slot does not reach its keys.
  r = R("SLOTSSCAN", absl::StrCat(tags[0].first), "0", "SLOTS",
        absl::StrCat(tags[1].first - tags[0].first));
  ASSERT_EQ(r.elements.size(), 3u);
  EXPECT_EQ(r.elements[0], Str("0"));
  EXPECT_EQ(r.elements[1].elements.size(), 3u);
  EXPECT_EQ(r.elements[2], Int(tags[1].first));
  // MATCH filters across the range; SLOTS beyond the last slot stops there.
  r = R("SLOTSSCAN", "0", "0", "MATCH", absl::StrCat("{", tags[2].second, "}*"),
        "COUNT", "100", "SLOTS", "5000");
  ASSERT_EQ(r.elements.size(), 3u);
  EXPECT_EQ(r.elements[1].elements.size(), 3u);
  EXPECT_EQ(r.elements[2], Int(1024));
  EXPECT_EQ(R("SLOTSSCAN", "1023", "0", "SLOTS", "2"),
            Arr({Str("0"), Arr({}), Int(1024)}));
  EXPECT_EQ(R("SLOTSSCAN", "0", "0", "SLOTS", "0"), Err("ERR syntax error"));
  EXPECT_EQ(R("SLOTSSCAN", "0", "0", "SLOTS", "x"),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(R("SLOTSSCAN", "0", "0", "SLOTS"), Err("ERR syntax error"));
}

// MATCH and TYPE filter as SCAN's: COUNT counts records examined.
TEST_P(SlotsTest, ScanFiltersByMatchAndType) {
  for (int i = 0; i < 12; ++i) {
    const std::string k = absl::StrCat("{s}", i);
    if (i % 3 == 0) {
      EXPECT_EQ(R("RPUSH", k, "x"), Int(1));
    } else {
      EXPECT_EQ(R("SET", k, "v"), Ok());
    }
  }
  const std::string slot = absl::StrCat(SlotOf("s"));
  auto all = [&](std::vector<std::string> opts) {
    std::set<std::string> got;
    std::string cursor = "0";
    int rounds = 0;
    do {
      std::vector<std::string> args = {"SLOTSSCAN", slot, cursor, "COUNT", "5"};
      args.insert(args.end(), opts.begin(), opts.end());
      Reply r = engine_->Execute(ctx_, args);
      EXPECT_EQ(r.elements.size(), 2u) << ::testing::PrintToString(r);
      if (r.elements.size() != 2) break;
      cursor = r.elements[0].str;
      for (const Reply& k : r.elements[1].elements) got.insert(k.str);
      EXPECT_LT(++rounds, 10);
    } while (cursor != "0" && rounds < 10);
    return got;
  };
  EXPECT_EQ(all({"MATCH", "{s}1*"}),
            (std::set<std::string>{"{s}1", "{s}10", "{s}11"}));
  EXPECT_EQ(all({"TYPE", "list"}),
            (std::set<std::string>{"{s}0", "{s}3", "{s}6", "{s}9"}));
  EXPECT_EQ(all({"type", "STRING", "match", "{s}1*"}),
            (std::set<std::string>{"{s}1", "{s}10", "{s}11"}));
  EXPECT_EQ(all({"TYPE", "nosuchtype"}), std::set<std::string>{});
  EXPECT_EQ(R("SLOTSSCAN", slot, "0", "MATCH"), Err("ERR syntax error"));
  EXPECT_EQ(R("SLOTSSCAN", slot, "0", "BOGUS", "1"), Err("ERR syntax error"));
}

TEST_P(SlotsTest, DelEmptiesOnlyTheNamedSlots) {
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(R("SADD", absl::StrCat("{d}", i), "m1", "m2"), Int(2));
  }
  EXPECT_EQ(R("SET", "{e}1", "v"), Ok());
  const int sd = SlotOf("d"), se = SlotOf("e");
  EXPECT_EQ(R("SLOTSDEL", absl::StrCat(sd), "7"),
            Arr({Pair(sd, 0), Pair(7, 0)}));
  EXPECT_EQ(R("DBSIZE"), Int(1));
  EXPECT_EQ(R("GET", "{e}1"), Str("v"));
  EXPECT_EQ(R("SLOTSINFO"), Arr({Pair(se, 1)}));
  EXPECT_EQ(R("SLOTSDEL", "1024"), Err("ERR invalid slot number"));
  EXPECT_EQ(R("SLOTSCHECK"), Ok());
}

TEST_P(SlotsTest, CheckPassesOnAllTypesAndDatabases) {
  EXPECT_EQ(R("SLOTSCHECK"), Ok());
  EXPECT_EQ(R("SET", "s", "v", "EX", "100"), Ok());
  EXPECT_EQ(R("HSET", "h", "f", "v"), Int(1));
  EXPECT_EQ(R("RPUSH", "l", "a", "b"), Int(2));
  EXPECT_EQ(R("ZADD", "z", "1", "m"), Int(1));
  ctx_.db = 3;
  EXPECT_EQ(R("SADD", "s", "m"), Int(1));
  EXPECT_EQ(R("SLOTSCHECK"), Ok());
}

TEST_P(SlotsTest, RestoreIsAtomicReplacesAndKeepsTtls) {
  EXPECT_EQ(R("SET", "s", "hello"), Ok());
  EXPECT_EQ(R("HSET", "h", "f1", "v1", "f2", "v2"), Int(2));
  EXPECT_EQ(R("SADD", "set", "a", "b", "c"), Int(3));
  const std::string ps = R("DUMP", "s").str;
  const std::string ph = R("DUMP", "h").str;
  const std::string pset = R("DUMP", "set").str;
  ctx_.db = 2;
  EXPECT_EQ(R("SET", "h", "old"), Ok());  // replaced, type changes
  EXPECT_EQ(R("SLOTSRESTORE", "s", "0", ps, "h", "50000", ph, "set", "0", pset),
            Ok());
  EXPECT_EQ(R("GET", "s"), Str("hello"));
  EXPECT_EQ(R("HGET", "h", "f2"), Str("v2"));
  EXPECT_EQ(R("SCARD", "set"), Int(3));
  EXPECT_EQ(R("PTTL", "s"), Int(-1));
  const int64_t pttl = R("PTTL", "h").integer;
  EXPECT_GT(pttl, 49000);
  EXPECT_LE(pttl, 50000);
  // A key named twice takes its last payload.
  EXPECT_EQ(R("SLOTSRESTORE", "x", "0", ps, "x", "0", pset), Ok());
  EXPECT_EQ(R("TYPE", "x"), Reply::Status("set"));
  // One bad payload: nothing is written.
  EXPECT_EQ(R("SLOTSRESTORE", "new1", "0", ps, "new2", "0", "garbage"),
            Err("ERR DUMP payload version or checksum are wrong"));
  EXPECT_EQ(R("EXISTS", "new1", "new2"), Int(0));
  EXPECT_EQ(R("SLOTSRESTORE", "k", "-5", ps),
            Err("ERR invalid ttl value, must be >= 0"));
  EXPECT_EQ(R("SLOTSRESTORE", "k", "0", ps, "k2"),
            Err("ERR wrong number of arguments for 'slotsrestore' command"));
  EXPECT_EQ(R("SLOTSRESTORE", "k", "x", ps),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(R("SLOTSCHECK"), Ok());
}

TEST_P(SlotsTest, MoveToAnUnreachableTargetKeepsTheKey) {
  EXPECT_EQ(R("SET", "k", "v"), Ok());
  Reply r = R("SLOTSMGRTONE", "127.0.0.1", "1", "200", "k");
  EXPECT_TRUE(r.is_error()) << ::testing::PrintToString(r);
  EXPECT_EQ(R("GET", "k"), Str("v"));
  r = R("SLOTSMGRTTAGSLOT", "127.0.0.1", "1", "200", absl::StrCat(SlotOf("k")));
  EXPECT_TRUE(r.is_error());
  EXPECT_EQ(R("GET", "k"), Str("v"));
  // Nothing to move needs no target.
  EXPECT_EQ(R("SLOTSMGRTONE", "127.0.0.1", "1", "200", "nokey"), Int(0));
  EXPECT_EQ(R("SLOTSMGRTSLOT", "127.0.0.1", "1", "200", "5"), Pair(0, 0));
  EXPECT_EQ(R("SLOTSMGRTONE", "127.0.0.1", "0", "200", "k"),
            Err("ERR invalid port"));
}

TEST_P(SlotsTest, ChunkedRestoreStaysInvisibleUntilCommit) {
  // Parts are DUMP payloads of pieces of the value.
  EXPECT_EQ(R("HSET", "p1", "a", "1", "b", "2"), Int(2));
  EXPECT_EQ(R("HSET", "p2", "c", "3"), Int(1));
  const std::string d1 = R("DUMP", "p1").str, d2 = R("DUMP", "p2").str;
  EXPECT_EQ(R("SET", "h", "old"), Ok());
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "BEGIN", "h", "t1", "hash"), Ok());
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "ADD", "h", "t1", d1), Int(2));
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "ADD", "h", "t1", d2), Int(3));
  // Staged, not live: the old value is still what every command sees.
  EXPECT_EQ(R("GET", "h"), Str("old"));
  EXPECT_EQ(R("DBSIZE"), Int(3));
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "ADD", "h", "other", d1).is_error(), true);
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "COMMIT", "h", "t1", "0", "4"),
            Err("ERR slotsrestore-chunk: staged 3 of 4"));
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "COMMIT", "h", "t1", "60000", "3"), Ok());
  EXPECT_EQ(R("HGET", "h", "c"), Str("3"));
  EXPECT_EQ(R("HLEN", "h"), Int(3));
  EXPECT_GT(R("PTTL", "h").integer, 50000);
  // Committed once: the transfer is gone.
  EXPECT_TRUE(
      R("SLOTSRESTORE-CHUNK", "COMMIT", "h", "t1", "0", "3").is_error());
  EXPECT_EQ(R("SLOTSCHECK"), Ok());
}

TEST_P(SlotsTest, ChunkedRestoreAbortAndRestartDropTheStaging) {
  EXPECT_EQ(R("RPUSH", "p", "x", "y"), Int(2));
  const std::string part = R("DUMP", "p").str;
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "BEGIN", "l", "t1", "list"), Ok());
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "ADD", "l", "t1", part), Int(2));
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "ABORT", "l", "t1"), Ok());
  EXPECT_EQ(R("EXISTS", "l"), Int(0));
  EXPECT_TRUE(R("SLOTSRESTORE-CHUNK", "ADD", "l", "t1", part).is_error());
  // A new transfer of the key replaces an unfinished one.
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "BEGIN", "l", "t2", "list"), Ok());
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "ADD", "l", "t2", part), Int(2));
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "BEGIN", "l", "t3", "list"), Ok());
  EXPECT_TRUE(R("SLOTSRESTORE-CHUNK", "ADD", "l", "t2", part).is_error());
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "ADD", "l", "t3", part), Int(2));
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "ADD", "l", "t3", part), Int(4));
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "COMMIT", "l", "t3", "0", "0"), Ok());
  EXPECT_EQ(R("LRANGE", "l", "0", "-1"),
            Arr({Str("x"), Str("y"), Str("x"), Str("y")}));
  // Strings are staged by chunks of bytes.
  EXPECT_EQ(R("SET", "s1", "hello "), Ok());
  EXPECT_EQ(R("SET", "s2", "world"), Ok());
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "BEGIN", "s", "t", "string"), Ok());
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "ADD", "s", "t", R("DUMP", "s1").str),
            Int(1));
  EXPECT_TRUE(R("SLOTSRESTORE-CHUNK", "ADD", "s", "t", part).is_error());
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "ADD", "s", "t", R("DUMP", "s2").str),
            Int(2));
  EXPECT_EQ(R("SLOTSRESTORE-CHUNK", "COMMIT", "s", "t", "0", "11"), Ok());
  EXPECT_EQ(R("GET", "s"), Str("hello world"));
  EXPECT_TRUE(R("SLOTSRESTORE-CHUNK", "BEGIN", "s", "t", "nosuch").is_error());
  EXPECT_TRUE(R("SLOTSRESTORE-CHUNK", "NOPE", "s", "t").is_error());
}

REBORN_ALL_ENGINES(SlotsTest);

}  // namespace
}  // namespace reborn
