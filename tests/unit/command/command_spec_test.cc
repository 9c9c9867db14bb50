#include "command/command_spec.h"

#include <gtest/gtest.h>

#include <set>

namespace reborn {
namespace {

using Args = std::vector<std::string>;

TEST(CommandSpecTest, LookupIsCaseInsensitive) {
  const CommandSpec* spec = FindCommandSpec("GeT");
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec->name, "get");
  EXPECT_EQ(spec->arity, 2);
  EXPECT_TRUE(spec->has(kCmdReadOnly));
  EXPECT_EQ(FindCommandSpec("nosuchcommand"), nullptr);
  EXPECT_EQ(FindCommandSpec(std::string(100, 'x')), nullptr);
}

TEST(CommandSpecTest, KeyPositionsForRangesAndSteps) {
  EXPECT_EQ(
      KeyPositions(*FindCommandSpec("mset"), Args{"mset", "a", "1", "b", "2"}),
      (KeyPositionList{1, 3}));
  EXPECT_EQ(
      KeyPositions(*FindCommandSpec("blpop"), Args{"blpop", "a", "b", "0"}),
      (KeyPositionList{1, 2}));
  EXPECT_EQ(KeyPositions(*FindCommandSpec("ping"), Args{"ping"}),
            (KeyPositionList{}));
}

TEST(CommandSpecTest, KeyPositionsForNumkeysCommands) {
  EXPECT_EQ(KeyPositions(
                *FindCommandSpec("zunionstore"),
                Args{"zunionstore", "dst", "2", "a", "b", "WEIGHTS", "1", "2"}),
            (KeyPositionList{1, 3, 4}));
  EXPECT_EQ(KeyPositions(*FindCommandSpec("blmpop"),
                         Args{"blmpop", "0", "2", "a", "b", "LEFT"}),
            (KeyPositionList{3, 4}));
  // A malformed numkeys yields no keys rather than garbage.
  EXPECT_EQ(KeyPositions(*FindCommandSpec("lmpop"), Args{"lmpop", "x", "a"}),
            (KeyPositionList{}));
}

TEST(CommandSpecTest, KeyPositionsOfGeoradiusIncludeTheLastStoreKey) {
  EXPECT_EQ(KeyPositions(*FindCommandSpec("georadius"),
                         Args{"georadius", "src", "1", "2", "3", "km"}),
            (KeyPositionList{1}));
  EXPECT_EQ(KeyPositions(*FindCommandSpec("georadius"),
                         Args{"georadius", "src", "1", "2", "3", "km", "STORE",
                              "a", "storedist", "b"}),
            (KeyPositionList{1, 9}));
  EXPECT_EQ(KeyPositions(*FindCommandSpec("georadiusbymember"),
                         Args{"georadiusbymember", "src", "m", "3", "km",
                              "store", "dst"}),
            (KeyPositionList{1, 6}));
  // A trailing STORE without a key names none.
  EXPECT_EQ(
      KeyPositions(*FindCommandSpec("georadius"),
                   Args{"georadius", "src", "1", "2", "3", "km", "store"}),
      (KeyPositionList{1}));
  EXPECT_EQ(KeyPositions(*FindCommandSpec("geosearchstore"),
                         Args{"geosearchstore", "dst", "src", "frommember", "m",
                              "byradius", "1", "km"}),
            (KeyPositionList{1, 2}));
}

TEST(CommandSpecTest, KeyPositionsOfXreadAreTheStreams) {
  EXPECT_EQ(KeyPositions(*FindCommandSpec("xread"),
                         Args{"xread", "COUNT", "2", "BLOCK", "0", "STREAMS",
                              "a", "b", "$", "0"}),
            (KeyPositionList{6, 7}));
  // A group or consumer called "streams" is not the keyword.
  EXPECT_EQ(KeyPositions(*FindCommandSpec("xreadgroup"),
                         Args{"xreadgroup", "GROUP", "streams", "streams",
                              "NOACK", "STREAMS", "k", ">"}),
            (KeyPositionList{6}));
  EXPECT_EQ(KeyPositions(*FindCommandSpec("xread"),
                         Args{"xread", "BOGUS", "STREAMS", "k", "0"}),
            (KeyPositionList{}));
}

TEST(CommandSpecTest, EveryNameIsLowerCaseAndUnique) {
  std::set<std::string_view> seen;
  for (const auto& spec : AllCommandSpecs()) {
    EXPECT_EQ(ToLower(spec.name), spec.name);
    EXPECT_TRUE(seen.insert(spec.name).second) << spec.name;
  }
}

TEST(CommandSpecTest, ClusterSubcommandsHaveTheirOwnSpecs) {
  const CommandSpec* cluster = FindCommandSpec("CLUSTER");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->arity, -2);
  EXPECT_TRUE(FlagNames(cluster->flags).empty());  // as Redis' container
  EXPECT_EQ(SubcommandSpecs("cluster").size(), 27u);
  EXPECT_TRUE(SubcommandSpecs("get").empty());

  const CommandSpec* reset =
      FindSubcommandSpec(*cluster, Args{"cluster", "ReSeT", "hard"});
  ASSERT_NE(reset, nullptr);
  EXPECT_EQ(reset->name, "cluster|reset");
  EXPECT_EQ(reset->arity, -2);
  EXPECT_TRUE(reset->has(kCmdNoScript));
  EXPECT_EQ(FlagNames(reset->flags),
            (std::vector<std::string_view>{"admin", "noscript", "stale"}));
  const CommandSpec* addslots =
      FindSubcommandSpec(*cluster, Args{"cluster", "addslots", "1"});
  ASSERT_NE(addslots, nullptr);
  EXPECT_EQ(
      FlagNames(addslots->flags),
      (std::vector<std::string_view>{"admin", "stale", "no_async_loading"}));
  const CommandSpec* info =
      FindSubcommandSpec(*cluster, Args{"cluster", "info"});
  ASSERT_NE(info, nullptr);
  EXPECT_FALSE(info->has(kCmdNoScript));
  EXPECT_FALSE(info->ArityOk(3));

  EXPECT_EQ(FindSubcommandSpec(*cluster, Args{"cluster", "nosuch"}), nullptr);
  EXPECT_EQ(FindSubcommandSpec(*cluster, Args{"cluster"}), nullptr);
  EXPECT_EQ(FindSubcommandSpec(*FindCommandSpec("config"),
                               Args{"config", "get", "x"}),
            nullptr);
  // CLIENT LIST's cmd= names every subcommand.
  EXPECT_STREQ(
      QualifiedCommandName(*cluster, Args{"cluster", "SET-CONFIG-EPOCH", "1"}),
      "cluster|set-config-epoch");
}

}  // namespace
}  // namespace reborn
