#include <gtest/gtest.h>

#include "reborn/slot.h"

namespace reborn {
namespace {

TEST(SlotHashTest, HashTagRule) {
  EXPECT_EQ(HashTag("foo"), "foo");
  EXPECT_EQ(HashTag("{user}:1"), "user");
  EXPECT_EQ(HashTag("a{b}c{d}"), "b");
  EXPECT_EQ(HashTag("a{}b"), "a{}b");  // empty tag: the whole key
  EXPECT_EQ(HashTag("a{b"), "a{b");
  EXPECT_EQ(HashTag("}{x}"), "x");
}

TEST(SlotHashTest, SlotIsZlibCrc32Mod1024) {
  // Values from Python's zlib.crc32(key) % 1024.
  EXPECT_EQ(SlotOf("foo"), 289);
  EXPECT_EQ(SlotOf("user:1000"), 995);
  EXPECT_EQ(SlotOf("{user}:1"), SlotOf("user"));
  EXPECT_EQ(SlotOf("{user}:1"), 585);
  EXPECT_EQ(SlotOf("a{}b"), 772);
  EXPECT_EQ(SlotOf(""), 0);
}

}  // namespace
}  // namespace reborn
