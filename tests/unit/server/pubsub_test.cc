#include "server/pubsub.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/notifications.h"

namespace reborn::server {
namespace {

// A session as a connection would hold it, and a helper to run one
// (un)subscribe command on it.
struct Client {
  explicit Client(uint64_t id, int protocol = 2) {
    session.id = id;
    session.protocol = protocol;
  }
  std::string Run(PubSub& pubsub, std::vector<std::string> args, bool subscribe,
                  PubSub::Kind kind) {
    std::string out;
    resp::ReplyWriter writer(&out, session.protocol);
    CommandSpec spec{"x", -1, 0, 0, 0, 0};
    CommandContext ctx{session, spec, args, writer};
    if (subscribe) {
      pubsub.Subscribe(ctx, kind);
    } else {
      pubsub.Unsubscribe(ctx, kind);
    }
    return out;
  }
  std::string Received() { return session.messages->Take(); }
  Session session;
};

TEST(PubSubTest, SubscribeConfirmsEachChannelWithTheRunningCount) {
  PubSub pubsub;
  Client c(1);
  EXPECT_EQ(c.Run(pubsub, {"subscribe", "a", "b", "a"}, true, PubSub::kChannel),
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
            "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n");
  EXPECT_TRUE(c.session.subscribed());
  EXPECT_EQ(pubsub.channel_count(), 2u);
}

TEST(PubSubTest, PublishCountsChannelAndPatternReceiversAndEncodesPerProtocol) {
  PubSub pubsub;
  Client resp2(1), resp3(2, 3);
  resp2.Run(pubsub, {"subscribe", "news"}, true, PubSub::kChannel);
  resp3.Run(pubsub, {"psubscribe", "n*"}, true, PubSub::kPattern);
  EXPECT_EQ(pubsub.Publish("news", "hi", false), 2);
  EXPECT_EQ(resp2.Received(),
            "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
  EXPECT_EQ(resp3.Received(),
            ">4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
  EXPECT_EQ(pubsub.Publish("other", "x", false), 0);
}

TEST(PubSubTest, ShardChannelsAreSeparateAndIgnorePatterns) {
  PubSub pubsub;
  Client c(1);
  EXPECT_EQ(c.Run(pubsub, {"ssubscribe", "s"}, true, PubSub::kShard),
            "*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n");
  c.Run(pubsub, {"psubscribe", "*"}, true, PubSub::kPattern);
  c.Received();
  EXPECT_EQ(pubsub.Publish("s", "m", true), 1);
  EXPECT_EQ(c.Received(), "*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nm\r\n");
  EXPECT_EQ(pubsub.Publish("s", "g", false), 1);  // the pattern only
}

TEST(PubSubTest, UnsubscribeWithNothingSubscribedRepliesNil) {
  PubSub pubsub;
  Client c(1), d(2, 3);
  EXPECT_EQ(c.Run(pubsub, {"unsubscribe"}, false, PubSub::kChannel),
            "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
  EXPECT_EQ(d.Run(pubsub, {"punsubscribe"}, false, PubSub::kPattern),
            ">3\r\n$12\r\npunsubscribe\r\n_\r\n:0\r\n");
}

TEST(PubSubTest, UnsubscribeAllDropsEverySubscription) {
  PubSub pubsub;
  Client c(1);
  c.Run(pubsub, {"subscribe", "a"}, true, PubSub::kChannel);
  c.Run(pubsub, {"psubscribe", "p*"}, true, PubSub::kPattern);
  c.Run(pubsub, {"ssubscribe", "s"}, true, PubSub::kShard);
  pubsub.UnsubscribeAll(c.session);
  EXPECT_FALSE(c.session.subscribed());
  EXPECT_EQ(pubsub.channel_count(), 0u);
  EXPECT_EQ(pubsub.pattern_count(), 0u);
  EXPECT_EQ(pubsub.shard_channel_count(), 0u);
  EXPECT_EQ(pubsub.Publish("a", "x", false), 0);
}

TEST(PubSubTest, SubscribedModeAllowsOnlyRedisCommands) {
  for (const char* name :
       {"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe",
        "sunsubscribe", "ping", "quit", "reset"}) {
    EXPECT_TRUE(PubSub::AllowedInSubscribedMode(name)) << name;
  }
  EXPECT_FALSE(PubSub::AllowedInSubscribedMode("get"));
  EXPECT_FALSE(PubSub::AllowedInSubscribedMode("publish"));
}

TEST(KeyspaceEventsTest, FlagsParseAndPrintAsRedisDoes) {
  EXPECT_EQ(KeyspaceEventsString(*ParseKeyspaceEvents("KEA")), "AKE");
  EXPECT_EQ(KeyspaceEventsString(*ParseKeyspaceEvents("Elg$x")), "g$lxE");
  EXPECT_EQ(KeyspaceEventsString(*ParseKeyspaceEvents("AKEmn")), "AKEm");
  EXPECT_EQ(KeyspaceEventsString(*ParseKeyspaceEvents("")), "");
  EXPECT_FALSE(ParseKeyspaceEvents("Kq").ok());
}

TEST(KeyspaceEventsTest, NotifyPublishesOnKeyspaceAndKeyeventChannels) {
  PubSub pubsub;
  Notifications notifications(pubsub);
  Client c(1);
  c.Run(pubsub, {"psubscribe", "__key*__:*"}, true, PubSub::kPattern);
  c.Received();
  notifications.Notify(kNotifyGeneric, "del", "k", 3);  // off: nothing
  EXPECT_EQ(c.Received(), "");
  notifications.set_flags(*ParseKeyspaceEvents("Kg"));
  EXPECT_TRUE(notifications.enabled());
  notifications.Notify(kNotifyString, "set", "k", 3);  // class not enabled
  notifications.Notify(kNotifyGeneric, "del", "k", 3);
  EXPECT_EQ(c.Received(),
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n"
            "$16\r\n__keyspace@3__:k\r\n$3\r\ndel\r\n");
  notifications.set_flags(*ParseKeyspaceEvents("Ex"));
  notifications.OnExpired(0, "gone");
  EXPECT_EQ(c.Received(),
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n"
            "$22\r\n__keyevent@0__:expired\r\n$4\r\ngone\r\n");
}

}  // namespace
}  // namespace reborn::server
