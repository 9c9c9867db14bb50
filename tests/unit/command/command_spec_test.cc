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

TEST(CommandSpecTest, EveryNameIsLowerCaseAndUnique) {
  std::set<std::string_view> seen;
  for (const auto& spec : AllCommandSpecs()) {
    EXPECT_EQ(ToLower(spec.name), spec.name);
    EXPECT_TRUE(seen.insert(spec.name).second) << spec.name;
  }
}

}  // namespace
}  // namespace reborn
