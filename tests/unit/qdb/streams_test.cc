// The stream type: id parsing, the state encoding, the node emulation, and
// the commands through QdbEngine::Execute on every backend.
#include "qdb/types/streams.h"

#include "absl/strings/str_cat.h"
#include "engine_fixture.h"
#include "qdb/engine_access.h"

namespace reborn {
namespace {

using qdb::ParseStreamId;
using qdb::StreamId;
using V = std::vector<std::string>;

TEST(StreamIdTest, ParsesRedisForms) {
  StreamId id;
  bool seq_given = false;
  ASSERT_TRUE(ParseStreamId("5-3", &id, 0, true));
  EXPECT_EQ(id, (StreamId{5, 3}));
  ASSERT_TRUE(ParseStreamId("7", &id, 9, true));
  EXPECT_EQ(id, (StreamId{7, 9}));  // missing seq
  ASSERT_TRUE(ParseStreamId("-", &id, 0, false));
  EXPECT_EQ(id, (StreamId{}));
  ASSERT_TRUE(ParseStreamId("+", &id, 0, false));
  EXPECT_EQ(id, StreamId::Max());
  EXPECT_FALSE(ParseStreamId("-", &id, 0, true));  // strict
  EXPECT_FALSE(ParseStreamId("+", &id, 0, true));
  ASSERT_TRUE(
      ParseStreamId("18446744073709551615-18446744073709551615", &id, 0, true));
  EXPECT_EQ(id, StreamId::Max());
  ASSERT_TRUE(ParseStreamId("4-*", &id, 0, true, &seq_given));
  EXPECT_FALSE(seq_given);
  EXPECT_EQ(id.ms, 4u);
  ASSERT_TRUE(ParseStreamId("4-1", &id, 0, true, &seq_given));
  EXPECT_TRUE(seq_given);
  // "ms-*" only where XADD allows it.
  EXPECT_FALSE(ParseStreamId("4-*", &id, 0, true));
  for (const char* bad :
       {"", "abc", "1-", "-1", "1-x", "1--1", "+1", "01x", " 1",
        "18446744073709551616", "1-18446744073709551616", "*", "1-2-3"}) {
    EXPECT_FALSE(ParseStreamId(bad, &id, 0, false)) << bad;
  }
  EXPECT_FALSE(ParseStreamId(std::string(128, '1'), &id, 0, false));
}

TEST(StreamIdTest, IncrDecrAndOrder) {
  StreamId id{1, UINT64_MAX};
  ASSERT_TRUE(id.Incr());
  EXPECT_EQ(id, (StreamId{2, 0}));
  ASSERT_TRUE(id.Decr());
  EXPECT_EQ(id, (StreamId{1, UINT64_MAX}));
  StreamId max = StreamId::Max();
  EXPECT_FALSE(max.Incr());
  StreamId zero;
  EXPECT_FALSE(zero.Decr());
  EXPECT_LT((StreamId{1, 9}), (StreamId{2, 0}));
  EXPECT_EQ((StreamId{12, 34}).ToString(), "12-34");
  // Member keys sort as ids do (big-endian).
  EXPECT_LT(qdb::Streams::EntryMember({1, 9}),
            qdb::Streams::EntryMember({2, 0}));
  EXPECT_LT(qdb::Streams::EntryMember({255, 0}),
            qdb::Streams::EntryMember({256, 0}));
}

TEST(StreamStateTest, EncodingRoundTripsAndRejectsShortInput) {
  qdb::StreamState st;
  st.last_id = {10, 2};
  st.first_id = {3, 0};
  st.max_deleted_id = {5, 1};
  st.entries_added = 42;
  st.tail_node = 3;
  st.tail_total = 7;
  st.tail_live = 6;
  st.tail_bytes = 321;
  st.tail_master = {8, 0};
  st.tail_fields_hash = 99;
  qdb::StreamGroup g;
  g.name = "grp";
  g.last_id = {9, 9};
  g.entries_read = -1;
  g.pel_count = 2;
  g.consumers.push_back({"alice", 1234, 2});
  st.groups.push_back(g);
  const std::string enc = qdb::EncodeStreamState(st);
  qdb::StreamState out;
  ASSERT_TRUE(qdb::DecodeStreamState(enc, &out).ok());
  EXPECT_EQ(out.last_id, st.last_id);
  EXPECT_EQ(out.first_id, st.first_id);
  EXPECT_EQ(out.max_deleted_id, st.max_deleted_id);
  EXPECT_EQ(out.entries_added, 42u);
  EXPECT_EQ(out.tail_master, st.tail_master);
  ASSERT_EQ(out.groups.size(), 1u);
  EXPECT_EQ(out.groups[0].name, "grp");
  EXPECT_EQ(out.groups[0].entries_read, -1);
  ASSERT_EQ(out.groups[0].consumers.size(), 1u);
  EXPECT_EQ(out.groups[0].consumers[0].name, "alice");
  EXPECT_EQ(out.groups[0].consumers[0].pending, 2u);
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_FALSE(qdb::DecodeStreamState(enc.substr(0, n), &out).ok()) << n;
  }
  // The metadata record keeps the state after version and size.
  qdb::Metadata meta;
  meta.type = qdb::DataType::kStream;
  meta.version = 77;
  meta.size = 5;
  meta.value = enc;
  qdb::Metadata back;
  ASSERT_TRUE(qdb::DecodeMetadata(qdb::EncodeMetadata(meta), &back).ok());
  EXPECT_EQ(back.type, qdb::DataType::kStream);
  EXPECT_EQ(back.version, 77u);
  EXPECT_EQ(back.size, 5u);
  EXPECT_EQ(back.value, enc);
  EXPECT_EQ(qdb::TypeName(qdb::DataType::kStream), "stream");
}

TEST(StreamStateTest, RaxNodeCount) {
  EXPECT_EQ(qdb::RaxNodeCount({}), 1u);
  EXPECT_EQ(qdb::RaxNodeCount({{1, 1}}), 2u);
  // Two keys differing in the last byte: a compressed prefix, a branch,
  // two leaves.
  EXPECT_EQ(qdb::RaxNodeCount({{1, 1}, {1, 2}}), 4u);
}

using StreamsTest = EngineTest;

TEST_P(StreamsTest, AddRangeAndIds) {
  EXPECT_EQ(R("XADD", "s", "1-1", "a", "1"), Str("1-1"));
  EXPECT_EQ(R("XADD", "s", "1-*", "b", "2"), Str("1-2"));
  EXPECT_EQ(R("XADD", "s", "3", "c", "3"), Str("3-0"));
  EXPECT_EQ(R("XADD", "s", "2-5", "x", "y"),
            Err("ERR The ID specified in XADD is equal or smaller than the "
                "target stream top item"));
  EXPECT_EQ(R("XADD", "s", "0-0", "x", "y"),
            Err("ERR The ID specified in XADD must be greater than 0-0"));
  EXPECT_EQ(R("XADD", "s", "bad", "x", "y"),
            Err("ERR Invalid stream ID specified as stream command argument"));
  EXPECT_EQ(R("XADD", "s", "5-1", "x"),
            Err("ERR wrong number of arguments for 'xadd' command"));
  EXPECT_EQ(R("XADD", "nos", "NOMKSTREAM", "*", "x", "y"), Nil());
  EXPECT_EQ(R("EXISTS", "nos"), Int(0));
  EXPECT_EQ(R("XLEN", "s"), Int(3));
  EXPECT_EQ(R("TYPE", "s"), Reply::Status("stream"));
  const Reply all = R("XRANGE", "s", "-", "+");
  ASSERT_EQ(all.elements.size(), 3u);
  EXPECT_EQ(all.elements[1].elements[0], Str("1-2"));
  EXPECT_EQ(Strs(all.elements[1].elements[1]), (V{"b", "2"}));
  EXPECT_EQ(R("XRANGE", "s", "(1-1", "(3-0").elements.size(), 1u);
  EXPECT_EQ(R("XREVRANGE", "s", "+", "-", "COUNT", "1").elements[0].elements[0],
            Str("3-0"));
  EXPECT_EQ(R("XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"),
            Err("ERR invalid start ID for the interval"));
  EXPECT_EQ(R("XRANGE", "s", "-", "+", "COUNT", "0"), Nil());
  EXPECT_EQ(R("XRANGE", "nokey", "-", "+"), Arr({}));
  EXPECT_EQ(R("SET", "str", "v"), Ok());
  EXPECT_EQ(R("XADD", "str", "*", "a", "b"), Err(kWrongType));
  EXPECT_EQ(R("XLEN", "str"), Err(kWrongType));
}

TEST_P(StreamsTest, DeleteTrimAndSetId) {
  for (int i = 1; i <= 10; ++i) {
    R("XADD", "s", absl::StrCat(i, "-0"), "f", "v");
  }
  EXPECT_EQ(R("XDEL", "s", "1-0", "2-0", "99-0"), Int(2));
  EXPECT_EQ(R("XDEL", "s", "x"),
            Err("ERR Invalid stream ID specified as stream command argument"));
  EXPECT_EQ(R("XTRIM", "s", "MAXLEN", "5"), Int(3));
  EXPECT_EQ(R("XRANGE", "s", "-", "+").elements[0].elements[0], Str("6-0"));
  EXPECT_EQ(R("XTRIM", "s", "MINID", "8"), Int(2));
  EXPECT_EQ(R("XLEN", "s"), Int(3));
  // ~ removes whole nodes only: with 100 entries a node, nothing here.
  EXPECT_EQ(R("XTRIM", "s", "MAXLEN", "~", "1"), Int(0));
  EXPECT_EQ(R("XTRIM", "s", "MAXLEN", "1", "LIMIT", "1"),
            Err("ERR syntax error, LIMIT cannot be used without the special ~ "
                "option"));
  EXPECT_EQ(R("XSETID", "s", "5-0"),
            Err("ERR The ID specified in XSETID is smaller than the target "
                "stream top item"));
  EXPECT_EQ(
      R("XSETID", "s", "20-0", "ENTRIESADDED", "50", "MAXDELETEDID", "15-0"),
      Ok());
  EXPECT_EQ(R("XSETID", "nokey", "1-0"), Err("ERR no such key"));
  const Reply info = R("XINFO", "STREAM", "s");
  ASSERT_GE(info.elements.size(), 14u);
  EXPECT_EQ(info.elements[7], Str("20-0"));  // last-generated-id
  EXPECT_EQ(info.elements[9], Str("15-0"));  // max-deleted-entry-id
  EXPECT_EQ(info.elements[11], Int(50));     // entries-added
  EXPECT_EQ(info.elements[13], Str("8-0"));  // recorded-first-entry-id
  EXPECT_EQ(R("XADD", "s", "20-0", "f", "v"),
            Err("ERR The ID specified in XADD is equal or smaller than the "
                "target stream top item"));
}

TEST_P(StreamsTest, ApproximateTrimRemovesWholeNodes) {
  ASSERT_TRUE(qdb::CoreOf(*engine_).streams().node_max_entries() == 100);
  qdb::CoreOf(*engine_).streams().SetNodeLimits(10, 4096);
  for (int i = 1; i <= 35; ++i) {
    R("XADD", "s", absl::StrCat(i, "-0"), "f", "v");
  }
  // Nodes of 10: removing down to >= 12 entries drops two nodes.
  EXPECT_EQ(R("XTRIM", "s", "MAXLEN", "~", "12"), Int(20));
  EXPECT_EQ(R("XLEN", "s"), Int(15));
  EXPECT_EQ(R("XADD", "s", "MAXLEN", "~", "5", "36-0", "f", "v"), Str("36-0"));
  EXPECT_EQ(R("XLEN", "s"), Int(6));
  EXPECT_EQ(R("XINFO", "STREAM", "s").elements[3], Int(1));  // nodes
}

TEST_P(StreamsTest, GroupsPendingAndClaim) {
  R("XADD", "s", "1-0", "a", "1");
  R("XADD", "s", "2-0", "b", "2");
  R("XADD", "s", "3-0", "c", "3");
  EXPECT_EQ(R("XGROUP", "CREATE", "s", "g", "0"), Ok());
  EXPECT_EQ(R("XGROUP", "CREATE", "s", "g", "0"),
            Err("BUSYGROUP Consumer Group name already exists"));
  EXPECT_EQ(R("XGROUP", "CREATE", "nokey", "g", "$"),
            Err("ERR The XGROUP subcommand requires the key to exist. Note "
                "that for CREATE you may want to use the MKSTREAM option to "
                "create an empty stream automatically."));
  const Reply read =
      R("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">");
  ASSERT_EQ(read.elements.size(), 1u);
  EXPECT_EQ(read.elements[0].elements[1].elements.size(), 2u);
  const Reply summary = R("XPENDING", "s", "g");
  EXPECT_EQ(summary.elements[0], Int(2));
  EXPECT_EQ(summary.elements[1], Str("1-0"));
  EXPECT_EQ(summary.elements[2], Str("2-0"));
  EXPECT_EQ(Strs(summary.elements[3].elements[0]), (V{"alice", "2"}));
  EXPECT_EQ(R("XCLAIM", "s", "g", "bob", "0", "1-0", "JUSTID"),
            Arr({Str("1-0")}));
  const Reply ext = R("XPENDING", "s", "g", "-", "+", "10", "bob");
  ASSERT_EQ(ext.elements.size(), 1u);
  EXPECT_EQ(ext.elements[0].elements[3], Int(1));  // JUSTID: no increment
  EXPECT_EQ(R("XACK", "s", "g", "1-0", "2-0", "2-0"), Int(2));
  EXPECT_EQ(R("XPENDING", "s", "g").elements[0], Int(0));
  // History of a consumer whose entry was deleted: [id, nil].
  R("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", ">");
  R("XDEL", "s", "3-0");
  const Reply history =
      R("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0");
  ASSERT_EQ(history.elements[0].elements[1].elements.size(), 1u);
  EXPECT_EQ(history.elements[0].elements[1].elements[0].elements[1], Nil());
  const Reply autoclaim = R("XAUTOCLAIM", "s", "g", "dave", "0", "0");
  EXPECT_EQ(autoclaim.elements[0], Str("0-0"));
  EXPECT_EQ(Strs(autoclaim.elements[2]), (V{"3-0"}));
  EXPECT_EQ(R("XGROUP", "DELCONSUMER", "s", "g", "alice"), Int(0));
  EXPECT_EQ(R("XGROUP", "DESTROY", "s", "g"), Int(1));
  EXPECT_EQ(R("XPENDING", "s", "g"),
            Err("NOGROUP No such key 's' or consumer group 'g'"));
  EXPECT_EQ(CountMembers("s"), 2);  // the entries; no PEL records left
}

TEST_P(StreamsTest, KeyspaceCommandsCarryTheStream) {
  R("XADD", "s", "1-0", "a", "1");
  R("XGROUP", "CREATE", "s", "g", "0");
  R("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">");
  EXPECT_EQ(R("RENAME", "s", "t"), Ok());
  EXPECT_EQ(R("XLEN", "t"), Int(1));
  EXPECT_EQ(R("XPENDING", "t", "g").elements[0], Int(1));
  EXPECT_EQ(Strs(R("SCAN", "0", "TYPE", "stream").elements[1]), (V{"t"}));
  EXPECT_EQ(R("EXPIRE", "t", "100"), Int(1));
  EXPECT_EQ(R("DEL", "t"), Int(1));
  EXPECT_EQ(R("XLEN", "t"), Int(0));
  R("XADD", "u", "1-0", "a", "1");
  EXPECT_EQ(R("FLUSHDB"), Ok());
  EXPECT_EQ(R("DBSIZE"), Int(0));
}

REBORN_ALL_ENGINES(StreamsTest);

}  // namespace
}  // namespace reborn
