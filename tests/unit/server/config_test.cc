#include "server/config.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/keyspace_events.h"

namespace reborn::server {
namespace {

using Caller = Config::Caller;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    path_ = (std::filesystem::temp_directory_path() /
             ("qdb-config-test-" + std::to_string(::getpid()) + "-" +
              std::to_string(counter_++) + ".conf"))
                .string();
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(ConfigTest, DbfilenameTakesANameNotAPath) {
  Config config;
  ASSERT_TRUE(
      config.Set("enable-protected-configs", "yes", Caller::kStartup).ok());
  for (const char* bad : {"/etc/passwd", "../x", "a/b", "..", ".", "a\\b"}) {
    absl::Status s = config.Set("dbfilename", bad, Caller::kClient);
    EXPECT_EQ(s.message(), "dbfilename can't be a path, just a filename")
        << bad;
  }
  EXPECT_EQ(config.GetString("dbfilename"), "dump.rdb");
  EXPECT_TRUE(config.Set("dbfilename", "other.rdb", Caller::kClient).ok());
  EXPECT_EQ(config.GetString("dbfilename"), "other.rdb");
  // The config file is held to the same rule.
  Config from_file;
  absl::Status s = from_file.LoadText("dbfilename /tmp/x.rdb\n", "test");
  EXPECT_THAT(std::string(s.message()), HasSubstr("can't be a path"));
}

TEST(ConfigTest, ProtectedConfigsAreReadOnlyToClientsByDefault) {
  Config config;
  absl::Status s = config.Set("dbfilename", "x.rdb", Caller::kClient);
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_EQ(s.message(), "can't set protected config");
  s = config.Set("dbfilename", "x.rdb", Caller::kLocalClient);
  EXPECT_EQ(s.message(), "can't set protected config");
  // Immutable ones say so first, as in Redis.
  for (const char* name : {"dir", "logfile", "pidfile", "rdb-import"}) {
    EXPECT_EQ(config.Set(name, "x", Caller::kClient).message(),
              "can't set immutable config")
        << name;
  }
  EXPECT_TRUE(config.Set("dbfilename", "x.rdb", Caller::kStartup).ok());
}

TEST(ConfigTest, EnableProtectedConfigsLocalAllowsOnlyLoopbackClients) {
  Config config;
  ASSERT_TRUE(
      config.Set("enable-protected-configs", "local", Caller::kStartup).ok());
  EXPECT_FALSE(config.Set("dbfilename", "a.rdb", Caller::kClient).ok());
  EXPECT_TRUE(config.Set("dbfilename", "a.rdb", Caller::kLocalClient).ok());
  // The switch itself is not for clients to flip.
  EXPECT_EQ(config.Set("enable-protected-configs", "yes", Caller::kLocalClient)
                .message(),
            "can't set immutable config");
}

TEST(ConfigTest, FormatConfigValueQuotesWhatSplittingWouldChange) {
  EXPECT_EQ(FormatConfigValue("plain"), "plain");
  EXPECT_EQ(FormatConfigValue(""), "\"\"");
  EXPECT_EQ(FormatConfigValue("a b"), "\"a b\"");
  EXPECT_EQ(FormatConfigValue("pw\nport 1"), "\"pw\\nport 1\"");
  EXPECT_EQ(FormatConfigValue("q\"b\\"), "\"q\\\"b\\\\\"");
  EXPECT_EQ(FormatConfigValue(std::string("n\0l", 3)), "\"n\\x00l\"");
  EXPECT_EQ(FormatConfigValue("'x'"), "\"'x'\"");
  EXPECT_EQ(FormatConfigValue("\xc3\xa9"), "\"\\xc3\\xa9\"");
}

// Every string directive a client can set, with values that would plant
// directives or break the file if written raw, survives REWRITE + reload.
TEST(ConfigTest, RewriteRoundTripsHostileValues) {
  const std::vector<std::string> hostile = {
      "pw\nport 1\nrequirepass x",
      "with space",
      "\"quoted\"",
      "back\\slash",
      std::string("nul\0byte", 8),
      "utf8 \xc3\xa9\xe2\x82\xac",
      "'single'",
      "#comment",
      "tab\there\r\n",
      "",
      "\\x41",
  };
  const std::vector<std::string> names = {"requirepass", "masterauth",
                                          "masteruser", "save"};
  for (const std::string& value : hostile) {
    TempFile file("# a comment kept\nport 7000\n");
    Config config;
    ASSERT_TRUE(config.LoadFile(file.path()).ok());
    for (const std::string& name : names) {
      ASSERT_TRUE(config.Set(name, value, Caller::kClient).ok()) << name;
    }
    ASSERT_TRUE(config.Rewrite().ok());
    const std::string text = ReadFile(file.path());
    EXPECT_THAT(text, HasSubstr("# a comment kept"));
    // One line per directive: nothing planted.
    size_t lines = 0;
    for (char c : text) lines += c == '\n';
    EXPECT_LE(lines, 3 + names.size()) << text;

    Config reloaded;
    absl::Status s = reloaded.LoadFile(file.path());
    ASSERT_TRUE(s.ok()) << s << "\n" << text;
    for (const std::string& name : names) {
      EXPECT_EQ(reloaded.GetString(name), value) << name << "\n" << text;
    }
    EXPECT_EQ(reloaded.GetInt("port"), 7000);
  }
}

TEST(ConfigTest, CommandLineValuesWithNewlinesStayOneValue) {
  Config config;
  absl::Status s =
      config.LoadArgs({"--masterauth", "a\nport 1", "--port", "7001"});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(config.GetString("masterauth"), "a\nport 1");
  EXPECT_EQ(config.GetInt("port"), 7001);
}

TEST(ConfigTest, OutputBufferLimitUsesRedisSyntaxPerClass) {
  Config config;
  EXPECT_EQ(config.GetString("client-output-buffer-limit"),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 "
            "8388608 60");
  ASSERT_TRUE(config
                  .Set("client-output-buffer-limit", "normal 64mb 16mb 10",
                       Caller::kClient)
                  .ok());
  EXPECT_EQ(config.GetString("client-output-buffer-limit"),
            "normal 67108864 16777216 10 slave 268435456 67108864 60 pubsub "
            "33554432 8388608 60");
  ASSERT_TRUE(
      config
          .Set("client-output-buffer-limit", "replica 1gb 0 0", Caller::kClient)
          .ok());
  const OutputBufferLimit normal =
      OutputLimitOf(config.GetString("client-output-buffer-limit"), "normal");
  EXPECT_EQ(normal.hard_bytes, 64 << 20);
  EXPECT_EQ(normal.soft_bytes, 16 << 20);
  EXPECT_EQ(normal.soft_seconds, 10);
  EXPECT_EQ(
      OutputLimitOf(config.GetString("client-output-buffer-limit"), "replica")
          .hard_bytes,
      1LL << 30);
  EXPECT_EQ(
      config.Set("client-output-buffer-limit", "normal 1 2", Caller::kClient)
          .message(),
      "Wrong number of arguments in buffer limit configuration.");
  EXPECT_EQ(
      config.Set("client-output-buffer-limit", "master 1 2 3", Caller::kClient)
          .message(),
      "Invalid client class specified in buffer limit configuration.");
  EXPECT_EQ(
      config.Set("client-output-buffer-limit", "normal x 2 3", Caller::kClient)
          .message(),
      "Error in hard, soft or soft_seconds setting in buffer limit "
      "configuration.");
  // Several lines in a file, one class each, as redis.conf has them.
  Config from_file;
  ASSERT_TRUE(from_file
                  .LoadText("client-output-buffer-limit normal 1mb 0 0\n"
                            "client-output-buffer-limit pubsub 2mb 1mb 5\n",
                            "test")
                  .ok());
  EXPECT_EQ(from_file.GetString("client-output-buffer-limit"),
            "normal 1048576 0 0 slave 268435456 67108864 60 pubsub 2097152 "
            "1048576 5");
}

TEST(ConfigTest, SetManyIsAllOrNothing) {
  Config config;
  int hook_calls = 0;
  config.OnChange("timeout", [&](const std::string& v) {
    ++hook_calls;
    return absl::OkStatus();
  });
  config.OnChange("maxclients", [](const std::string& v) {
    return v == "13" ? absl::InvalidArgumentError("refused by the hook")
                     : absl::OkStatus();
  });
  std::string failed;
  // A bad value: nothing is stored, no hook runs.
  absl::Status s = config.SetMany({{"timeout", "5"}, {"maxclients", "x"}},
                                  Caller::kClient, &failed);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(failed, "maxclients");
  EXPECT_EQ(config.GetInt("timeout"), 0);
  EXPECT_EQ(hook_calls, 0);
  // A hook refuses: the earlier change is rolled back and its hook told.
  s = config.SetMany({{"timeout", "5"}, {"maxclients", "13"}}, Caller::kClient,
                     &failed);
  EXPECT_EQ(s.message(), "refused by the hook");
  EXPECT_EQ(failed, "maxclients");
  EXPECT_EQ(config.GetInt("timeout"), 0);
  EXPECT_EQ(config.GetInt("maxclients"), 10000);
  EXPECT_EQ(hook_calls, 2);  // 5, then 0 again
  s = config.SetMany({{"timeout", "5"}, {"TIMEOUT", "6"}}, Caller::kClient,
                     &failed);
  EXPECT_EQ(s.message(), "duplicate parameter");
  EXPECT_TRUE(config
                  .SetMany({{"timeout", "5"}, {"maxclients", "12"}},
                           Caller::kClient, &failed)
                  .ok());
  EXPECT_EQ(config.GetInt("timeout"), 5);
  EXPECT_EQ(config.GetInt("maxclients"), 12);
}

TEST(ConfigTest, SeveralHooksOfOneDirectiveAllRun) {
  Config config;
  int a = 0;
  int b = 0;
  config.OnChange("hz", [&](const std::string&) {
    ++a;
    return absl::OkStatus();
  });
  config.OnChange("hz", [&](const std::string&) {
    ++b;
    return absl::OkStatus();
  });
  ASSERT_TRUE(config.Set("hz", "20").ok());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
}

TEST(ConfigTest, RedisEncodingParametersHaveRedisDefaults) {
  Config config;
  EXPECT_EQ(config.GetString("hash-max-listpack-entries"), "512");
  EXPECT_EQ(config.GetString("hash-max-listpack-value"), "64");
  EXPECT_EQ(config.GetString("list-max-listpack-size"), "-2");
  EXPECT_EQ(config.GetString("list-compress-depth"), "0");
  EXPECT_EQ(config.GetString("set-max-intset-entries"), "512");
  EXPECT_EQ(config.GetString("zset-max-listpack-entries"), "128");
  EXPECT_EQ(config.GetString("zset-max-listpack-value"), "64");
  EXPECT_EQ(config.GetString("stream-node-max-bytes"), "4096");
  EXPECT_EQ(config.GetString("stream-node-max-entries"), "100");
  EXPECT_EQ(config.GetString("hll-sparse-max-bytes"), "3000");
  EXPECT_EQ(config.GetString("activerehashing"), "yes");
  EXPECT_EQ(config.GetString("lazyfree-lazy-user-del"), "no");
  EXPECT_EQ(config.GetString("slowlog-log-slower-than"), "10000");
  EXPECT_EQ(config.GetString("latency-tracking-info-percentiles"),
            "50 99 99.9");
}

TEST(ConfigTest, ZiplistAliasesSetAndGetTheListpackDirective) {
  Config config;
  ASSERT_TRUE(config.Set("hash-max-ziplist-entries", "16").ok());
  EXPECT_EQ(config.GetInt("hash-max-listpack-entries"), 16);
  ASSERT_TRUE(config.Set("ZSET-MAX-ZIPLIST-VALUE", "1kb").ok());
  EXPECT_EQ(config.GetString("zset-max-listpack-value"), "1024");
  ASSERT_TRUE(config.Set("slave-lazy-flush", "yes").ok());
  EXPECT_EQ(config.GetString("replica-lazy-flush"), "yes");
  EXPECT_TRUE(config.Has("list-max-ziplist-size"));

  // CONFIG GET of an alias answers under the name asked; a pattern finds
  // both names.
  using Pair = std::pair<std::string, std::string>;
  EXPECT_THAT(config.Match("hash-max-ziplist-entries"),
              ::testing::ElementsAre(Pair("hash-max-ziplist-entries", "16")));
  EXPECT_THAT(config.Match("hash-max-*-entries"),
              ::testing::ElementsAre(Pair("hash-max-listpack-entries", "16"),
                                     Pair("hash-max-ziplist-entries", "16")));
}

TEST(ConfigTest, KeyspaceEventsKeepNewBesideAllButShowAsRedis) {
  // Redis shows KEAn as AKE but still publishes "new" events.
  Config config;
  ASSERT_TRUE(config.Set("notify-keyspace-events", "KEAn").ok());
  using Pair = std::pair<std::string, std::string>;
  EXPECT_THAT(config.Match("notify-keyspace-events"),
              ::testing::ElementsAre(Pair("notify-keyspace-events", "AKE")));
  absl::StatusOr<int> flags =
      ParseKeyspaceEvents(config.GetString("notify-keyspace-events"));
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(*flags,
            kNotifyAll | kNotifyKeyspace | kNotifyKeyevent | kNotifyNew);
  ASSERT_TRUE(config.Set("notify-keyspace-events", "En").ok());
  EXPECT_THAT(config.Match("notify-keyspace-events"),
              ::testing::ElementsAre(Pair("notify-keyspace-events", "nE")));
  ASSERT_TRUE(config.Set("notify-keyspace-events", "KA").ok());
  EXPECT_EQ(config.GetString("notify-keyspace-events"), "AK");
}

TEST(ConfigTest, AliasAndNameInOneSetManyAreADuplicate) {
  Config config;
  std::string failed;
  absl::Status s = config.SetMany(
      {{"zset-max-ziplist-entries", "1"}, {"zset-max-listpack-entries", "2"}},
      Caller::kClient, &failed);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(failed, "zset-max-listpack-entries");
  EXPECT_EQ(config.GetString("zset-max-listpack-entries"), "128");
}

TEST(ConfigTest, RedisTuningRangesAreRedis) {
  Config config;
  EXPECT_TRUE(config.Set("list-max-listpack-size", "-5").ok());
  EXPECT_TRUE(config.Set("list-max-ziplist-size", "-2147483648").ok());
  EXPECT_FALSE(config.Set("list-max-ziplist-size", "-2147483649").ok());
  EXPECT_FALSE(config.Set("list-compress-depth", "-1").ok());
  EXPECT_TRUE(config.Set("slowlog-log-slower-than", "-1").ok());
  EXPECT_FALSE(config.Set("slowlog-log-slower-than", "-2").ok());
  EXPECT_FALSE(config.Set("active-expire-effort", "11").ok());
  EXPECT_FALSE(config.Set("set-max-intset-entries", "-1").ok());
  EXPECT_FALSE(config.Set("activerehashing", "maybe").ok());
  EXPECT_TRUE(config.Set("latency-tracking-info-percentiles", "").ok());
  EXPECT_TRUE(config.Set("latency-tracking-info-percentiles", "99.99 1").ok());
  EXPECT_FALSE(config.Set("latency-tracking-info-percentiles", "101").ok());
  EXPECT_FALSE(config.Set("rdbchecksum", "no").ok());  // immutable
  EXPECT_EQ(config.GetString("list-max-listpack-size"), "-2147483648");
}

TEST(ConfigTest, RewriteWritesAnAliasLineUnderTheDirectiveName) {
  TempFile file("hash-max-ziplist-value 128\nport 7000\n");
  Config config;
  ASSERT_TRUE(config.LoadFile(file.path()).ok());
  EXPECT_EQ(config.GetInt("hash-max-listpack-value"), 128);
  ASSERT_TRUE(config.Set("hash-max-ziplist-value", "256").ok());
  ASSERT_TRUE(config.Set("list-compress-depth", "2").ok());
  ASSERT_TRUE(config.Rewrite().ok());
  const std::string text = ReadFile(file.path());
  EXPECT_THAT(text, HasSubstr("hash-max-listpack-value 256\n"));
  EXPECT_THAT(text, HasSubstr("list-compress-depth 2\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("ziplist")));
  Config reloaded;
  ASSERT_TRUE(reloaded.LoadFile(file.path()).ok());
  EXPECT_EQ(reloaded.GetInt("hash-max-ziplist-value"), 256);
}

TEST(ConfigTest, ValueSetToWhatItWasRunsNoHook) {
  Config config;
  int calls = 0;
  config.OnChange("hz", [&](const std::string&) {
    ++calls;
    return absl::OkStatus();
  });
  EXPECT_TRUE(config.Set("hz", "10").ok());
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(config.Set("hz", "11").ok());
  EXPECT_EQ(calls, 1);
}

TEST(ConfigTest, QdbStartTimeDirectivesTakeOnlyTheirCurrentValue) {
  Config config;
  ASSERT_TRUE(config.Set("engine", "memory", Caller::kStartup).ok());
  EXPECT_TRUE(config.Set("engine", "MEMORY").ok());
  EXPECT_EQ(config.Set("engine", "rocksdb").message(),
            "can't set immutable config");
  EXPECT_TRUE(config.Set("write-buffer-size", "8mb").ok());
  EXPECT_FALSE(config.Set("write-buffer-size", "16mb").ok());
  // Redis' immutable directives refuse their current value too.
  EXPECT_EQ(config.Set("daemonize", "no").message(),
            "can't set immutable config");
  EXPECT_EQ(config.Set("databases", "16").message(),
            "can't set immutable config");
}

TEST(ConfigTest, BindTakesUpToSixteenAddresses) {
  Config config;
  EXPECT_TRUE(config.Set("bind", "127.0.0.1   -::1").ok());
  EXPECT_EQ(config.GetString("bind"), "127.0.0.1 -::1");
  std::string many;
  for (int i = 0; i < 17; ++i) many += "127.0.0.1 ";
  EXPECT_EQ(config.Set("bind", many).message(),
            "Too many bind addresses specified.");
  EXPECT_EQ(config.GetString("bind"), "127.0.0.1 -::1");
  EXPECT_TRUE(config.LoadText("bind 127.0.0.1 ::1\n", "test").ok());
  EXPECT_EQ(config.GetString("bind"), "127.0.0.1 ::1");
}

}  // namespace
}  // namespace reborn::server
