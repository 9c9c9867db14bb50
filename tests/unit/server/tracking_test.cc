#include "server/tracking.h"

#include <memory>
#include <string>
#include <vector>

#include "command/command_spec.h"
#include "gtest/gtest.h"

namespace reborn::server {
namespace {

// A client as the registry and its connection hold it.
struct Client {
  Client(net::ClientRegistry& registry, int protocol) {
    entry = std::make_shared<net::ClientEntry>();
    entry->id = registry.NextId();
    entry->protocol = protocol;
    entry->messages = std::make_shared<PushChannel>();
    registry.Add(entry, 0);
    session.id = entry->id;
    session.protocol = protocol;
    session.messages = entry->messages;
  }
  std::string Command(Tracking& tracking, std::vector<std::string> args) {
    std::string out;
    resp::ReplyWriter writer(&out, session.protocol);
    CommandContext ctx{session, *FindCommandSpec("client"), args, writer};
    tracking.ClientSubcommand(ToLower(args[1]), ctx);
    return out;
  }
  void Read(Tracking& tracking, std::vector<std::string> args) {
    tracking.RememberKeys(session, *FindCommandSpec(args[0]), args);
  }
  std::string Received() { return entry->messages->Take(); }
  std::shared_ptr<net::ClientEntry> entry;
  Session session;
};

TEST(TrackingTest, ReadKeyIsInvalidatedOnceForTheReader) {
  net::ClientRegistry registry;
  Tracking tracking(registry);
  Client reader(registry, 3);
  EXPECT_EQ(reader.Command(tracking, {"client", "tracking", "on"}), "+OK\r\n");
  EXPECT_TRUE(tracking.busy());
  reader.Read(tracking, {"get", "k"});
  tracking.InvalidateKey("other", 99);
  EXPECT_EQ(reader.Received(), "");
  tracking.InvalidateKey("k", 99);
  EXPECT_EQ(reader.Received(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
  tracking.InvalidateKey("k", 99);  // forgotten after the first message
  EXPECT_EQ(reader.Received(), "");
}

TEST(TrackingTest, OwnWriteWaitsForTheEndOfTheCommandUnlessNoloop) {
  net::ClientRegistry registry;
  Tracking tracking(registry);
  Client c(registry, 3);
  c.Command(tracking, {"client", "tracking", "on"});
  c.Read(tracking, {"get", "k"});
  tracking.InvalidateKey("k", c.session.id);
  EXPECT_EQ(c.Received(), "");
  tracking.AfterCommand(c.session, false);
  EXPECT_EQ(c.Received(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
  c.Command(tracking, {"client", "tracking", "on", "noloop"});
  c.Read(tracking, {"get", "k"});
  tracking.InvalidateKey("k", c.session.id);
  tracking.AfterCommand(c.session, false);
  EXPECT_EQ(c.Received(), "");
}

TEST(TrackingTest, Resp2RedirectGoesToSubscriberAsPubSubMessage) {
  net::ClientRegistry registry;
  Tracking tracking(registry);
  Client target(registry, 2), c(registry, 2);
  target.entry->sub = 1;
  c.Command(tracking, {"client", "tracking", "on", "redirect",
                       std::to_string(target.session.id)});
  c.Read(tracking, {"mget", "a", "b"});
  tracking.InvalidateAll(0);
  EXPECT_EQ(target.Received(),
            "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
  EXPECT_EQ(c.Received(), "");
  std::string stats;
  tracking.AppendStats(&stats);
  EXPECT_EQ(stats,
            "tracking_total_keys:0\r\ntracking_total_items:0\r\n"
            "tracking_total_prefixes:0\r\n");
}

TEST(TrackingTest, BroadcastCollectsKeysPerPrefixInByteOrder) {
  net::ClientRegistry registry;
  Tracking tracking(registry);
  Client c(registry, 3);
  EXPECT_EQ(c.Command(tracking, {"client", "tracking", "on", "bcast", "prefix",
                                 "a:", "prefix", "b:"}),
            "+OK\r\n");
  for (const char* key : {"a:2", "c:1", "a:1", "b:1"}) {
    tracking.InvalidateKey(key, 99);
  }
  EXPECT_EQ(c.Received(), "");
  tracking.FlushBroadcast();
  EXPECT_EQ(c.Received(),
            ">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\na:1\r\n$3\r\na:2\r\n"
            ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nb:1\r\n");
  EXPECT_EQ(
      c.Command(tracking, {"client", "tracking", "on", "bcast", "prefix", "a"}),
      "-ERR Prefix 'a' overlaps with an existing prefix 'a:'. "
      "Prefixes for a single client must not overlap.\r\n");
}

TEST(TrackingTest, TableLimitDropsKeysAndTellsTheirClients) {
  net::ClientRegistry registry;
  Tracking tracking(registry);
  Client c(registry, 3);
  c.Command(tracking, {"client", "tracking", "on"});
  c.Read(tracking, {"mget", "k1", "k2", "k3"});
  tracking.SetMaxKeys(1);
  std::string received = c.Received();
  size_t messages = 0;
  for (size_t pos = 0;
       (pos = received.find("invalidate", pos)) != std::string::npos; ++pos) {
    ++messages;
  }
  EXPECT_EQ(messages, 2u);
  std::string stats;
  tracking.AppendStats(&stats);
  EXPECT_NE(stats.find("tracking_total_keys:1\r\n"), std::string::npos);
}

TEST(TrackingTest, DisableForgetsTheClient) {
  net::ClientRegistry registry;
  Tracking tracking(registry);
  Client c(registry, 3);
  c.Command(tracking, {"client", "tracking", "on", "bcast"});
  EXPECT_EQ(tracking.client_count(), 1);
  EXPECT_EQ(c.entry->tracking.load(), 5u);  // t and B
  tracking.Disable(c.session);
  EXPECT_EQ(tracking.client_count(), 0);
  EXPECT_FALSE(c.session.tracking);
  EXPECT_EQ(c.entry->redirect.load(), -1);
  tracking.InvalidateKey("k", 0);
  tracking.FlushBroadcast();
  EXPECT_EQ(c.Received(), "");
}

}  // namespace
}  // namespace reborn::server
