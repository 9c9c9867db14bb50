#include "util/glob.h"

#include <gtest/gtest.h>

namespace reborn {
namespace {

TEST(GlobTest, MatchesLikeRedis) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "abc"));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h*llo", "heeeello"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("h\\*llo", "h*llo"));
  EXPECT_FALSE(GlobMatch("h\\*llo", "hello"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXXbYY"));
  EXPECT_TRUE(GlobMatch("MAX*", "maxclients", true));
  EXPECT_FALSE(GlobMatch("MAX*", "maxclients", false));
  EXPECT_FALSE(GlobMatch("[abc", "a"));
}

TEST(GlobTest, ManyStarsDoNotBlowUp) {
  std::string pattern(200, '*');
  pattern += "x";
  EXPECT_FALSE(GlobMatch(pattern, std::string(500, 'a')));
  EXPECT_TRUE(GlobMatch("*a*a*a*a*a*a*b", std::string(20, 'a') + "b"));
}

// Redis' "Regression for pattern matching long nested loops": without the
// cut of longer matches these take exponential time.
TEST(GlobTest, NestedStarsThatFailEndQuickly) {
  std::string pattern;
  for (int i = 0; i < 20; ++i) pattern += "a*";
  pattern += "b";
  EXPECT_FALSE(GlobMatch(pattern, std::string(40, 'a')));
  std::string long_pattern;
  for (int i = 0; i < 50000; ++i) long_pattern += "*?";
  EXPECT_FALSE(GlobMatch(long_pattern, std::string(50000, 'a')));
  EXPECT_TRUE(GlobMatch("*a*b*c", "xxaxxbxxc"));
  EXPECT_FALSE(GlobMatch("*a*b*c", "xxaxxcxxb"));
  EXPECT_TRUE(GlobMatch("a*?b", "axxb"));
}

}  // namespace
}  // namespace reborn
