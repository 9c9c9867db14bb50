#include "proxy/pubsub_links.h"

#include <gtest/gtest.h>

#include "proxy/script_cache.h"
#include "scripting/sha1.h"

namespace reborn::proxy {
namespace {

TEST(PubSubLinksTest, KeyspacePatternsAreThoseThatCanMatchTheEventChannels) {
  auto may = [](std::string_view p) {
    return PubSubLinks::IsKeyspaceName(PubSubLinks::kPattern, p);
  };
  EXPECT_TRUE(may("*"));
  EXPECT_TRUE(may("__keyspace@0__:*"));
  EXPECT_TRUE(may("__keyevent@*"));
  EXPECT_TRUE(may("__key*"));
  EXPECT_TRUE(may("__key?pace@0__:foo"));
  EXPECT_TRUE(may("__key[a-z]vent@0__:set"));
  EXPECT_TRUE(may("\\_\\_keyspace@0__:k"));
  EXPECT_FALSE(may("news.*"));
  EXPECT_FALSE(may("__key[^se]*"));
  EXPECT_FALSE(may("__keys"));       // ends before the prefix does
  EXPECT_FALSE(may("_?keyspaces"));  // "?" takes "_", then "s" != "@"
  EXPECT_TRUE(
      PubSubLinks::IsKeyspaceName(PubSubLinks::kChannel, "__keyevent@0__:del"));
  EXPECT_FALSE(PubSubLinks::IsKeyspaceName(PubSubLinks::kChannel, "news"));
  EXPECT_FALSE(
      PubSubLinks::IsKeyspaceName(PubSubLinks::kShard, "__keyevent@0__:del"));
}

TEST(ScriptCacheTest, BoundedOldestFirstAndCaseInsensitive) {
  ScriptCache cache(10);
  cache.Remember("return 1");  // 8 bytes
  EXPECT_EQ(cache.Body(scripting::Sha1Hex("return 1")), "return 1");
  std::string upper = scripting::Sha1Hex("return 1");
  for (char& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_EQ(cache.Body(upper), "return 1");
  cache.Remember("return 22");  // 9 bytes: the first goes
  EXPECT_FALSE(cache.Body(scripting::Sha1Hex("return 1")).has_value());
  EXPECT_EQ(cache.Body(scripting::Sha1Hex("return 22")), "return 22");
  cache.Remember("return 333333");  // larger than the budget: not kept
  EXPECT_FALSE(cache.Body(scripting::Sha1Hex("return 333333")).has_value());
  EXPECT_EQ(cache.bytes(), 9u);
  cache.Clear();
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_FALSE(ScriptCache(0).enabled());
}

TEST(ScriptCacheTest, LibrariesByTheirName) {
  EXPECT_EQ(ScriptCache::LibraryName("#!lua name=mylib\nredis..."), "mylib");
  EXPECT_EQ(ScriptCache::LibraryName("#!lua  name=x other=y"), "x");
  EXPECT_EQ(ScriptCache::LibraryName("return 1"), "");
  ScriptCache cache(1000);
  cache.RememberLibrary("#!lua name=a\nv1");
  cache.RememberLibrary("#!lua name=a\nv2");  // replaces
  cache.RememberLibrary("#!lua name=b\nx");
  cache.RememberLibrary("no name");
  std::vector<std::string> libs = cache.Libraries();
  std::sort(libs.begin(), libs.end());
  EXPECT_EQ(libs,
            (std::vector<std::string>{"#!lua name=a\nv2", "#!lua name=b\nx"}));
  cache.ForgetLibrary("a");
  EXPECT_EQ(cache.Libraries().size(), 1u);
  cache.ClearLibraries();
  EXPECT_TRUE(cache.Libraries().empty());
}

}  // namespace
}  // namespace reborn::proxy
