#include "server/pubsub.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "util/glob.h"

namespace reborn::server {
namespace {

constexpr std::string_view kSubscribeVerb[] = {"subscribe", "psubscribe",
                                               "ssubscribe"};
constexpr std::string_view kUnsubscribeVerb[] = {"unsubscribe", "punsubscribe",
                                                 "sunsubscribe"};

void AppendBulk(std::string* out, std::string_view s) {
  absl::StrAppend(out, "$", s.size(), "\r\n");
  out->append(s);
  out->append("\r\n");
}

// A message as Redis sends it: an array (RESP2) or a push (RESP3) of bulks.
std::string EncodeMessage(int protocol,
                          std::initializer_list<std::string_view> parts) {
  std::string out =
      absl::StrCat(protocol >= 3 ? ">" : "*", parts.size(), "\r\n");
  for (std::string_view p : parts) AppendBulk(&out, p);
  return out;
}

// The count a (un)subscribe confirmation carries: global channels and
// patterns together, shard channels alone (Redis 7.0).
int64_t CountFor(const Session& session, PubSub::Kind kind) {
  return kind == PubSub::kShard ? session.sub_shard_channels
                                : session.sub_channels + session.sub_patterns;
}

int* CounterOf(Session& session, PubSub::Kind kind) {
  switch (kind) {
    case PubSub::kChannel:
      return &session.sub_channels;
    case PubSub::kPattern:
      return &session.sub_patterns;
    case PubSub::kShard:
      break;
  }
  return &session.sub_shard_channels;
}

}  // namespace

bool PubSub::AllowedInSubscribedMode(std::string_view name) {
  return name == "subscribe" || name == "psubscribe" || name == "ssubscribe" ||
         name == "unsubscribe" || name == "punsubscribe" ||
         name == "sunsubscribe" || name == "ping" || name == "quit" ||
         name == "reset";
}

void PubSub::WriteConfirmation(CommandContext& ctx, std::string_view verb,
                               const std::string* name, int64_t count) {
  ctx.session.reply_is_push = true;
  if (ctx.reply.protocol() >= 3) {
    ctx.reply.PushHeader(3);
  } else {
    ctx.reply.ArrayHeader(3);
  }
  ctx.reply.Bulk(verb);
  if (name != nullptr) {
    ctx.reply.Bulk(*name);
  } else {
    ctx.reply.Null();
  }
  ctx.reply.Integer(count);
}

void PubSub::Subscribe(CommandContext& ctx, Kind kind) {
  Session& session = ctx.session;
  if (!session.pubsub) {
    session.pubsub = std::make_shared<PubSubState>();
    auto sub = std::make_shared<Subscriber>();
    sub->id = session.id;
    // The connection's own channel when it has one (it carries client
    // tracking's invalidations too).
    if (!session.messages) session.messages = std::make_shared<PushChannel>();
    sub->out = session.messages;
    session.pubsub->subscriber = sub;
  }
  PubSubState& state = *session.pubsub;
  state.subscriber->protocol.store(session.protocol);
  std::vector<std::string>& names = state.names[kind];
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    const std::string& name = ctx.args[i];
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
      ++*CounterOf(session, kind);
      absl::MutexLock lock(&mu_);
      Subscribers& subs = registry(kind)[name];
      if (subs.empty() && kind == kPattern) pattern_order_.push_back(name);
      subs.emplace(session.id, state.subscriber);
    }
    WriteConfirmation(ctx, kSubscribeVerb[kind], &name,
                      CountFor(session, kind));
  }
}

bool PubSub::RemoveLocked(Kind kind, const std::string& name, uint64_t id) {
  Registry& reg = registry(kind);
  auto it = reg.find(name);
  if (it == reg.end()) return false;
  it->second.erase(id);
  if (it->second.empty()) {
    reg.erase(it);
    if (kind == kPattern) {
      pattern_order_.erase(
          std::find(pattern_order_.begin(), pattern_order_.end(), name));
    }
  }
  return true;
}

void PubSub::Unsubscribe(CommandContext& ctx, Kind kind) {
  Session& session = ctx.session;
  std::vector<std::string> empty;
  std::vector<std::string>& names =
      session.pubsub ? session.pubsub->names[kind] : empty;
  std::vector<std::string> targets;
  if (ctx.args.size() == 1) {
    targets = names;
  } else {
    targets.assign(ctx.args.begin() + 1, ctx.args.end());
  }
  if (targets.empty()) {
    WriteConfirmation(ctx, kUnsubscribeVerb[kind], nullptr,
                      CountFor(session, kind));
    return;
  }
  for (const std::string& name : targets) {
    auto it = std::find(names.begin(), names.end(), name);
    if (it != names.end()) {
      names.erase(it);
      --*CounterOf(session, kind);
      absl::MutexLock lock(&mu_);
      RemoveLocked(kind, name, session.id);
    }
    WriteConfirmation(ctx, kUnsubscribeVerb[kind], &name,
                      CountFor(session, kind));
  }
}

void PubSub::UnsubscribeAll(Session& session) {
  if (!session.pubsub) return;
  {
    absl::MutexLock lock(&mu_);
    for (Kind kind : {kChannel, kPattern, kShard}) {
      for (const std::string& name : session.pubsub->names[kind]) {
        RemoveLocked(kind, name, session.id);
      }
      session.pubsub->names[kind].clear();
    }
  }
  session.sub_channels = 0;
  session.sub_patterns = 0;
  session.sub_shard_channels = 0;
}

void PubSub::AfterCommand(Session& session) {
  if (session.pubsub) {
    session.pubsub->subscriber->protocol.store(session.protocol,
                                               std::memory_order_relaxed);
  }
}

int64_t PubSub::Publish(std::string_view channel, std::string_view message,
                        bool sharded) {
  // Encoded lazily, once per RESP version.
  std::string encoded[2];
  auto deliver = [&](Subscriber& sub, auto&& encode) {
    const int v = sub.protocol.load(std::memory_order_relaxed) >= 3 ? 1 : 0;
    if (encoded[v].empty()) encoded[v] = encode(v == 1 ? 3 : 2);
    sub.out->Push(encoded[v]);
  };
  int64_t receivers = 0;
  absl::ReaderMutexLock lock(&mu_);
  const Registry& channels = registries_[sharded ? kShard : kChannel];
  if (auto it = channels.find(std::string(channel)); it != channels.end()) {
    for (const auto& [id, sub] : it->second) {
      deliver(*sub, [&](int protocol) {
        return EncodeMessage(
            protocol, {sharded ? "smessage" : "message", channel, message});
      });
      ++receivers;
    }
  }
  if (sharded) return receivers;
  for (const std::string& pattern : pattern_order_) {
    if (!GlobMatch(pattern, channel)) continue;
    const Subscribers& subs = registries_[kPattern].find(pattern)->second;
    encoded[0].clear();
    encoded[1].clear();
    for (const auto& [id, sub] : subs) {
      deliver(*sub, [&](int protocol) {
        return EncodeMessage(protocol, {"pmessage", pattern, channel, message});
      });
      ++receivers;
    }
  }
  return receivers;
}

void PubSub::PublishCommand(CommandContext& ctx, bool sharded) {
  const int64_t receivers = Publish(ctx.args[1], ctx.args[2], sharded);
  ctx.reply.Integer(receivers);
}

void PubSub::Introspect(CommandContext& ctx) {
  auto& args = ctx.args;
  const std::string sub = absl::AsciiStrToLower(args[1]);
  auto list_channels = [&](Kind kind) {
    std::vector<std::string> names;
    {
      absl::ReaderMutexLock lock(&mu_);
      for (const auto& [name, subs] : registries_[kind]) {
        if (args.size() == 2 || GlobMatch(args[2], name)) {
          names.push_back(name);
        }
      }
    }
    ctx.reply.BulkArray(names);
  };
  auto num_sub = [&](Kind kind) {
    ctx.reply.ArrayHeader((args.size() - 2) * 2);
    for (size_t i = 2; i < args.size(); ++i) {
      size_t n = 0;
      {
        absl::ReaderMutexLock lock(&mu_);
        auto it = registries_[kind].find(args[i]);
        if (it != registries_[kind].end()) n = it->second.size();
      }
      ctx.reply.Bulk(args[i]);
      ctx.reply.Integer(static_cast<int64_t>(n));
    }
  };
  if (sub == "help" && args.size() == 2) {
    static const char* kHelp[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> "
        "(default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, "
        "excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a "
        "<pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level "
        "channel(s)",
        "HELP",
        "    Prints this help."};
    ctx.reply.ArrayHeader(std::size(kHelp));
    for (const char* line : kHelp) ctx.reply.SimpleString(line);
  } else if ((sub == "help" || sub == "numpat") && args.size() > 2) {
    ctx.reply.Error(WrongArityError(absl::StrCat("pubsub|", sub)));
  } else if (sub == "channels" && args.size() <= 3) {
    list_channels(kChannel);
  } else if (sub == "numsub") {
    num_sub(kChannel);
  } else if (sub == "numpat") {
    ctx.reply.Integer(static_cast<int64_t>(pattern_count()));
  } else if (sub == "shardchannels" && args.size() <= 3) {
    list_channels(kShard);
  } else if (sub == "shardnumsub") {
    num_sub(kShard);
  } else if (sub == "channels" || sub == "shardchannels") {
    ctx.reply.Error(
        absl::StrCat("ERR unknown subcommand or wrong number of "
                     "arguments for '",
                     args[1], "'. Try PUBSUB HELP."));
  } else {
    ctx.reply.Error(UnknownSubcommandError("pubsub", args[1]));
  }
}

size_t PubSub::channel_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return registries_[kChannel].size();
}
size_t PubSub::pattern_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return registries_[kPattern].size();
}
size_t PubSub::shard_channel_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return registries_[kShard].size();
}

absl::Status RegisterPubSubCommands(PubSub& pubsub, CommandTable& table) {
  using K = PubSub::Kind;
  const std::pair<const char*, CommandHandler> handlers[] = {
      {"subscribe",
       [&](CommandContext& c) { pubsub.Subscribe(c, K::kChannel); }},
      {"psubscribe",
       [&](CommandContext& c) { pubsub.Subscribe(c, K::kPattern); }},
      {"ssubscribe",
       [&](CommandContext& c) { pubsub.Subscribe(c, K::kShard); }},
      {"unsubscribe",
       [&](CommandContext& c) { pubsub.Unsubscribe(c, K::kChannel); }},
      {"punsubscribe",
       [&](CommandContext& c) { pubsub.Unsubscribe(c, K::kPattern); }},
      {"sunsubscribe",
       [&](CommandContext& c) { pubsub.Unsubscribe(c, K::kShard); }},
      {"publish", [&](CommandContext& c) { pubsub.PublishCommand(c, false); }},
      {"spublish", [&](CommandContext& c) { pubsub.PublishCommand(c, true); }},
      {"pubsub", [&](CommandContext& c) { pubsub.Introspect(c); }},
  };
  for (const auto& [name, handler] : handlers) {
    absl::Status s = table.Register(name, handler);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace reborn::server
