// reborn-proxy's flags for the limits and timeouts: Redis' memory units and
// client-output-buffer-limit syntax, bounded defaults, and bad values
// rejected.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reborn/proxy.h"

namespace reborn {
namespace {

absl::StatusOr<ProxyLaunch> Parse(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--backends", "127.0.0.1:6379"};
  args.insert(args.end(), extra.begin(), extra.end());
  return ParseProxyFlags(args);
}

TEST(ProxyFlagsTest, DefaultsAreBounded) {
  auto launch = Parse({});
  ASSERT_TRUE(launch.ok()) << launch.status();
  const ProxyOptions& o = launch->options;
  EXPECT_EQ(o.output_limit_normal.hard, 256ULL << 20);
  EXPECT_EQ(o.output_limit_normal.soft, 64ULL << 20);
  EXPECT_EQ(o.output_limit_normal.soft_time, absl::Seconds(60));
  EXPECT_EQ(o.output_limit_pubsub.hard, 32ULL << 20);
  EXPECT_EQ(o.query_buffer_limit, 1ULL << 30);
  EXPECT_EQ(o.backend_timeout, absl::Seconds(3));
  EXPECT_EQ(launch->session_timeout, absl::Seconds(30));
}

TEST(ProxyFlagsTest, OutputLimitTakesRedisSyntax) {
  auto launch = Parse({"--client-output-buffer-limit", "8mb 2mb 10"});
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_EQ(launch->options.output_limit_normal.hard, 8ULL << 20);
  EXPECT_EQ(launch->options.output_limit_normal.soft, 2ULL << 20);
  EXPECT_EQ(launch->options.output_limit_normal.soft_time, absl::Seconds(10));

  launch =
      Parse({"--client-output-buffer-limit=normal 1gb 0 0 pubsub 1k 1kb 5"});
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_EQ(launch->options.output_limit_normal.hard, 1ULL << 30);
  EXPECT_EQ(launch->options.output_limit_normal.soft, 0u);
  EXPECT_EQ(launch->options.output_limit_pubsub.hard, 1000u);
  EXPECT_EQ(launch->options.output_limit_pubsub.soft, 1024u);

  for (const char* bad :
       {"8mb 2mb", "8xb 2mb 1", "replica 1 1 1", "1 2 -1", "normal 1 2", ""}) {
    EXPECT_FALSE(Parse({"--client-output-buffer-limit", bad}).ok()) << bad;
  }
}

TEST(ProxyFlagsTest, QueryLimitAndTimeouts) {
  auto launch =
      Parse({"--client-query-buffer-limit", "16mb", "--backend-timeout-ms", "0",
             "--session-timeout-ms", "4000"});
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_EQ(launch->options.query_buffer_limit, 16ULL << 20);
  EXPECT_EQ(launch->options.backend_timeout, absl::ZeroDuration());
  EXPECT_EQ(launch->session_timeout, absl::Seconds(4));
  EXPECT_FALSE(Parse({"--client-query-buffer-limit", "10"}).ok());
  EXPECT_FALSE(Parse({"--client-query-buffer-limit", "lots"}).ok());
  EXPECT_FALSE(Parse({"--backend-timeout-ms", "-1"}).ok());
  EXPECT_FALSE(Parse({"--session-timeout-ms", "10"}).ok());
}

TEST(ProxyFlagsTest, ScriptCacheBytes) {
  auto launch = Parse({});
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_EQ(launch->options.script_cache_bytes, 16ULL << 20);
  launch = Parse({"--script-cache-bytes", "1mb"});
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_EQ(launch->options.script_cache_bytes, 1ULL << 20);
  launch = Parse({"--script-cache-bytes", "0"});
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_EQ(launch->options.script_cache_bytes, 0u);
  EXPECT_FALSE(Parse({"--script-cache-bytes", "many"}).ok());
}

}  // namespace
}  // namespace reborn
