#include "command/command_table.h"

#include <gtest/gtest.h>

namespace reborn {
namespace {

using Args = std::vector<std::string>;

std::string Execute(const CommandTable& table, Args args) {
  std::string out;
  resp::ReplyWriter writer(&out);
  Session session;
  table.Dispatch(session, args, writer);
  return out;
}

TEST(CommandTableTest, DispatchesAndChecksArity) {
  CommandTable table;
  ASSERT_TRUE(
      table
          .Register("echo",
                    [](CommandContext& ctx) { ctx.reply.Bulk(ctx.args[1]); })
          .ok());
  EXPECT_EQ(Execute(table, {"ECHO", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(Execute(table, {"echo"}),
            "-ERR wrong number of arguments for 'echo' command\r\n");
}

TEST(CommandTableTest, UnknownCommandErrorMatchesRedis) {
  CommandTable table;
  EXPECT_EQ(
      Execute(table, {"foo", "a", "b"}),
      "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
  EXPECT_EQ(Execute(table, {"foo"}),
            "-ERR unknown command 'foo', with args beginning with: \r\n");
  // Known to the spec table but not served here: still unknown.
  EXPECT_EQ(Execute(table, {"get", "k"}),
            "-ERR unknown command 'get', with args beginning with: 'k' \r\n");
}

TEST(CommandTableTest, RegisterRejectsUnknownAndDuplicateNames) {
  CommandTable table;
  EXPECT_FALSE(table.Register("nosuch", [](CommandContext&) {}).ok());
  EXPECT_TRUE(table.Register("ping", [](CommandContext&) {}).ok());
  EXPECT_FALSE(table.Register("PING", [](CommandContext&) {}).ok());
}

}  // namespace
}  // namespace reborn
