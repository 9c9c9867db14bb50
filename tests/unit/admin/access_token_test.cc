#include "admin/access_token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

namespace reborn::admin {
namespace {

std::string TempPath(const char* name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" +
         std::to_string(::getpid());
}

TEST(AccessTokenTest, GeneratedTokensAre32HexCharsAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = GenerateToken();
    ASSERT_EQ(t.size(), 32u);
    EXPECT_EQ(t.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(AccessTokenTest, TokenEqualsComparesWholeStrings) {
  EXPECT_TRUE(TokenEquals("abc", "abc"));
  EXPECT_FALSE(TokenEquals("abc", "abd"));
  EXPECT_FALSE(TokenEquals("abc", "ab"));
  EXPECT_FALSE(TokenEquals("ab", "abc"));
  EXPECT_FALSE(TokenEquals("", "a"));
  EXPECT_TRUE(TokenEquals("", ""));
  EXPECT_FALSE(TokenEquals(std::string("a\0b", 3), "a"));
}

TEST(AccessTokenTest, BearerMatchesOnlyTheToken) {
  EXPECT_TRUE(BearerMatches("Bearer s3cret", "s3cret"));
  EXPECT_TRUE(BearerMatches("bearer s3cret", "s3cret"));
  EXPECT_TRUE(BearerMatches("Bearer  s3cret ", "s3cret"));
  EXPECT_FALSE(BearerMatches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(BearerMatches("Bearer s3cretx", "s3cret"));
  EXPECT_FALSE(BearerMatches("Basic s3cret", "s3cret"));
  EXPECT_FALSE(BearerMatches("s3cret", "s3cret"));
  EXPECT_FALSE(BearerMatches("", "s3cret"));
  // No token configured never matches (an empty bearer is no credential).
  EXPECT_FALSE(BearerMatches("Bearer ", ""));
}

TEST(AccessTokenTest, LoopbackHosts) {
  for (const char* h :
       {"127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackHost(h)) << h;
  }
  for (const char* h :
       {"0.0.0.0", "::", "[::]", "10.0.0.1", "128.0.0.1", "example.com", "",
        "localhost.evil.com", "127.0.0.1.evil.com"}) {
    EXPECT_FALSE(IsLoopbackHost(h)) << h;
  }
}

TEST(AccessTokenTest, TokenFileIsCreatedOwnerOnlyThenReadBack) {
  std::string path = TempPath("token");
  ::unlink(path.c_str());
  bool created = false;
  auto token = LoadOrCreateTokenFile(path, &created);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_TRUE(created);
  EXPECT_EQ(token->size(), 32u);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = LoadOrCreateTokenFile(path, &created);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(created);
  EXPECT_EQ(*again, *token);
  ::unlink(path.c_str());
}

TEST(AccessTokenTest, TokenFileThroughASymlinkIsReadNotCreated) {
  std::string target = TempPath("token-target");
  std::string link = TempPath("token-link");
  ::unlink(target.c_str());
  ::unlink(link.c_str());
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  bool created = false;
  // A dangling symlink: no file is created through it.
  EXPECT_FALSE(LoadOrCreateTokenFile(link, &created).ok());
  EXPECT_NE(::access(target.c_str(), F_OK), 0);
  { std::ofstream(target) << "secret\n"; }
  ASSERT_EQ(::chmod(target.c_str(), 0400), 0);
  auto token = LoadOrCreateTokenFile(link, &created);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_FALSE(created);
  EXPECT_EQ(*token, "secret");
  ::unlink(link.c_str());
  ::unlink(target.c_str());
}

TEST(AccessTokenTest, TokenFileReadableByOthersOrEmptyIsRefused) {
  std::string path = TempPath("token-open");
  ::unlink(path.c_str());
  { std::ofstream(path) << "  mytoken\n"; }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  bool created = false;
  auto token = LoadOrCreateTokenFile(path, &created);
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("chmod 600"), std::string::npos);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  token = LoadOrCreateTokenFile(path, &created);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "mytoken");
  { std::ofstream(path) << "\n"; }
  EXPECT_FALSE(LoadOrCreateTokenFile(path, &created).ok());
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace reborn::admin
