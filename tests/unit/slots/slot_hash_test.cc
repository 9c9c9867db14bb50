#include <gtest/gtest.h>

#include "reborn/slot.h"

namespace reborn {
namespace {

TEST(HashTagTest, UsesTextBetweenFirstBraces) {
  EXPECT_EQ(HashTag("{user1000}.following"), "user1000");
  EXPECT_EQ(HashTag("a{b}{c}"), "b");
  EXPECT_EQ(HashTag("a{b{c}d"), "b{c");
}

TEST(HashTagTest, EmptyOrUnclosedTagMeansWholeKey) {
  EXPECT_EQ(HashTag("a{}b"), "a{}b");
  EXPECT_EQ(HashTag("a{b"), "a{b");
  EXPECT_EQ(HashTag("plain"), "plain");
  EXPECT_EQ(HashTag(""), "");
}

TEST(SlotOfTest, IsZlibCrc32Mod1024) {
  // Values from Python's zlib.crc32(key) % 1024.
  EXPECT_EQ(SlotOf("foo"), 289);
  EXPECT_EQ(SlotOf("bar"), 170);
  EXPECT_EQ(SlotOf("user1000"), 870);
  EXPECT_EQ(SlotOf("{user1000}.following"), 870);
  EXPECT_EQ(SlotOf("a{}b"), 772);
  EXPECT_EQ(SlotOf("{}"), 835);
  EXPECT_EQ(SlotOf(""), 0);
}

TEST(SlotOfTest, KeysWithSameTagShareASlot) {
  EXPECT_EQ(SlotOf("{tag}a"), SlotOf("{tag}bbbbbb"));
  EXPECT_LT(SlotOf("anything"), kSlotCount);
}

}  // namespace
}  // namespace reborn
