#include "command/key_finders.h"

#include <gtest/gtest.h>

#include "reborn/slot.h"

namespace reborn {
namespace {

using Args = std::vector<std::string>;

// The positions KeyPositions gives for a spec as a helper adding the command
// would declare it (these commands' own entries may not exist yet: the
// finder is found by name, so any triple they carry is replaced).
KeyPositionList Keys(std::string_view name, const Args& args) {
  CommandSpec spec{name, -2, kCmdMovableKeys, 0, 0, 0};
  return KeyPositions(spec, args);
}

TEST(KeyFindersTest, SortStoreIsAKey) {
  const CommandSpec& sort = *FindCommandSpec("sort");
  EXPECT_EQ(KeyPositions(sort, Args{"sort", "src"}), (KeyPositionList{1}));
  EXPECT_EQ(KeyPositions(sort, Args{"SORT", "src", "STORE", "dst"}),
            (KeyPositionList{1, 3}));
  // The last STORE wins; LIMIT, BY and GET arguments are skipped.
  EXPECT_EQ(KeyPositions(sort, Args{"sort", "src", "store", "a", "LIMIT", "0",
                                    "1", "GET", "store", "STORE", "b"}),
            (KeyPositionList{1, 10}));
  EXPECT_EQ(KeyPositions(sort, Args{"sort", "src", "BY", "store"}),
            (KeyPositionList{1}));
  EXPECT_EQ(KeyPositions(sort, Args{"sort", "src", "STORE"}),
            (KeyPositionList{1}));
  // SORT_RO has no STORE.
  EXPECT_EQ(KeyPositions(*FindCommandSpec("sort_ro"),
                         Args{"sort_ro", "src", "STORE", "dst"}),
            (KeyPositionList{1}));
}

TEST(KeyFindersTest, SortStoreElsewhereIsCrossSlot) {
  const CommandSpec& sort = *FindCommandSpec("sort");
  auto slot = KeysSlot(sort, Args{"sort", "{t}a", "STORE", "{t}b"});
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(*slot, SlotOf("t"));
  ASSERT_NE(SlotOf("a"), SlotOf("b"));
  EXPECT_EQ(KeysSlot(sort, Args{"sort", "a", "STORE", "b"}).status().message(),
            "CROSSSLOT Keys in request don't hash to the same slot");
}

TEST(KeyFindersTest, SortPatternsMustStayInTheKeySlot) {
  const CommandSpec& sort = *FindCommandSpec("sort");
  const std::string by =
      "ERR BY option of SORT denied in Cluster mode when keys formed by the "
      "pattern may be in different slots.";
  const std::string get =
      "ERR GET option of SORT denied in Cluster mode when keys formed by the "
      "pattern may be in different slots.";
  auto error = [&](const Args& args) {
    return std::string(KeysSlot(sort, args).status().message());
  };
  EXPECT_EQ(error({"sort", "l", "BY", "w_*"}), by);
  EXPECT_EQ(error({"sort", "{t}l", "BY", "w_*->{t}"}), by);  // '*' first
  EXPECT_EQ(error({"sort", "{t}l", "BY", "{u}w_*"}), by);
  EXPECT_EQ(error({"sort", "l", "GET", "o_*"}), get);
  EXPECT_EQ(error({"sort", "{t}l", "GET", "#", "GET", "{u}o_*"}), get);
  EXPECT_EQ(error({"sort", "{t}l", "GET", "other"}), get);  // constant key
  EXPECT_EQ(error({"sort_ro", "l", "by", "w_*"}), by);
  // Allowed: the pattern's tag is the key's, GET #, BY without '*'.
  for (const Args& ok : std::vector<Args>{
           {"sort", "{t}l", "BY", "{t}w_*", "GET", "{t}o_*->f", "GET", "#"},
           {"sort", "l", "BY", "nosort", "GET", "#"},
           {"sort", "{t}l", "GET", "{t}x"},
           {"sort", "l", "LIMIT", "x", "1", "BY", "w_*"},  // server's error
           {"sort", "l", "NOSUCHOPTION", "BY", "w_*"}}) {
    EXPECT_TRUE(KeysSlot(sort, ok).ok()) << ok[3];
  }
  EXPECT_EQ(PatternSlot("{t}w_*"), SlotOf("t"));
  EXPECT_EQ(PatternSlot("{}w_*"), -1);
  EXPECT_EQ(PatternSlot("{}x"), SlotOf("{}x"));
  EXPECT_EQ(PatternSlot("a\\{t}"), -1);
}

TEST(KeyFindersTest, Migrate) {
  EXPECT_EQ(Keys("migrate", {"migrate", "h", "1", "k", "0", "5000"}),
            (KeyPositionList{3}));
  EXPECT_EQ(Keys("migrate", {"migrate", "h", "1", "", "0", "5000", "COPY",
                             "AUTH", "keys", "KEYS", "a", "b"}),
            (KeyPositionList{10, 11}));
  EXPECT_EQ(Keys("migrate", {"migrate", "h", "1", "", "0", "5000", "AUTH2", "u",
                             "p", "KEYS", "a"}),
            (KeyPositionList{10}));
  EXPECT_EQ(
      Keys("migrate", {"migrate", "h", "1", "k", "0", "5000", "KEYS", "a"}),
      (KeyPositionList{}));
}

TEST(KeyFindersTest, XreadStreams) {
  EXPECT_EQ(Keys("xread", {"xread", "COUNT", "2", "BLOCK", "0", "STREAMS", "a",
                           "b", "0", "$"}),
            (KeyPositionList{6, 7}));
  EXPECT_EQ(Keys("xreadgroup", {"xreadgroup", "GROUP", "streams", "c", "NOACK",
                                "STREAMS", "streams", ">"}),
            (KeyPositionList{6}));
  EXPECT_EQ(Keys("xread", {"xread", "STREAMS", "a", "b", "0"}),
            (KeyPositionList{}));
  EXPECT_EQ(Keys("xread", {"xread", "BOGUS", "STREAMS", "a", "0"}),
            (KeyPositionList{}));
}

TEST(KeyFindersTest, GeoradiusStore) {
  EXPECT_EQ(
      Keys("georadius", {"georadius", "g", "1", "2", "3", "km", "STORE", "d"}),
      (KeyPositionList{1, 7}));
  EXPECT_EQ(Keys("georadiusbymember", {"georadiusbymember", "g", "m", "3", "km",
                                       "STORE", "d", "STOREDIST", "e"}),
            (KeyPositionList{1, 8}));
  EXPECT_EQ(Keys("georadius", {"georadius", "g", "1", "2", "3", "km"}),
            (KeyPositionList{1}));
}

// The numkeys forms and the fixed positions the issue names.
TEST(KeyFindersTest, NumkeysAndFixedForms) {
  auto keys = [](const Args& args) {
    return KeyPositions(*FindCommandSpec(args[0]), args);
  };
  EXPECT_EQ(keys({"zunion", "2", "a", "b", "WITHSCORES"}),
            (KeyPositionList{2, 3}));
  EXPECT_EQ(keys({"zdiffstore", "d", "2", "a", "b"}),
            (KeyPositionList{1, 3, 4}));
  EXPECT_EQ(keys({"lmpop", "2", "a", "b", "LEFT"}), (KeyPositionList{2, 3}));
  EXPECT_EQ(keys({"bzmpop", "0", "1", "a", "MIN"}), (KeyPositionList{3}));
  EXPECT_EQ(keys({"eval", "return 1", "2", "a", "b", "x"}),
            (KeyPositionList{3, 4}));
  EXPECT_EQ(keys({"fcall", "f", "0", "x"}), (KeyPositionList{}));
  EXPECT_EQ(keys({"object", "ENCODING", "k"}), (KeyPositionList{2}));
  EXPECT_EQ(keys({"object", "HELP"}), (KeyPositionList{}));
  EXPECT_EQ(keys({"memory", "USAGE", "k", "SAMPLES", "5"}),
            (KeyPositionList{2}));
  EXPECT_EQ(keys({"memory", "STATS"}), (KeyPositionList{}));
  // LCS key1 key2 as Redis declares it.
  CommandSpec lcs{"lcs", -3, kCmdReadOnly, 1, 2, 1};
  EXPECT_EQ(KeyPositions(lcs, {"lcs", "a", "b", "LEN"}),
            (KeyPositionList{1, 2}));
}

}  // namespace
}  // namespace reborn
